"""Writing a sweep's outputs, all at once: ``results.parquet``, ``summary.html`` and ``sweep.json``."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["write_sweep"]


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
    """Write the outputs of ``result`` into the folder ``out`` at once (nothing is left on an error)."""
    from adcbridge.io.files import output_folder

    from .summary import summary_html
    out = Path(out)
    table = result.table()
    with output_folder(out, force) as staging:
        table.to_parquet(staging / "results.parquet", index=False)
        (staging / "summary.html").write_text(summary_html(result, table), encoding="utf-8")
        (staging / "sweep.json").write_text(json.dumps(sweep_record(result), indent=1, allow_nan=False) + "\n",
                                            encoding="utf-8")
    return out
