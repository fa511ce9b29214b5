"""Numerical solution of a model's ODE for many parameter sets at once, with bolus and infusion doses.

All N systems are stacked into one state vector and integrated together by :func:`scipy.integrate.solve_ivp`;
the right-hand side is vectorised over the N systems.  Time is split at every dose time and infusion end of every
system; on each segment the infusion rates are constant and bolus amounts are added at the segment start, so a
bolus counts at its own time, like the closed form.  Amounts are in ug/kg (dose mg/kg x 1000), infusion rates in
ug/h/kg.

Solvers.  ``method="auto"`` (simulation): DOP853 at ``rtol=1e-12`` (at 1e-10 its dense output was seen to be off
by 1e-5 on the payload) with a limit on work (``max_rhs`` right-hand-side evaluations per dose interval, i.e.
between two consecutive dose times or infusion ends, so that the limit does not shrink as doses are added); a
stiff system (e.g. a huge clearance or saturable elimination far from the linear range) exceeds it and is solved
again by LSODA (which switches to BDF when the problem is stiff) with a banded Jacobian (the stacked systems are
independent, so the Jacobian of the state ordered system by system has bandwidth ``n_states - 1``).
``method="LSODA"`` uses that directly; ``stiff_rtol`` is LSODA's tolerance (default ``rtol``).  When the work
limit is exceeded or the solver fails, ``on_fail="raise"`` raises a ValueError; ``on_fail="nan"`` isolates the
failing systems (by bisection, within a total of 4 ``max_rhs`` evaluations per interval) and returns NaN for them
only -- an optimiser's trial step that makes the ODE intractable is then simply rejected (OFV = inf).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .units import MG_TO_UG

__all__ = ["solve_model_ode", "ODEFailure"]


class ODEFailure(ValueError):
    """The ODE solver failed or exceeded its work limit."""


def solve_model_ode(model, p: dict, times, dose_time, amount, duration, outputs, *, method: str = "auto",
                    rtol: float = 1e-12, atol: float = 1e-12, max_rhs: int = 200_000, stiff_rtol: float | None = None,
                    on_fail: str = "raise", exclude_at_dose: bool = False) -> dict[str, np.ndarray]:
    """Concentrations ``{output: (N, T)}`` at ``times`` (N, T) for per-hour parameters ``p`` (arrays (N,)),
    doses ``dose_time``/``amount``/``duration`` (N, D).  See the module docstring for ``method``, ``max_rhs``
    and ``on_fail``.  ``exclude_at_dose``: a bolus given exactly at a sample time does not count yet there (the
    pre-dose value, like :func:`~adcbridge.pk.exponentials.conc_exponentials`)."""
    times = np.atleast_2d(np.asarray(times, dtype=float))
    dose_time = np.atleast_2d(np.asarray(dose_time, dtype=float))
    N = max(times.shape[0], dose_time.shape[0], *(np.size(v) for v in p.values()))
    times = np.broadcast_to(times, (N, times.shape[1]))
    dose_time = np.broadcast_to(dose_time, (N, dose_time.shape[1]))
    amount = np.broadcast_to(np.asarray(amount, dtype=float), dose_time.shape) * MG_TO_UG
    duration = np.broadcast_to(np.asarray(duration, dtype=float), dose_time.shape)
    p = {k: np.broadcast_to(np.asarray(v, dtype=float), (N,)) for k, v in p.items()}

    stiff_rtol = rtol if stiff_rtol is None else stiff_rtol

    given = amount != 0
    n_segments = 1 + np.unique(np.concatenate([dose_time[given], (dose_time + duration)[given & (duration > 0)]])).size
    budget = [4 * max_rhs * n_segments]                   # on_fail="nan": total work, bisection included

    def attempt(idx, first=True):
        sub = (model, {k: v[idx] for k, v in p.items()}, times[idx], dose_time[idx], amount[idx], duration[idx],
               outputs)
        limit = max_rhs if on_fail == "raise" else min(max_rhs, budget[0])
        if method == "auto":
            if first:
                try:
                    return _solve(*sub, "DOP853", rtol, atol, limit, exclude_at_dose, budget)
                except ODEFailure:
                    pass
            return _solve(*sub, "LSODA", stiff_rtol, atol, limit, exclude_at_dose, budget)
        return _solve(*sub, method, rtol if method == "DOP853" else stiff_rtol, atol, limit, exclude_at_dose,
                      budget)

    if on_fail == "raise":
        return attempt(np.arange(N))
    out = {o: np.full(times.shape, np.nan) for o in outputs}

    def fill(idx, first):
        if budget[0] <= 0:
            return
        try:
            res = attempt(idx, first)
        except (ODEFailure, FloatingPointError, ZeroDivisionError, OverflowError):
            if idx.size == 1:
                return
            h = idx.size // 2                             # isolate the failing systems (stiff solver only)
            fill(idx[:h], False)
            fill(idx[h:], False)
            return
        for o in outputs:
            out[o][idx] = res[o]

    fill(np.arange(N), True)
    return out


class _TooMuchWork(Exception):
    pass


def _solve(model, p, times, dose_time, amount, duration, outputs, method, rtol, atol, max_rhs, exclude_at_dose,
           budget):
    N = times.shape[0]
    S = model.n_states
    given = amount != 0
    ends = np.where(given & (duration > 0), dose_time + duration, np.nan)
    grid = np.unique(times)
    start = min(grid[0], dose_time[given].min() if given.any() else grid[0])
    breaks = np.unique(np.concatenate([[start], dose_time[given], ends[np.isfinite(ends)]]))
    breaks = breaks[breaks <= grid[-1]]
    x = model.initial(p, N) if hasattr(model, "initial") else np.zeros((S, N))
    states = np.zeros((grid.size, S, N))
    states[grid < breaks[0]] = x
    calls = [0]
    pre = {}                                          # grid index -> (state before the bolus, systems dosed)
    banded = method == "LSODA"
    extra = {"lband": S - 1, "uband": S - 1} if banded else {}
    for k, b0 in enumerate(breaks):
        b1 = breaks[k + 1] if k + 1 < breaks.size else grid[-1]
        bolus = given & (duration <= 0) & (dose_time == b0)
        x = x.copy()
        if exclude_at_dose and bolus.any():
            at = np.flatnonzero(grid == b0)
            if at.size:
                pre[int(at[0])] = (x.copy(), bolus.any(axis=1))
        x[model.dose_state] += np.where(bolus, amount, 0.0).sum(axis=1)
        on = given & (duration > 0) & (dose_time <= b0) & (ends > b0)
        rate = np.where(on, amount / np.where(duration > 0, duration, 1.0), 0.0).sum(axis=1)
        calls[0] = 0                                  # the work limit applies per dose interval
        last = k + 1 == breaks.size
        sel = (grid >= b0) & ((grid <= b1) if last else (grid < b1))
        t_eval = grid[sel]
        if b1 <= b0:
            states[sel] = x
            continue

        if banded:                                   # state ordered system by system: (N, S) -> banded Jacobian
            def fun(t, y, rate=rate):
                calls[0] += 1
                budget[0] -= 1
                if calls[0] > max_rhs:
                    raise _TooMuchWork
                return model.rhs(y.reshape(N, S).T, p, rate).T.ravel()
            y0 = x.T.ravel()
        else:
            def fun(t, y, rate=rate):
                calls[0] += 1
                budget[0] -= 1
                if calls[0] > max_rhs:
                    raise _TooMuchWork
                return model.rhs(y.reshape(S, N), p, rate).ravel()
            y0 = x.ravel()

        t_ext = np.append(t_eval, b1) if not (t_eval.size and t_eval[-1] == b1) else t_eval
        try:
            with np.errstate(all="ignore"):
                sol = solve_ivp(fun, (b0, b1), y0, method=method, t_eval=t_ext, rtol=rtol, atol=atol, **extra)
        except _TooMuchWork:
            raise ODEFailure(f"model {model.name}: the ODE solver ({method}) exceeded {max_rhs} right-hand-side "
                             f"evaluations between two doses (a stiff or extreme parameter set)") from None
        if sol.status < 0 or sol.y.shape[1] != t_ext.size or not np.all(np.isfinite(sol.y)):
            raise ODEFailure(f"model {model.name}: the ODE solver failed ({sol.message})")
        if banded:
            ys = sol.y.T.reshape(t_ext.size, N, S).transpose(0, 2, 1)
        else:
            ys = sol.y.T.reshape(t_ext.size, S, N)
        states[sel] = ys[:t_eval.size]
        x = ys[-1]
    for g, (xpre, dosed) in pre.items():
        states[g] = np.where(dosed[None, :], xpre, states[g])
    idx = np.searchsorted(grid, times)                              # (N, T) positions in the grid
    rows = np.arange(N)[:, None]
    picked = states[idx, :, rows]                                   # (N, T, S)
    picked = np.moveaxis(picked, -1, 0)                             # (S, N, T)
    pp = {k: v[:, None] for k, v in p.items()}
    return {o: model.observe(picked, pp, o) for o in outputs}
