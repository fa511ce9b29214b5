"""Steady-state (equilibrium) affinity from report points.

Report point of an injection: the mean response over the last ``window`` seconds of the injection, minus the
cycle's baseline (mean over the ``window`` seconds before its first injection, 0 when there are no such
samples).  Model (1:1 at equilibrium)::

    R_eq = Rmax C / (C + KD)  [+ offset]

fitted by least squares on (log10 KD, Rmax[, offset]) with the shared machinery of :mod:`adcbridge.assays.nls`.
The estimate is only an affinity if every curve reached steady state: with kobs = ka C + kd, the response
after a contact time tc is (1 - exp(-kobs tc)) of R_eq, so kobs tc should be at least 3-5 at the lowest
concentration.  For high-affinity antibodies (kd ~ 1e-4 1/s) that takes hours; use the kinetic KD instead.
A report point whose response still changed by more than ``max_final_change`` (of its level) over the last
``final_fraction`` of its injection is flagged ``steady_state_not_reached``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adcbridge.results import Issue, make_provenance

from ..nls import nls_fit, t_quantile
from .data import _concentrations, build_sensorgrams, numeric_column
from .options import KineticsOptions, SteadyStateOptions
from .results import SteadyStateResult

__all__ = ["report_points", "fit_steady_state"]

LN10 = np.log(10.0)


def report_points(data: pd.DataFrame, *, t_on: float | None = None, t_off: float | None = None,
                  conc_unit: str | None = None, injections: pd.DataFrame | None = None, window: float = 5.0,
                  final_fraction: float = 0.2, cycle: str = "cycle", conc: str = "conc", time: str = "time",
                  response: str = "response") -> pd.DataFrame:
    """One report point per injection: ``cycle``, ``injection``, ``conc`` (M), ``conc_unit`` (``"M"``),
    ``response`` (baseline-corrected mean over the last ``window`` s of the injection) and ``final_change``
    (the fitted linear change over the last ``final_fraction`` of the injection, as a fraction of the
    response).  Same inputs and checks as :func:`~adcbridge.assays.kinetics.fit_kinetics`."""
    if not (window > 0):
        raise ValueError(f"window must be a positive duration (s); got {window!r}")
    if not (0 < final_fraction <= 1):
        raise ValueError(f"final_fraction must be in (0, 1]; got {final_fraction!r}")
    options = KineticsOptions(t_on=t_on, t_off=t_off, conc_unit=conc_unit)
    sg = build_sensorgrams(data, options, injections, cycle=cycle, conc=conc, time=time, response=response)
    rows = []
    for inj in sg.injections.to_dict("records"):
        k = int(inj["cycle_index"])
        t, y = sg.time[sg.cycle == k], sg.response[sg.cycle == k]
        first_on = float(sg.injections.loc[sg.injections["cycle_index"] == k, "t_on"].min())
        base = y[(t >= first_on - window) & (t < first_on)]
        baseline = float(np.mean(base)) if base.size else 0.0
        on, off = float(inj["t_on"]), float(inj["t_off"])
        last = (t >= off - window) & (t <= off)
        if not last.any():
            raise ValueError(f"cycle {inj['cycle']!r}: no samples in the report window [{off - window:g}, {off:g}] s")
        level = float(np.mean(y[last])) - baseline
        tail = (t >= off - final_fraction * (off - on)) & (t <= off)
        change = np.nan
        if tail.sum() >= 3 and level != 0:
            slope = np.polyfit(t[tail], y[tail], 1)[0]
            change = float(slope * final_fraction * (off - on) / abs(level))
        rows.append((sg.cycles[k], int(inj["injection"]), float(inj["conc_M"]), "M", level, change))
    out = pd.DataFrame(rows, columns=["cycle", "injection", "conc", "conc_unit", "response", "final_change"])
    return out


def fit_steady_state(points: pd.DataFrame, options: SteadyStateOptions | None = None, *, conc: str = "conc",
                     response: str = "response", **option_values) -> SteadyStateResult:
    """Fit ``R_eq = Rmax C / (C + KD) [+ offset]`` to report points (e.g. from :func:`report_points`; the
    concentration unit is ``conc_unit`` or a ``conc_unit`` column).  Flags: ``not_converged``,
    ``non_identifiable``, ``steady_state_not_reached`` (needs a ``final_change`` column),
    ``KD_outside_concentration_range``."""
    options = (options or SteadyStateOptions()).replace(**option_values) if option_values else \
        (options or SteadyStateOptions())
    if not isinstance(points, pd.DataFrame) or points.empty:
        raise ValueError("the report points must be a non-empty pandas DataFrame")
    pts = points.reset_index(drop=True)
    c = _concentrations(pts, conc, options.conc_unit, "cycle")
    y = numeric_column(pts, response, what="report-point table", cycle="cycle")
    n_par = 3 if options.offset else 2
    distinct = np.unique(c[c > 0])
    if distinct.size < n_par:
        raise ValueError(f"{distinct.size} distinct positive concentrations in column {conc!r} cannot determine "
                         f"{n_par} parameters (KD, Rmax{', offset' if options.offset else ''})")

    def design(log_kd):
        frac = c / (c + 10.0 ** log_kd)
        return np.column_stack([frac, np.ones_like(c)]) if options.offset else frac[:, None]

    grid = np.linspace(np.log10(distinct[0]) - 2, np.log10(distinct[-1]) + 2, 81)
    best = None
    for g in grid:
        A = design(g)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        rss = float(np.sum((y - A @ coef) ** 2))
        if best is None or rss < best[0]:
            best = (rss, np.concatenate([[g], coef]))
    names = ("log10_KD", "Rmax") + (("offset",) if options.offset else ())
    fit = nls_fit(lambda x: y - design(x[0]) @ x[1:], best[1], names)
    q = t_quantile(options.confidence, fit.df)
    se = fit.se
    KD = 10.0 ** fit.x[0]
    se_ln = se[0] * LN10
    rows = [("KD", KD, KD * se_ln, KD * np.exp(-q * se_ln), KD * np.exp(q * se_ln), "log", "M")]
    for i, name in enumerate(names[1:], start=1):
        rows.append((name, fit.x[i], se[i], fit.x[i] - q * se[i], fit.x[i] + q * se[i], "linear",
                     options.response_unit))
    table = pd.DataFrame(rows, columns=["parameter", "estimate", "se", "ci_low", "ci_high", "ci_scale", "unit"])
    issues = []
    if not fit.converged:
        issues.append(Issue("not_converged", f"the least-squares fit did not converge: {fit.message}", "error"))
    if fit.rank < fit.p or not np.isfinite(se_ln) or se_ln > 0.5:
        issues.append(Issue("non_identifiable", f"KD is not determined by the report points (relative SE "
                                                f"{se_ln:.3g})"))
    if "final_change" in pts.columns:
        change = pd.to_numeric(pts["final_change"], errors="coerce").to_numpy(dtype=float)
        late = np.flatnonzero(np.abs(np.nan_to_num(change)) > options.max_final_change)
        if late.size:
            issues.append(Issue("steady_state_not_reached",
                                f"{late.size} of {len(pts)} report points still changed by more than "
                                f"{100 * options.max_final_change:g} % at the end of the injection (largest "
                                f"{100 * float(np.nanmax(np.abs(change))):.3g} %): the steady-state KD is biased; "
                                f"use the kinetic KD"))
    if not (distinct[0] / 10 <= KD <= distinct[-1]):
        issues.append(Issue("KD_outside_concentration_range",
                            f"KD = {KD:.3g} M is outside [lowest/10, highest] of the concentrations ({distinct[0]:.3g} "
                            f"to {distinct[-1]:.3g} M): the binding curve does not define it"))
    out = pts.copy()
    out["conc_M"] = c
    out["fitted"] = y - fit.residuals
    out["residual"] = fit.residuals
    if "cycle" in out.columns:
        out["cycle"] = out["cycle"].astype(object)
    flags = tuple(i.code for i in issues if i.severity != "info")
    return SteadyStateResult(spec=options, table=table, issues=tuple(issues),
                             provenance=make_provenance(options, points), n=fit.n, df_residual=fit.df, rss=fit.rss,
                             chi2=fit.sigma2, converged=fit.converged, flags=flags, points=out)
