"""Simulation and exposure: what the translation package calls to project human exposure.

``simulate(model, params, regimen, times)`` -> concentrations (N, T) for N parameter sets at once;
``exposure(model, params, regimen, interval)`` -> a DataFrame of Cmax, Tmax, Cmin, Ctrough, AUC and Cavg over an
interval (or the k-th dosing cycle).  Units: :mod:`adcbridge.pk.units` (times h, dose mg/kg, ug/mL).

>>> from adcbridge.pk import simulate, exposure, Regimen
>>> p = {"CL": 20.0, "V1": 40.0, "Q": 30.0, "V2": 40.0}          # per day (rate_time="day"), mL/kg
>>> r = Regimen.single(dose=3.0, duration=0.5)
>>> e = exposure("2cmt", p, r, (0, float("inf")), rate_time="day")
>>> round(float(e["auc"].iloc[0]), 6) == round(3.0 * 1000 / (20.0 / 24), 6)     # AUC = dose / CL (h ug/mL)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .models import get_model
from .predict import auc_arrays, check_parameters, predict_arrays
from .regimen import Regimen
from .units import to_hours

__all__ = ["simulate", "exposure"]


#: the most concentrations one simulate() call returns (400 MB of float64): bounds the memory of a mistyped grid
MAX_CONCENTRATIONS = 50_000_000


def _setup(model, params, regimen, model_options):
    model = get_model(model, **model_options)
    if not isinstance(regimen, Regimen):
        raise ValueError(f"regimen must be a Regimen (e.g. Regimen.repeated(...)); got {type(regimen).__name__}")
    if not hasattr(params, "columns") and hasattr(params, "keys"):
        unknown = [k for k in params.keys() if k not in model.names]
        if unknown:
            raise ValueError(f"model {model.name} has no parameter {unknown[0]!r} (its parameters: "
                             f"{', '.join(model.names)})")
    p, N = check_parameters(model, params)
    return model, model.hourly(p), N


def simulate(model, params, regimen: Regimen, times, *, output: str | None = None, time_unit: str = "h",
             method: str = "auto", **model_options) -> np.ndarray:
    """Concentrations (N, T) of ``output`` at ``times`` for N parameter sets.

    ``model``: a :class:`~adcbridge.pk.model.PKModel` or its name (with ``model_options`` such as
    ``rate_time="day"``); ``params``: dict of scalars/arrays (N,) or a DataFrame with one column per parameter;
    ``regimen``: a :class:`Regimen` (times in h); ``times`` in ``time_unit``.  Closed form (sums of exponentials)
    for linear models, the ODE otherwise (``method="ode"`` forces it).  A bolus counts at its own time."""
    model, p, N = _setup(model, params, regimen, model_options)
    output = model.check_output(output)
    t = to_hours(np.atleast_1d(times), time_unit)
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError("times must be a 1-D array of finite numbers")
    if N * t.size > MAX_CONCENTRATIONS:
        raise ValueError(f"{N} parameter sets x {t.size} times is more than {MAX_CONCENTRATIONS:,} concentrations at "
                         f"once; simulate fewer times or parameter sets per call")
    dt, amt, dur = regimen.arrays()
    return predict_arrays(model, p, t[None, :], dt, amt, dur, [output], method=method)[output]


def _interval(regimen: Regimen, interval, cycle):
    if cycle is not None:
        if not (isinstance(cycle, (int, np.integer)) and 1 <= cycle <= len(regimen.time)):
            raise ValueError(f"The 'cycle' argument must be a dose number in 1..{len(regimen.time)} (the regimen's "
                             f"doses). Got {cycle!r}.")
        start = regimen.time[cycle - 1]
        if cycle < len(regimen.time):
            end = regimen.time[cycle]
        elif regimen.tau is not None:
            end = start + regimen.tau
        else:
            raise ValueError("the last cycle has no end: give the regimen a tau or an interval")
        return float(start), float(end)
    if interval is None or len(interval) != 2:
        raise ValueError("give interval=(start, end) in h or cycle=k")
    start, end = float(interval[0]), float(interval[1])
    if not (np.isfinite(start) and end > start):
        raise ValueError(f"interval must satisfy start < end; got {interval!r}")
    return start, end


def exposure(model, params, regimen: Regimen, interval=None, *, cycle: int | None = None,
             output: str | None = None, n_grid: int = 200, method: str = "auto", **model_options) -> pd.DataFrame:
    """Exposure over ``interval`` = (start, end) in h (``end`` may be inf for AUC) or over dosing ``cycle`` k.

    One row per parameter set: ``cmax``/``tmax`` (grid of ``n_grid`` points plus dose and infusion-end times,
    refined by golden-section search; only doses strictly before ``end`` count, so the next cycle's bolus at
    ``end`` is not this cycle's peak), ``cmin`` (the minimum after the input of the doses given at ``start`` --
    after the bolus, or from the end of the infusion -- to ``end``; not the pre-dose value), ``ctrough`` (just
    before ``end``: a dose at ``end`` does not count), ``auc`` (exact for closed-form models:
    ``sum D B / lam (...)``; ODE models: trapezoid on a 20 x ``n_grid`` grid), ``cavg = auc / (end - start)``;
    with ``conc_unit`` and ``auc_unit``."""
    model, p, N = _setup(model, params, regimen, model_options)
    output = model.check_output(output)
    start, end = _interval(regimen, interval, cycle)
    dt, amt, dur = regimen.arrays()
    upto = dt[0] < end            # a dose at ``end`` belongs to the next interval (later doses cannot matter)
    dt, amt, dur = dt[:, upto], amt[:, upto], dur[:, upto]
    finite_end = end if np.isfinite(end) else None
    if finite_end is None:
        slowest = _slowest_time(model, p, output, regimen, start)
        peak_end = start + slowest
    else:
        peak_end = end
    crit = np.concatenate([dt[0], dt[0] + dur[0]])
    grid = np.unique(np.concatenate([np.linspace(start, peak_end, n_grid), crit[(crit >= start) &
                                                                                (crit <= peak_end)]]))

    def conc(t2d):
        return predict_arrays(model, p, t2d, dt, amt, dur, [output], method=method)[output]

    c = conc(grid[None, :])
    c = np.broadcast_to(c, (N, grid.size))
    cmax, tmax = _refine_max(conc, grid, c)
    if finite_end is not None:
        ct = predict_arrays(model, p, np.array([[end]]), dt, amt, dur, [output],
                            method=method)[output][:, 0] if dt.size else np.zeros(N)
    else:
        ct = np.full(N, np.nan)
    if model.closed_form and method != "ode":
        auc = auc_arrays(model, p, np.full((N, 1), start), np.full((N, 1), end), dt, amt, dur, output)[:, 0]
    elif finite_end is not None:
        fine = np.unique(np.concatenate([np.linspace(start, end, 20 * n_grid), grid]))
        auc = np.trapezoid(np.broadcast_to(conc(fine[None, :]), (N, fine.size)), fine, axis=1)
    else:
        auc = np.full(N, np.nan)
    if finite_end is not None:                # after the input of the doses given at ``start`` (not the pre-dose 0)
        at_start = np.isclose(dt[0], start)
        after = start + (float(dur[0][at_start].max()) if at_start.any() else 0.0)
        inside = grid >= after if after > start else grid > start
        cmin = np.minimum(c[:, inside].min(axis=1), ct) if inside.any() else ct
    else:
        cmin = np.zeros(N)
    unit = model.output_unit(output)
    return pd.DataFrame({"set": np.arange(N), "output": output, "start": start, "end": end, "cmax": cmax,
                         "tmax": tmax, "cmin": cmin, "ctrough": ct, "auc": auc,
                         "cavg": auc / (end - start) if finite_end is not None else np.nan,
                         "conc_unit": unit, "auc_unit": f"h*{unit}"})


def _slowest_time(model, p, output, regimen, start):
    """A horizon for Cmax over an open interval: 10 half-lives of the slowest exponential (closed form) or
    the last dose + 2000 h."""
    last = max(regimen.time) + max(regimen.duration)
    if model.closed_form:
        _, lam = model.exponentials(p, output)
        return max(last - start, 0.0) + float(np.max(10 * np.log(2) / np.min(lam, axis=-1)))
    return max(last - start, 0.0) + 2000.0


def _refine_max(conc, grid, c, iterations: int = 40):
    """Golden-section refinement of each row's grid maximum between its neighbouring grid points."""
    N = c.shape[0]
    j = np.argmax(c, axis=1)
    a = grid[np.maximum(j - 1, 0)].astype(float)
    b = grid[np.minimum(j + 1, grid.size - 1)].astype(float)
    best_t, best_c = grid[j].astype(float), c[np.arange(N), j].astype(float)
    g = (np.sqrt(5) - 1) / 2

    def f(t):
        return conc(t[:, None])[:, 0]

    x1, x2 = b - g * (b - a), a + g * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(iterations):
        left = f1 > f2                                   # the maximum lies in [a, x2]
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        n1 = np.where(left, b - g * (b - a), x2)
        n2 = np.where(left, x1, a + g * (b - a))
        fn = f(np.where(left, n1, n2))
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = n1, n2
    t_ref = np.where(f1 > f2, x1, x2)
    c_ref = np.maximum(f1, f2)
    better = c_ref > best_c
    return np.where(better, c_ref, best_c), np.where(better, t_ref, best_t)
