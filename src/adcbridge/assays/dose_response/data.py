"""Checking and arranging dose-response input: one long table of (curve, concentration, response).

Bad input raises :class:`ValueError` naming the column, row or curve: a missing column, a non-numeric or
infinite value, a negative concentration, an unlabelled curve (these in the one message shape of
:mod:`adcbridge.validation`: ``conc.csv: column 'conc', line 14 (plate 'A'): expected a number >= 0, got '-1'``),
a constant response or too few distinct concentrations for the parameters to be estimated.  Rows with a missing
concentration or response are left out and reported (drc's ``na.omit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge import validation
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


def numeric_column(data: pd.DataFrame, column: str, role: str = "") -> np.ndarray:
    """Column ``column`` as floats (NaN for missing); a :class:`~adcbridge.validation.TableError` naming the
    column and the first bad row for text that is not a number and for infinite values.  (``role`` is kept for
    callers that name it; the message names the column.)"""
    return validation.numeric_column(data, column, allow_missing=True)


def _curve_labels(data: pd.DataFrame, curve: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    if curve is None:
        return np.zeros(len(data), dtype=np.intp), ("1",)
    raw = validation.label_column(data, curve, what="a curve label")
    codes, uniques = pd.factorize(raw, sort=False)
    return codes.astype(np.intp), tuple(str(u) for u in uniques)


def prepare_curves(data: pd.DataFrame, *, x: str, y: str, curve: str | None = None,
                   x_column_role: str = "concentration") -> CurveData:
    """Validate ``data`` and return its (curve, x, y) observations.  See the module docstring for the checks
    that raise (one message shape, :mod:`adcbridge.validation`); the parameter-count checks are in
    :func:`check_curve_counts`."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"dose-response data must be a pandas DataFrame, got {type(data).__name__}")
    validation.require_columns(data, [x, y, curve])
    if data.empty:
        raise validation.table_error(data, "the dose-response table has no rows")
    codes, labels = _curve_labels(data, curve)
    xv = validation.numeric_column(data, x, min=0, allow_missing=True, key=curve)
    yv = validation.numeric_column(data, y, allow_missing=True, key=curve)
    missing = np.isnan(xv) | np.isnan(yv)
    issues = []
    if missing.any():
        rows = np.flatnonzero(missing)
        issues.append(Issue("missing_values", f"{len(rows)} row(s) with a missing {x_column_role} or response left "
                                              f"out ({validation.row_places(data, rows)})", "info"))
        keep = ~missing
        xv, yv, codes = xv[keep], yv[keep], codes[keep]
    present = np.unique(codes)
    if len(present) < len(labels):
        gone = [labels[k] for k in range(len(labels)) if k not in set(present.tolist())]
        raise validation.table_error(data, f"curve(s) {gone} have no observation with both a {x_column_role} and a "
                                           f"response")
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
