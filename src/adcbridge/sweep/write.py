"""Writing a sweep's outputs, all at once: ``results.parquet``, ``summary.html`` and ``sweep.json``."""

from __future__ import annotations

import json
from pathlib import Path

from adcbridge.io.files import PreviousOutput, check_previous_output, output_folder

__all__ = ["SWEEP_FILES", "SWEEP_OUTPUT", "check_sweep_folder", "write_sweep"]

#: the files a sweep writes into its output folder
SWEEP_FILES = ("results.parquet", "summary.html", "sweep.json")
_RECORD_KEYS = {"adcbridge_version", "trials", "seed", "sweep", "cells"}


def _is_sweep_record(path: Path) -> bool:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and _RECORD_KEYS <= set(record) and isinstance(record["cells"], list)


def _sweep_output_problem(folder: Path) -> str | None:
    return None if _is_sweep_record(folder / "sweep.json") else "has no sweep.json of a sweep"


#: What ``adcbridge sweep`` (:func:`write_sweep`) writes into its output folder, so that ``force`` replaces a
#: previous sweep's output and nothing else (:func:`adcbridge.io.files.check_previous_output`).
SWEEP_OUTPUT = PreviousOutput("adcbridge sweep", files=SWEEP_FILES, check=_sweep_output_problem)


def check_sweep_folder(out: str | Path, force: bool) -> None:
    """Refuse (a ValueError naming ``out``) to replace an existing folder with ``force`` unless it is a previous
    sweep's output -- its ``sweep.json`` written by ``adcbridge sweep`` and nothing but the files a sweep writes
    (:data:`SWEEP_FILES`) -- or empty (:data:`SWEEP_OUTPUT`, :func:`adcbridge.io.files.check_previous_output`).
    Without ``force`` an existing folder is refused by the common check (:func:`adcbridge.io.files.
    check_new_folder`)."""
    check_previous_output(out, force, SWEEP_OUTPUT)


def sweep_record(result) -> dict:
    """Everything needed to check or redo the sweep: the file's settings, and per cell its design spec, scenario,
    chunk seeds and pooled operating characteristics (no time stamp: the same sweep gives the same bytes)."""
    from adcbridge import __version__
    from adcbridge.results import json_ready
    cells = []
    for cell, rec in zip(result.cells, result.records):
        cells.append({"design": cell.label, "design_name": cell.design.spec_name,
                      "spec": json_ready(cell.design.model_dump(mode="json")), "scenario": cell.scenario,
                      "n_cohorts": cell.n_cohorts, "truths": json_ready(cell.truths),
                      "chunk_seeds": result.seeds[cell.index], "oc": rec})
    return {"adcbridge_version": __version__, "trials": result.sweep.trials, "seed": result.sweep.seed,
            "sweep": json_ready(result.sweep.model_dump(mode="json")), "cells": cells}


def write_sweep(result, out: str | Path, *, force: bool = False) -> Path:
    """Write the outputs of ``result`` into the folder ``out`` at once (nothing is left on an error).  ``force``
    replaces an existing folder only when it is empty or a previous sweep's output (:func:`check_sweep_folder`),
    checked before the outputs are made and again just before the folder is replaced."""
    from .summary import summary_html
    out = Path(out)
    table = result.table()
    with output_folder(out, force, previous=SWEEP_OUTPUT) as staging:
        table.to_parquet(staging / "results.parquet", index=False)
        (staging / "summary.html").write_text(summary_html(result, table), encoding="utf-8")
        (staging / "sweep.json").write_text(json.dumps(sweep_record(result), indent=1, allow_nan=False) + "\n",
                                            encoding="utf-8")
    return out
