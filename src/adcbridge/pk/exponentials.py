"""Closed-form concentrations and AUCs of linear models: sums of exponentials with superposition.

A linear model's response to a unit bolus dose is ``u(s) = sum_m B_m exp(-lambda_m s)`` (``s`` = time since the
dose, ``B`` in concentration per dose unit).  Doses at ``t_d`` with amount ``D_d`` and duration ``T_d``
(``T_d = 0``: bolus) superpose::

    C(t) = sum_d D_d sum_m B_m g_m(t - t_d; T_d)

    bolus      g(s) = exp(-l s)                                           (s >= 0; a dose counts at its own time)
    infusion   g(s) = (1 - exp(-l min(s, T))) exp(-l (s - min(s, T))) / (l T)        (s > 0)

and the cumulative area ``F(s) = int_0^s g`` is, for a bolus ``(1 - exp(-l s)) / l`` and for an infusion
``(s - (1 - exp(-l s)) / l) / (l T)`` while ``s <= T``, then ``(T / l - exp(-l (s - T)) (1 - exp(-l T)) / l^2) / T``.
``expm1`` keeps the infusion -> bolus limit exact (T -> 0).  ``AUC(a, b) = sum_d D_d sum_m B_m (F(b - t_d) -
F(a - t_d))``, exact, so ``AUC(0, inf) = D sum_m B_m / l_m = D / CL`` for a linear mammillary model.

Arrays: ``B``, ``lam`` (N, M); ``times`` (N, T); ``dose_time``, ``amount``, ``duration`` (N, D) -- N parameter
sets (or subjects), M exponentials, D doses (padded with zero amounts).  Work is chunked over N to bound memory.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conc_exponentials", "auc_exponentials"]

_CHUNK_ELEMENTS = 4_000_000


def _g(s, lam, dur):
    """Unit response of one exponential (arrays broadcast to (..., M)), ``s`` time since the dose start."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if np.all(dur > 0):                                     # infusions only: 0 for s <= 0 by construction
            return _infusion(s, lam, dur)
        bol = np.exp(-lam * np.maximum(s, 0.0)) * (s >= 0)
        if np.all(dur <= 0):
            return bol
        return np.where(dur <= 0, bol, _infusion(s, lam, np.where(dur <= 0, 1.0, dur)))


def _infusion(s, lam, dur):
    sm = np.clip(s, 0.0, dur)
    return np.expm1(-lam * sm) * np.exp(-lam * np.maximum(s - dur, 0.0)) / (-lam * dur)


def _F(s, lam, dur):
    """Cumulative area of the unit response from the dose start to s (0 for s <= 0)."""
    bolus = dur <= 0
    tdur = np.where(bolus, 1.0, dur)
    sp = np.maximum(s, 0.0)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        bol = -np.expm1(-lam * sp) / lam
        during = (sp + np.expm1(-lam * sp) / lam) / (lam * tdur)
        after = (tdur / lam + np.exp(-lam * np.maximum(sp - tdur, 0.0)) * np.expm1(-lam * tdur) / lam ** 2) / tdur
    inf = np.where(sp <= tdur, during, after)
    return np.where(s > 0, np.where(bolus, bol, inf), 0.0)


def _apply(kernel, B, lam, times, dose_time, amount, duration, exclude_at_dose=False):
    B, lam = np.atleast_2d(B), np.atleast_2d(lam)
    times = np.atleast_2d(np.asarray(times, dtype=float))
    N = max(B.shape[0], times.shape[0], np.shape(dose_time)[0])
    B = np.broadcast_to(B, (N, B.shape[1]))
    lam = np.broadcast_to(lam, (N, lam.shape[1]))
    times = np.broadcast_to(times, (N, times.shape[1]))
    dose_time = np.broadcast_to(np.asarray(dose_time, dtype=float), (N, np.shape(dose_time)[1]))
    amount = np.broadcast_to(np.asarray(amount, dtype=float), dose_time.shape)
    duration = np.broadcast_to(np.asarray(duration, dtype=float), dose_time.shape)
    T, D, M = times.shape[1], dose_time.shape[1], B.shape[1]
    out = np.empty((N, T))
    step = max(1, _CHUNK_ELEMENTS // max(1, T * D * M))
    for a in range(0, N, step):
        b = min(N, a + step)
        s = times[a:b, :, None, None] - dose_time[a:b, None, :, None]            # (n, T, D, 1)
        g = kernel(s, lam[a:b, None, None, :], duration[a:b, None, :, None])      # (n, T, D, M)
        if exclude_at_dose:
            g = np.where(s == 0, 0.0, g)
        g = g @ B[a:b, None, :, None]                                          # (n, T, D, 1)
        out[a:b] = (g[..., 0] * amount[a:b, None, :]).sum(-1)
    return out


def conc_exponentials(B, lam, times, dose_time, amount, duration, *, exclude_at_dose: bool = False) -> np.ndarray:
    """Concentrations (N, T) by superposition.  ``exclude_at_dose``: a dose given exactly at a sample time does
    not count yet (the pre-dose value, e.g. a trough)."""
    return _apply(_g, B, lam, times, dose_time, amount, duration, exclude_at_dose)


def auc_exponentials(B, lam, start, end, dose_time, amount, duration) -> np.ndarray:
    """Exact AUC from ``start`` to ``end`` (arrays (N, K) of interval bounds; ``end`` may be ``inf``)."""
    start = np.atleast_2d(np.asarray(start, dtype=float))
    end = np.atleast_2d(np.asarray(end, dtype=float))
    hi = _apply(_F, B, lam, np.where(np.isinf(end), 1e300, end), dose_time, amount, duration)
    lo = _apply(_F, B, lam, start, dose_time, amount, duration)
    return hi - lo
