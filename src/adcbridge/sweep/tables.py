"""The sweep's results as one long table: one row per design x scenario x sample size x dose.

Columns: ``design`` (the label in the sweep file), ``design_name`` (the registered design), ``scenario``,
``n_cohorts`` (the sample size; empty when the sweep has none), ``dose`` (the level, ``"a,b"`` for a combination),
for a combination ``dose_a`` and ``dose_b`` (the levels of agents A and B, 1-based), ``p_true``, then the per-dose
operating characteristics ``selection_pct``, ``patients_mean``, ``dlt_mean`` and a design's own per-dose ones
(e.g. ``backfill_patients_mean``), each with its Monte Carlo SE in ``<name>_se``; a combination design's
quantities per level of agent A (the MTD contour's ``no_mtd_row_pct`` and ``pcs_row``, one value per row of the
J x K grid) on every combination of that row, with their SEs; then the trial-level summaries repeated on each of
the cell's rows (``pcs``, ``no_mtd_pct``, ``stop_pct``, ``n_mean``, ``dlt_total_mean``, ``duration_mean`` where
the design runs in time, and a design's own), with their SEs; then ``trials`` and ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["results_table"]

_META = {"design", "method", "target", "p_true", "se", "seed", "n_trials", "n_terminal_states"}


def _flat(value) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in np.asarray(value, dtype=object).ravel()], dtype=float)


def _labels(p_true) -> list[str]:
    p = np.asarray(p_true, dtype=float)
    if p.ndim == 2:
        return [f"{a},{b}" for a in range(1, p.shape[0] + 1) for b in range(1, p.shape[1] + 1)]
    return [str(j) for j in range(1, p.size + 1)]


def _per_dose(value, n_cells: int, grid: tuple[int, int] | None) -> np.ndarray | None:
    """``value`` (a list of the record) on the cell's doses: one value per dose (a J x K grid row by row), or, on a
    J x K grid, one value per row of agent A repeated on the K combinations of the row; None for another length."""
    arr = _flat(value)
    if arr.size == n_cells:
        return arr
    if grid is not None and arr.size == grid[0]:
        return np.repeat(arr, grid[1])
    return None


def results_table(result) -> pd.DataFrame:
    rows = []
    any_grid = False
    for cell, rec in zip(result.cells, result.records):
        labels = _labels(cell.p_true)
        J = len(labels)
        shape = np.shape(np.asarray(cell.p_true, dtype=float))
        grid = shape if len(shape) == 2 else None
        any_grid |= grid is not None
        se = rec.get("se") or {}
        per_dose, per_trial = {}, {}
        for key, value in rec.items():
            if key in _META or isinstance(value, (str, bool)) or value is None:
                continue
            if isinstance(value, list):
                arr = _per_dose(value, J, grid)
                if arr is not None:
                    per_dose[key] = arr
                    if key in se:
                        se_arr = _per_dose(se[key], J, grid) if isinstance(se[key], list) else None
                        per_dose[f"{key}_se"] = se_arr if se_arr is not None else np.full(J, np.nan)
            elif isinstance(value, (int, float)):
                per_trial[key] = float(value)
                if key in se and se[key] is not None:
                    per_trial[f"{key}_se"] = float(se[key])
        p = _flat(cell.p_true)
        for j in range(J):
            row = {"design": cell.label, "design_name": cell.design.spec_name, "scenario": cell.scenario,
                   "n_cohorts": cell.n_cohorts, "dose": labels[j]}
            if grid is not None:
                row.update({"dose_a": j // grid[1] + 1, "dose_b": j % grid[1] + 1})
            row["p_true"] = p[j]
            row["target"] = float(rec["target"]) if rec.get("target") is not None else np.nan   # PCS etc. against it
            row.update({k: v[j] for k, v in per_dose.items()})
            row.update(per_trial)
            row.update({"trials": int(rec["n_trials"]), "seed": int(rec["seed"])})
            rows.append(row)
    table = pd.DataFrame(rows)
    table["n_cohorts"] = table["n_cohorts"].astype("Int64")
    first = ["design", "design_name", "scenario", "n_cohorts", "dose"]
    if any_grid:
        for c in ("dose_a", "dose_b"):
            table[c] = table[c].astype("Int64")
        first += ["dose_a", "dose_b"]
    first += ["p_true", "target"]
    ordered = first + [c for c in ("selection_pct", "selection_pct_se", "patients_mean", "patients_mean_se",
                                   "dlt_mean", "dlt_mean_se") if c in table]
    rest = [c for c in table.columns if c not in ordered and c not in ("trials", "seed")]
    return table[ordered + rest + ["trials", "seed"]]
