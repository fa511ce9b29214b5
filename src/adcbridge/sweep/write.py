"""Writing a sweep's outputs, all at once: ``results.parquet``, ``summary.html`` and ``sweep.json``."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["SWEEP_FILES", "check_sweep_folder", "write_sweep"]

#: the files a sweep writes into its output folder
SWEEP_FILES = ("results.parquet", "summary.html", "sweep.json")
_RECORD_KEYS = {"adcbridge_version", "trials", "seed", "sweep", "cells"}


def _is_sweep_record(path: Path) -> bool:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(record, dict) and _RECORD_KEYS <= set(record) and isinstance(record["cells"], list)


def check_sweep_folder(out: str | Path, force: bool) -> None:
    """Refuse (a ValueError naming ``out``) to replace an existing folder with ``force`` unless it is a previous
    sweep's output -- its ``sweep.json`` written by ``adcbridge sweep`` and nothing but the files a sweep writes
    (:data:`SWEEP_FILES`) -- or empty.  Without ``force`` an existing folder is refused by the common check
    (:func:`adcbridge.io.files.check_new_folder`)."""
    out = Path(out)
    if not force or not (out.exists() or out.is_symlink()):
        return
    if out.is_symlink():
        raise ValueError(f"{out}: is a link; --force replaces only a folder written by adcbridge sweep")
    if not out.is_dir():
        return                                      # a file: refused by the common check, in its words
    try:
        names = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise ValueError(f"{out}: cannot list the folder ({exc.strerror or exc}); --force replaces only a folder "
                         f"written by adcbridge sweep") from None
    if not names:
        return
    others = [n for n in names if n not in SWEEP_FILES or not (out / n).is_file() or (out / n).is_symlink()]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ValueError(f"{out}: --force replaces only a folder written by adcbridge sweep, and this one holds "
                         f"{shown}; choose another folder")
    if "sweep.json" not in names or not _is_sweep_record(out / "sweep.json"):
        raise ValueError(f"{out}: --force replaces only a folder written by adcbridge sweep, and this one has no "
                         f"sweep.json of a sweep; choose another folder")


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
    replaces an existing folder only when it is a previous sweep's output (:func:`check_sweep_folder`)."""
    from adcbridge.io.files import output_folder

    from .summary import summary_html
    out = Path(out)
    table = result.table()
    check_sweep_folder(out, force)
    with output_folder(out, force) as staging:
        table.to_parquet(staging / "results.parquet", index=False)
        (staging / "summary.html").write_text(summary_html(result, table), encoding="utf-8")
        (staging / "sweep.json").write_text(json.dumps(sweep_record(result), indent=1, allow_nan=False) + "\n",
                                            encoding="utf-8")
    return out
