"""One entry point for model predictions on arrays: the closed form where the model has one, else the ODE."""

from __future__ import annotations

import numpy as np

from .exponentials import auc_exponentials, conc_exponentials
from .ode import solve_model_ode

__all__ = ["predict_arrays", "auc_arrays", "check_parameters"]


def check_parameters(model, params, n: int | None = None) -> tuple[dict[str, np.ndarray], int]:
    """Parameter values (dict of scalars/arrays or a DataFrame) as arrays (N,); ValueError naming the parameter
    and the row when a value is missing, not finite or not > 0."""
    if hasattr(params, "columns"):
        params = {c: params[c].to_numpy(dtype=float) for c in params.columns if c in model.names}
    out = {}
    for name in model.names:
        if name not in params:
            raise ValueError(f"model {model.name}: parameter {name!r} is missing (needs {list(model.names)})")
        v = np.atleast_1d(np.asarray(params[name], dtype=float))
        if v.ndim != 1:
            raise ValueError(f"parameter {name!r} must be a number or a 1-D array")
        bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
        if bad.size:
            raise ValueError(f"parameter {name!r} must be finite and > 0; got {float(v[bad[0]])!r} (parameter set "
                             f"{bad[0]})")
        out[name] = v
    sizes = {v.size for v in out.values()} - {1}
    if len(sizes) > 1:
        raise ValueError(f"parameter arrays have different lengths {sorted(sizes)}")
    N = sizes.pop() if sizes else (n or 1)
    return {k: np.broadcast_to(v, (N,)).copy() for k, v in out.items()}, N


def predict_arrays(model, p_hourly: dict, times, dose_time, amount, duration, outputs, *, method: str = "auto",
                   exclude_at_dose: bool = False, ode_options: dict | None = None) -> dict[str, np.ndarray]:
    """``{output: (N, T)}`` concentrations; ``method`` "auto" (closed form if available), "closed" or "ode".
    ``exclude_at_dose``: a bolus given exactly at a sample time does not count there yet (the sample is that
    dose's pre-dose sample).  ``ode_options``: passed to :func:`~adcbridge.pk.ode.solve_model_ode` (solver,
    tolerances, work limit, ``on_fail``)."""
    if method not in ("auto", "closed", "ode"):
        raise ValueError(f"method must be 'auto', 'closed' or 'ode'; got {method!r}")
    if method == "closed" and not model.closed_form:
        raise ValueError(f"model {model.name} has no closed form; use method='ode'")
    if model.closed_form and method != "ode":
        out = {}
        for o in outputs:
            B, lam = model.exponentials(p_hourly, o)
            out[o] = conc_exponentials(B, lam, times, dose_time, amount, duration, exclude_at_dose=exclude_at_dose)
        return out
    return solve_model_ode(model, p_hourly, times, dose_time, amount, duration, outputs,
                           exclude_at_dose=exclude_at_dose, **(ode_options or {}))


def auc_arrays(model, p_hourly, start, end, dose_time, amount, duration, output) -> np.ndarray:
    """Exact AUC over [start, end] (N, K) for a closed-form model."""
    B, lam = model.exponentials(p_hourly, output)
    return auc_exponentials(B, lam, start, end, dose_time, amount, duration)
