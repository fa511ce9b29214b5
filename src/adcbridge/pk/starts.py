"""Data-driven start values: a quick non-compartmental look at each profile mapped onto the model's parameters.

Per profile (first fitted analyte): ``AUC`` by the linear trapezoid from the first dose plus ``Clast / lambda_z``
(log-linear fit of the last three samples), ``CL = 1000 total dose / AUC`` (mL/h/kg), ``V1 = 1000 first dose /
Cmax`` and ``Vss = max(0.75 CL / lambda_z, 1.2 V1)``.  The model's parameters are then set from (CL, V1, Vss) --
e.g. 2cmt: ``V2 = Vss - V1``, ``Q = 1.5 CL`` -- and the rest from the declared defaults.  Pooled units take the
geometric mean over their profiles.  Any start the user gives wins.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nca_guess", "model_start"]


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
