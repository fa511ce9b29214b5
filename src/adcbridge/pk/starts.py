"""Data-driven start values: a quick non-compartmental look at each profile mapped onto the model's parameters.

Per profile (first fitted analyte): ``AUC`` by the linear trapezoid from the first dose plus ``Clast / lambda_z``
(log-linear fit of the last three samples), ``CL = 1000 total dose / AUC`` (mL/h/kg), ``V1 = 1000 first dose /
Cmax`` and ``Vss = max(0.75 CL / lambda_z, 1.2 V1)``.  The model's parameters are then set from (CL, V1, Vss) --
e.g. 2cmt: ``V2 = Vss - V1``, ``Q = 1.5 CL`` -- and the rest from the declared defaults.  Pooled units take the
geometric mean over their profiles.  Any start the user gives wins.

Target-mediated models (``mm``, ``qss``) start in stages (:func:`target_grid`): the linear 2cmt core (CL, V1,
Q, V2) is fitted first; a grid of target parameters around it is then scored by the objective (error parameters
set from the residuals) and the best grid points are the starts of the full fit.  The grid is built on the
capacity of the saturable pathway, ``Vmax = C* CL_lin`` (the profile bends where the concentration falls below
``C*``), with ``C*`` at three concentrations from the 10th percentile of the observations to their median.
``mm``: ``CL = {0.5, 0.9} CL_lin`` x ``Km`` at four concentrations from the 10th percentile to the maximum x the
three ``C*``: 24 points.  ``qss`` (capacity ``kint R0 V1``): ``CL = {0.5, 0.9} CL_lin`` x the three ``C*`` x
``R0`` at three concentrations from a tenth of the 10th percentile to the median x ``Kss = {0.03, 0.3} R0`` x
``kdeg = {0.2, 1} kint``: 72 points.  Started from the NCA start and the default target values, a pooled QSS fit
of a five-dose study stopped unconverged at an objective 730 units above the optimum; from the staged start it
converges to the optimum a fit started at the truth reaches.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nca_guess", "model_start", "target_grid", "TARGET_MODELS"]

#: models whose starts come from a linear 2cmt fit and a grid of target parameters
TARGET_MODELS = ("mm", "qss")


def nca_guess(times, y, mask, first_dose_time, total_dose, first_dose):
    """(CL, V1, Vss) per row (arrays), per hour and per kg."""
    R = times.shape[0]
    out = np.full((R, 3), np.nan)
    for r in range(R):
        t, c = times[r, mask[r]], y[r, mask[r]]
        if c.size < 2 or not np.all(np.isfinite(c)):
            continue
        order = np.argsort(t, kind="stable")
        t, c = t[order], c[order]
        tt = np.concatenate([[first_dose_time[r]], t])
        cc = np.concatenate([[0.0], c])
        auc = np.trapezoid(cc, tt)
        tail = slice(-3, None) if c.size >= 3 else slice(None)
        slope = np.polyfit(t[tail], np.log(c[tail]), 1)[0] if c[tail].size >= 2 and np.all(c[tail] > 0) else 0.0
        lz = -slope if slope < 0 else np.log(2) / max(t[-1] - t[0], 1.0)
        auc += c[-1] / lz
        cl = 1000 * total_dose[r] / auc
        v1 = 1000 * first_dose[r] / c.max()
        out[r] = cl, v1, max(0.75 * cl / lz, 1.2 * v1)
    return out


def model_start(model, cl, v1, vss, cmed) -> dict[str, float]:
    """Start values in the model's units from per-hour (CL, V1, Vss) and the median concentration ``cmed``."""
    p = model.start()
    f = model.factor
    name = model.name
    v2 = max(vss - v1, 0.3 * v1)
    if name == "1cmt":
        p.update(CL=cl * f, V=float(np.sqrt(v1 * vss)))
    elif name in ("2cmt", "qss"):
        p.update(CL=cl * f, V1=v1, Q=1.5 * cl * f, V2=v2)
    elif name == "3cmt":
        p.update(CL=cl * f, V1=v1, Q2=2 * cl * f, V2=v2 / 2, Q3=0.5 * cl * f, V3=v2 / 2)
    elif name == "mm":
        km = max(cmed, 1e-6)
        p.update(CL=0.5 * cl * f, V1=v1, Q=1.5 * cl * f, V2=v2, Km=km, Vmax=0.5 * cl * km * f)
    elif name == "adc":
        p.update(CLcat=0.6 * cl * f, CLdec=0.4 * cl * f, V1=v1, Q=1.5 * cl * f, V2=v2)
    return {k: float(v) for k, v in p.items()}


def target_grid(model, core: dict[str, float], c_lo: float, cmed: float, cmax: float) -> dict[str, np.ndarray]:
    """Grid of start values (arrays of equal length, model units) around a fitted linear 2cmt ``core`` (CL, V1,
    Q, V2) and the 10th percentile, median and maximum of the observed concentrations (see the module
    docstring)."""
    c_lo = max(c_lo, 1e-9)
    cmed = max(cmed, c_lo)
    cmax = max(cmax, cmed)
    cl_lin = core["CL"]
    if model.name == "mm":
        grid = np.meshgrid([0.5, 0.9], np.geomspace(c_lo, cmax, 4), np.geomspace(c_lo, cmed, 3), indexing="ij")
        cl_f, km, cstar = (a.ravel() for a in grid)
        out = {"CL": cl_f * cl_lin, "Km": km, "Vmax": cstar * cl_lin}
    elif model.name == "qss":
        grid = np.meshgrid([0.5, 0.9], np.geomspace(c_lo, cmed, 3), np.geomspace(c_lo / 10, cmed, 3), [0.03, 0.3],
                           [0.2, 1.0], indexing="ij")
        cl_f, cstar, r0, kss_f, kdeg_f = (a.ravel() for a in grid)
        kint = cstar * cl_lin / (r0 * core["V1"])
        out = {"CL": cl_f * cl_lin, "R0": r0, "Kss": kss_f * r0, "kint": kint, "kdeg": kdeg_f * kint}
    else:
        raise ValueError(f"model {model.name} has no target grid")
    n = next(iter(out.values())).size
    for k in ("V1", "Q", "V2"):
        out[k] = np.full(n, core[k])
    return out
