"""The Simeoni et al. (Cancer Res 2004;64:1094) tumour growth inhibition model: deterministic simulation.

Tumour weight w = x1 + x2 + x3 + x4 (g); x1 proliferating cells, x2..x4 damaged cells in transit to death::

    dx1/dt = lambda0 x1 / [1 + (lambda0 w / lambda1)^psi]^(1/psi) - k2 c(t) x1
    dx2/dt = k2 c(t) x1 - k1 x2
    dx3/dt = k1 (x2 - x3)
    dx4/dt = k1 (x3 - x4)

lambda0 (1/day) is the exponential and lambda1 (g/day) the linear growth rate, psi = 20 makes the switch between
them sharp, k1 (1/day) the transit rate and k2 (1/(day ng/mL)) the drug potency.  x1(0) = w0.  The drug
concentration c(t) here is a sum of IV boluses with first-order elimination, c(t) = sum_d c0 exp(-kel (t - t_d))
over the doses given at or before t (an illustrative PK, as in the reference simulation).  The control arm is
the same model with c = 0.  The ODEs are integrated dose interval by dose interval (c jumps at a dose) with
``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-10).  Defaults: the paclitaxel parameters of experiment 1
(Table 2) as listed in nlmixr2lib's model database.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.integrate import solve_ivp

from adcbridge.results import Result, make_provenance
from adcbridge.spec import Spec

__all__ = ["SimeoniModel", "SimeoniResult", "simulate_simeoni", "bolus_concentration"]


class SimeoniModel(Spec):
    """Parameters of the Simeoni model and of the bolus schedule (see the module docstring)."""

    spec_name: ClassVar[str] = "simeoni"
    lambda0: float = Field(0.273, gt=0)
    lambda1: float = Field(0.814, gt=0)
    k1: float = Field(0.968, gt=0)
    k2: float = Field(6.29e-4, ge=0)
    psi: float = Field(20.0, gt=0)
    w0: float = Field(0.15, gt=0)
    dose_times: tuple[float, ...] = (7.0, 11.0, 15.0)
    c0: float = Field(1000.0, ge=0)
    kel: float = Field(2.0, ge=0)


@dataclass(frozen=True, eq=False)
class SimeoniResult(Result):
    """``table``: ``day, w_treated, x1, x2, x3, x4, w_control, conc`` (weights in g, concentration in ng/mL)."""

    result_type: ClassVar[str] = "SimeoniResult"


def bolus_concentration(t, model: SimeoniModel) -> np.ndarray:
    """c(t) = sum over doses given at or before t of c0 exp(-kel (t - t_dose))."""
    t = np.asarray(t, dtype=float)
    c = np.zeros_like(t)
    for td in model.dose_times:
        c = c + np.where(t >= td, model.c0 * np.exp(-model.kel * np.clip(t - td, 0, None)), 0.0)
    return c


def _rhs(model: SimeoniModel, doses: tuple[float, ...]):
    """The right-hand side with the boluses ``doses`` (those given at or before the segment's start)."""
    l0, l1, k1, k2, psi, c0, kel = model.lambda0, model.lambda1, model.k1, model.k2, model.psi, model.c0, model.kel

    def f(t, x):
        w = x.sum()
        c = sum(c0 * np.exp(-kel * (t - td)) for td in doses)
        growth = l0 * x[0] / (1 + (l0 * w / l1) ** psi) ** (1 / psi)
        return np.array([growth - k2 * c * x[0], k2 * c * x[0] - k1 * x[1], k1 * (x[1] - x[2]),
                         k1 * (x[2] - x[3])])
    return f


def _integrate(model: SimeoniModel, days: np.ndarray, treated: bool) -> np.ndarray:
    breaks = sorted({float(d) for d in model.dose_times if days[0] < d < days[-1]}) if treated else []
    edges = [float(days[0])] + breaks + [float(days[-1])]
    x = np.array([model.w0, 0.0, 0.0, 0.0])
    out = np.empty((days.size, 4))
    out[0] = x
    for a, b in pairwise(edges):
        doses = tuple(td for td in model.dose_times if td <= a) if treated else ()
        sol = solve_ivp(_rhs(model, doses), (a, b), x, method="LSODA", rtol=1e-10, atol=1e-14, dense_output=True)
        if not sol.success:                                           # pragma: no cover
            raise ValueError(f"the Simeoni simulation failed between day {a:g} and {b:g}: {sol.message}")
        inside = (days > a) & (days <= b)
        if inside.any():
            out[inside] = sol.sol(days[inside]).T
        x = sol.y[:, -1]
    return out


def simulate_simeoni(model: SimeoniModel | None = None, days=None, **parameters) -> SimeoniResult:
    """Simulate the treated and control arms on ``days`` (default 0, 0.5, ..., 28).

    >>> r = simulate_simeoni(days=[0, 7, 28])
    >>> round(float(r.table["w_control"].iloc[-1]), 3) > round(float(r.table["w_treated"].iloc[-1]), 3)
    True
    """
    model = (model or SimeoniModel()).replace(**parameters) if parameters else (model or SimeoniModel())
    days = np.arange(0, 28.0001, 0.5) if days is None else np.asarray(days, dtype=float)
    if days.ndim != 1 or days.size < 2 or np.any(np.diff(days) <= 0):
        raise ValueError("days must be at least two increasing times")
    tr = _integrate(model, days, True)
    ct = _integrate(model, days, False)
    table = pd.DataFrame({"day": days, "w_treated": tr.sum(axis=1), "x1": tr[:, 0], "x2": tr[:, 1], "x3": tr[:, 2],
                          "x4": tr[:, 3], "w_control": ct.sum(axis=1), "conc": bolus_concentration(days, model)})
    return SimeoniResult(spec=model, table=table, provenance=make_provenance(model, days))
