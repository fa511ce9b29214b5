"""The time model of the TITE-BOIN simulator: times to DLT and patient arrivals (TITEgBOIN 0.4.0
``get_oc_TITE_QuasiBOIN``; SPEC 1.6).

**Times to DLT** are Weibull, calibrated per dose so that a patient at a dose with true DLT probability p has a DLT
within the window W with probability p, and a share ``late_onset`` (alpha1) of those DLTs falls in the last
``late_window`` (alpha2) fraction of the window::

    F(W) = p,   F((1 - alpha2) W) = (1 - alpha1) p,   F(t) = 1 - exp(-(t / scale)^shape)
    shape = log( log(1 - (1 - alpha1) p) / log(1 - p) ) / log(1 - alpha2),   scale = W / (-log(1 - p))^(1 / shape)

One uniform u per patient gives both the outcome and the time: a DLT iff u < p, at time ``F^-1(u)`` (< W).
(alpha1 = alpha2 = 0.5 gives bfboin's parameters: Pr(T < W/2) = p/2.)  p = 0 never gives a DLT; p = 1 always
does, with the times of p = 1 - 1e-9.

**Arrivals**: the gaps between patients are exponential with rate ``accrual_rate`` per unit of time
(``"poisson"``, TITEgBOIN's model) or uniform on (0, 2 / accrual_rate) (``"uniform"``, bfboin's), mean
1 / accrual_rate either way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weibull_parameters", "dlt_times", "draw_gaps", "ACCRUALS", "check_scenario"]

ACCRUALS = ("poisson", "uniform")
_P_MAX = 1.0 - 1e-9


def weibull_parameters(p, window: float, late_onset: float, late_window: float) -> tuple[np.ndarray, np.ndarray]:
    """(shape, scale) per dose for true DLT probabilities ``p`` (see the module docstring)."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, _P_MAX)
    shape = np.log(np.log1p(-(1.0 - late_onset) * p) / np.log1p(-p)) / np.log(1.0 - late_window)
    scale = window / (-np.log1p(-p)) ** (1.0 / shape)
    return shape, scale


def dlt_times(u: np.ndarray, shape: np.ndarray, scale: np.ndarray, window: float) -> np.ndarray:
    """Time to DLT ``F^-1(u)`` for uniforms ``u`` with per-patient Weibull ``shape`` and ``scale`` (only used where
    u < p; capped below the window against rounding)."""
    t = scale * (-np.log1p(-np.minimum(u, _P_MAX))) ** (1.0 / shape)
    return np.minimum(t, window * (1.0 - 1e-12))


def draw_gaps(rng: np.random.Generator, size, rate: float, accrual: str) -> np.ndarray:
    """Gaps between arrivals: exponential (``"poisson"``) or uniform on (0, 2 / rate)."""
    if accrual == "poisson":
        return rng.exponential(1.0 / rate, size)
    return rng.uniform(0.0, 2.0 / rate, size)


def check_scenario(accrual_rate, late_onset, late_window, accrual) -> tuple[float, float, float, str]:
    """The scenario options, checked; each error names the option."""
    for name, v in (("accrual_rate", accrual_rate), ("late_onset", late_onset), ("late_window", late_window)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"The '{name}' scenario option of tite-boin must be a finite number. Got {v!r}.")
    if accrual_rate <= 0:
        raise ValueError(f"The 'accrual_rate' scenario option of tite-boin must be > 0 (patients per unit of time). "
                         f"Got {accrual_rate!r}.")
    for name, v in (("late_onset", late_onset), ("late_window", late_window)):
        if not 0 < v < 1:
            raise ValueError(f"The '{name}' scenario option of tite-boin must be in (0, 1). Got {v!r}.")
    if accrual not in ACCRUALS:
        raise ValueError(f"The 'accrual' scenario option of tite-boin must be 'poisson' or 'uniform'. Got {accrual!r}.")
    return float(accrual_rate), float(late_onset), float(late_window), accrual
