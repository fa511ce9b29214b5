"""Binding models, declared once: each is the closed-form response over one segment of constant analyte
concentration; shared code (:func:`simulate`) chains the segments of every cycle (baseline, injection,
dissociation, next injection, ...) so that the response is continuous at every switch.

**1:1 Langmuir** (``LANGMUIR``)::

    dR/dt = ka C (Rmax - R) - kd R
    R(t)  = Req + (R0 - Req) exp(-kobs (t - t0)),   kobs = ka C + kd,   Req = ka C Rmax / kobs

During an injection C is the analyte concentration (M); afterwards C = 0 and R decays as R0 exp(-kd (t - t0)).
The amplitude of the dissociation is therefore not a free parameter (it is R at the end of the injection).

**Two-compartment mass-transport model** (``MASS_TRANSPORT``).  Analyte reaches the surface through an
unstirred layer with transport coefficient kt (RU/(M s), Biacore's tc); with the surface concentration Cs in
quasi-steady state, kt (C - Cs) = ka Cs (Rmax - R) - kd R, and::

    dR/dt = (ka C (Rmax - R) - kd R) / (1 + ka (Rmax - R) / kt)

With x = Req - R this separates (B ln x + (ka/kt) x = -kobs t + const, B = 1 + ka (Rmax - Req)/kt), and the
exact solution uses the Lambert W function (Wright omega for x > 0)::

    a = ka / (kt + ka (Rmax - Req)),  u = a x,  ln u + u = ln u0 + u0 - kobs (t - t0) / B
    u = omega(ln u0 + u0 - kobs dt / B)        (u0 > 0, below equilibrium)
    u = W0(u0 exp(u0 - kobs dt / B))           (u0 < 0, above equilibrium, e.g. dissociation; u0 > -1)

so no ODE solver (and no solver tolerance) enters the fit.  kt -> infinity gives the Langmuir model; at
kt = ka Rmax the initial binding rate is halved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import lambertw, wrightomega

from .data import Sensorgrams

__all__ = ["BindingModel", "LANGMUIR", "MASS_TRANSPORT", "MODELS", "Schedule", "compile_schedule", "simulate"]


def _langmuir_segment(r0, conc, dt, rmax, ka, kd):
    kobs = ka * conc + kd
    req = ka * conc * rmax / kobs
    return req + (r0 - req) * np.exp(-kobs * dt)


def _mass_transport_segment(r0, conc, dt, rmax, ka, kd, kt):
    r0, conc, dt, rmax = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r0, conc, dt, rmax)))
    kobs = ka * conc + kd
    req = ka * conc * rmax / kobs
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        free = kt + ka * (rmax - req)
        a = ka / free                              # u = a (Req - R)
        decay = kobs * dt * kt / free              # kobs dt / B
        u0 = a * (req - r0)
        u = np.zeros_like(u0)
        pos, neg = u0 > 0, u0 < 0
        if pos.any():
            u[pos] = wrightomega(np.log(u0[pos]) + u0[pos] - decay[pos])
        if neg.any():
            u[neg] = lambertw(u0[neg] * np.exp(u0[neg] - decay[neg]), 0).real
        x = u / a
    # kt so large that a underflows: the Langmuir limit
    limit = ~(np.isfinite(a) & (a > 0) & np.isfinite(x))
    if limit.any():
        x = np.where(limit, (req - r0) * np.exp(-kobs * dt), x)
    return req - x


@dataclass(frozen=True)
class BindingModel:
    """A binding model: its name, its rate constants (fitted on the log10 scale, in this order, with units)
    and the response over one constant-concentration segment, ``segment(r0, conc, dt, rmax, *rates)``."""

    name: str
    rates: tuple[str, ...]
    units: tuple[str, ...]
    segment: Callable[..., np.ndarray]
    description: str


LANGMUIR = BindingModel("langmuir_1to1", ("ka", "kd"), ("1/(M*s)", "1/s"), _langmuir_segment,
                        "1:1 Langmuir binding")
MASS_TRANSPORT = BindingModel("two_compartment_mass_transport", ("ka", "kd", "kt"), ("1/(M*s)", "1/s", "RU/(M*s)"),
                              _mass_transport_segment, "1:1 binding with mass transport (two-compartment model)")
MODELS = {m.name: m for m in (LANGMUIR, MASS_TRANSPORT)}


@dataclass(frozen=True)
class Schedule:
    """The segments of every cycle, padded to a (cycles x K) grid.  Segment 0 is the baseline before the first
    injection (R = 0); then injection, dissociation, injection, ...  ``groups[k]`` are the samples in segment k
    and ``dt`` each sample's time since its segment started.  ``bulk`` is the (samples x injections) indicator
    1[t_on <= t <= t_off] of each injection in its own cycle."""

    n_cycles: int
    start: np.ndarray
    length: np.ndarray
    conc: np.ndarray
    valid: np.ndarray
    cycle: np.ndarray
    dt: np.ndarray
    groups: tuple[np.ndarray, ...]
    bulk: np.ndarray


def compile_schedule(sg: Sensorgrams) -> Schedule:
    inj = sg.injections
    counts = inj.groupby("cycle_index").size().reindex(range(sg.n_cycles), fill_value=0).to_numpy()
    K = 2 * int(counts.max()) + 1
    start = np.full((sg.n_cycles, K), np.nan)
    length = np.full((sg.n_cycles, K), np.inf)
    conc = np.zeros((sg.n_cycles, K))
    valid = np.zeros((sg.n_cycles, K), dtype=bool)
    seg = np.zeros(sg.time.size, dtype=int)
    bulk = np.zeros((sg.time.size, len(inj)))
    for k in range(sg.n_cycles):
        g = inj[inj["cycle_index"] == k]
        on, off, c = g["t_on"].to_numpy(), g["t_off"].to_numpy(), g["conc_M"].to_numpy()
        bounds = np.column_stack([on, off]).ravel()          # on1, off1, on2, off2, ...
        m = bounds.size
        start[k, 1:m + 1] = bounds
        length[k, 1:m] = np.diff(bounds)
        conc[k, 1:m + 1:2] = c
        valid[k, :m + 1] = True
        rows = np.flatnonzero(sg.cycle == k)
        seg[rows] = np.searchsorted(bounds, sg.time[rows], side="right")
        for j, row in zip(range(len(g)), g.index):
            bulk[rows, row] = (sg.time[rows] >= on[j]) & (sg.time[rows] <= off[j])
    dt = sg.time - np.nan_to_num(start[sg.cycle, seg], nan=0.0)
    groups = tuple(np.flatnonzero(seg == k) for k in range(K))
    return Schedule(sg.n_cycles, start, length, conc, valid, sg.cycle, dt, groups, bulk)


def simulate(model: BindingModel, schedule: Schedule, rmax: np.ndarray, rates) -> np.ndarray:
    """The binding response R at every sample for per-cycle ``rmax`` (length n_cycles) and ``rates`` (the
    model's rate constants, natural scale)."""
    rmax = np.broadcast_to(np.asarray(rmax, dtype=float), (schedule.n_cycles,))
    out = np.zeros(schedule.dt.size)
    r0 = np.zeros(schedule.n_cycles)
    for k in range(1, schedule.start.shape[1]):
        idx = schedule.groups[k]
        if idx.size:
            c = schedule.cycle[idx]
            out[idx] = model.segment(r0[c], schedule.conc[c, k], schedule.dt[idx], rmax[c], *rates)
        live = np.flatnonzero(schedule.valid[:, k] & np.isfinite(schedule.length[:, k]))
        if live.size:
            r0[live] = model.segment(r0[live], schedule.conc[live, k], schedule.length[live, k], rmax[live], *rates)
    return out
