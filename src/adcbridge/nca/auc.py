"""Areas under the concentration-time and first-moment curves, segment by segment, for many profiles at once.

For a segment [t1, t2] with concentrations C1, C2 (dt = t2 - t1):

* linear: AUC = dt (C1 + C2) / 2, AUMC = dt (t1 C1 + t2 C2) / 2;
* log: with k = ln(C1 / C2) / dt, AUC = (C1 - C2) / k, AUMC = (t1 C1 - t2 C2) / k + (C1 - C2) / k^2.

Methods: ``"linear"`` uses the linear rule everywhere; ``"lin-up-log-down"`` uses the log rule where the
concentration falls to a value > 0 (C2 < C1 and C2 > 0) and the linear rule otherwise (rising, flat, or down to
0).  The linear drop to a BLQ 0 is PKNCA's and Phoenix's rule; NonCompart applies the log rule there too and so
gets no area (its AUCall then equals AUClast) -- adcbridge does not follow that.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METHODS", "segment_areas", "uses_log", "interpolate"]

METHODS = ("linear", "lin-up-log-down")


def uses_log(c1: np.ndarray, c2: np.ndarray, method: str) -> np.ndarray:
    if method == "linear":
        return np.zeros(np.broadcast(c1, c2).shape, dtype=bool)
    return (c2 < c1) & (c2 > 0) & (c1 > 0)


def segment_areas(t: np.ndarray, c: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(AUC, AUMC) of every segment between consecutive columns; NaN where either end is missing."""
    if method not in METHODS:
        raise ValueError(f"The 'auc_method' option must be one of {METHODS}. Got {method!r}.")
    t1, t2, c1, c2 = t[:, :-1], t[:, 1:], c[:, :-1], c[:, 1:]
    dt = t2 - t1
    auc = dt * (c1 + c2) / 2
    aumc = dt * (t1 * c1 + t2 * c2) / 2
    log = uses_log(c1, c2, method)
    if log.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.log(c1 / c2) / dt
            auc = np.where(log, (c1 - c2) / k, auc)
            aumc = np.where(log, (t1 * c1 - t2 * c2) / k + (c1 - c2) / (k * k), aumc)
    return auc, aumc


def interpolate(t1, c1, t2, c2, t, method: str):
    """Concentration at t in [t1, t2]: linear, or log-linear on a falling segment with the log method."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (t - t1) / (t2 - t1)
        lin = c1 + (c2 - c1) * frac
        log = c1 * np.exp(np.log(c2 / c1) * frac)
    return np.where(uses_log(c1, c2, method), log, lin)
