"""Checking and arranging dose-response input: one long table of (curve, concentration, response).

Bad input raises :class:`ValueError` naming the column, row or curve: a missing column, a non-numeric or
infinite value, a negative concentration, an unlabelled curve, a constant response or too few distinct
concentrations for the parameters to be estimated.  Rows with a missing concentration or response are left out
and reported (drc's ``na.omit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge.results import Issue

__all__ = ["CurveData", "numeric_column", "prepare_curves"]


@dataclass(frozen=True)
class CurveData:
    """Validated observations: ``x`` (dose), ``y`` (response), ``curve`` (integer code into ``labels``),
    ``labels`` (curve names in order of first appearance), ``issues`` (rows left out)."""

    x: np.ndarray
    y: np.ndarray
    curve: np.ndarray
    labels: tuple[str, ...]
    issues: tuple[Issue, ...] = ()

    @property
    def n_curves(self) -> int:
        return len(self.labels)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"curve": np.asarray(self.labels, dtype=object)[self.curve], "x": self.x, "y": self.y})


def numeric_column(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Column ``column`` as floats (NaN for missing); ValueError naming the column and first bad row for text
    that is not a number or for infinite values."""
    if column not in data.columns:
        raise ValueError(f"the {role} column {column!r} is missing; the table has {list(map(str, data.columns))}")
    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"the {role} column {column!r} must be numeric: row {i + 1} holds {raw.iloc[i]!r}")
    out = values.to_numpy(dtype=float)
    inf = np.isinf(out)
    if inf.any():
        i = int(np.flatnonzero(inf)[0])
        raise ValueError(f"the {role} column {column!r} must be finite: row {i + 1} holds {out[i]}")
    return out


def _curve_labels(data: pd.DataFrame, curve: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    if curve is None:
        return np.zeros(len(data), dtype=np.intp), ("1",)
    if curve not in data.columns:
        raise ValueError(f"the curve column {curve!r} is missing; the table has {list(map(str, data.columns))}")
    raw = data[curve]
    if raw.isna().any():
        i = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise ValueError(f"the curve column {curve!r} has no label in row {i + 1}")
    codes, uniques = pd.factorize(raw, sort=False)
    return codes.astype(np.intp), tuple(str(u) for u in uniques)


def prepare_curves(data: pd.DataFrame, *, x: str, y: str, curve: str | None = None,
                   x_column_role: str = "concentration") -> CurveData:
    """Validate ``data`` and return its (curve, x, y) observations.  See the module docstring for the checks
    that raise; the parameter-count checks are in :func:`check_curve_counts`."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"dose-response data must be a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise ValueError("the dose-response table has no rows")
    xv = numeric_column(data, x, x_column_role)
    yv = numeric_column(data, y, "response")
    codes, labels = _curve_labels(data, curve)
    neg = xv < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        where = f" (curve {labels[codes[i]]!r})" if curve is not None else ""
        raise ValueError(f"the {x_column_role} column {x!r} must not be negative: row {i + 1}{where} holds {xv[i]:g}")
    missing = np.isnan(xv) | np.isnan(yv)
    issues = []
    if missing.any():
        rows = np.flatnonzero(missing) + 1
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        issues.append(Issue("missing_values", f"{len(rows)} row(s) with a missing {x_column_role} or response left "
                                              f"out (rows {shown})", "info"))
        keep = ~missing
        xv, yv, codes = xv[keep], yv[keep], codes[keep]
    present = np.unique(codes)
    if len(present) < len(labels):
        gone = [labels[k] for k in range(len(labels)) if k not in set(present.tolist())]
        raise ValueError(f"curve(s) {gone} have no observation with both a {x_column_role} and a response")
    return CurveData(xv, yv, codes, labels, tuple(issues))


def check_curve_counts(data: CurveData, per_curve: list[int], total: list[int], n_parameters: int) -> list[Issue]:
    """Raise ValueError when a curve has a constant response, fewer distinct concentrations than its own
    (curve-specific) parameters ``per_curve[k]``, or when the fit would have no residual degree of freedom.
    Returns warnings for curves with fewer distinct concentrations than all the parameters that shape them
    (``total[k]``, shared ones included): their shape then rests on the other curves."""
    issues = []
    cells = 0
    for k, label in enumerate(data.labels):
        sel = data.curve == k
        xs, ys = data.x[sel], data.y[sel]
        n_doses = len(np.unique(xs))
        cells += n_doses
        name = f"curve {label!r}" if data.n_curves > 1 else "the curve"
        if np.ptp(ys) == 0:
            raise ValueError(f"{name} has a constant response ({ys[0]:g}); no dose-response curve can be fitted")
        if n_doses < per_curve[k]:
            raise ValueError(f"{name} has {n_doses} distinct concentration(s), fewer than its {per_curve[k]} "
                             f"curve-specific parameters")
        if n_doses < total[k]:
            issues.append(Issue("few_concentrations", f"{name} has {n_doses} distinct concentration(s), fewer than "
                                                      f"the {total[k]} parameters of its curve; its shape rests on "
                                                      f"parameters shared with other curves"))
    if len(data.y) <= n_parameters:
        raise ValueError(f"{len(data.y)} observations cannot estimate {n_parameters} parameters with a residual "
                         f"degree of freedom left")
    if cells < n_parameters:
        raise ValueError(f"only {cells} distinct (curve, concentration) cells for {n_parameters} parameters")
    return issues
