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
``final_fraction`` of its injection is flagged ``steady_state_not_reached``; a KD whose relative standard error
(SE of ln KD) exceeds ``max_relative_se`` (default 0.5) is flagged ``non_identifiable``.

The input tables are checked by :mod:`adcbridge.validation` (one message shape: the file and line when the
table came from :func:`~adcbridge.io.read_table`, else ``the report-point table`` and the 1-based data row)::

    points.csv: column 'response', line 4 (cycle 3): expected a finite number, got 'inf'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adcbridge import validation
from adcbridge.results import Issue, make_provenance

from ..nls import nls_fit, t_quantile
from .data import _concentrations, build_sensorgrams, numeric_column
from .options import KineticsOptions, SteadyStateOptions
from .results import SteadyStateResult

__all__ = ["report_points", "fit_steady_state"]

LN10 = np.log(10.0)
WHAT = "report-point table"         # errors about a table built in Python call it "the report-point table"


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
            raise validation.table_error(data, f"cycle {inj['cycle']!r}: no samples in the report window "
                                               f"[{off - window:g}, {off:g}] s", table="the sensorgram table",
                                         column=time)
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
    concentration unit is ``conc_unit`` or a ``conc_unit`` column).

    ``options`` (or keyword values of :class:`~adcbridge.assays.kinetics.SteadyStateOptions`): ``conc_unit``,
    ``offset``, ``response_unit``, ``max_final_change`` (0.05), ``max_relative_se`` (0.5: the largest relative
    SE of KD, i.e. SE of ln KD, before the fit is flagged ``non_identifiable``) and ``confidence`` (0.95).

    Flags: ``not_converged``, ``non_identifiable``, ``steady_state_not_reached`` (needs a ``final_change``
    column), ``KD_outside_concentration_range``.  A bad cell (text, an empty or infinite concentration or
    response, a negative concentration, an infinite ``final_change``) is a
    :class:`~adcbridge.validation.TableError` naming the file or ``the report-point table``, the line or row, the
    column and the value.

    >>> import pandas as pd
    >>> points = pd.DataFrame({"conc": [1.0, 3.0, 10.0, 30.0, 100.0], "response": [9.1, 23.1, 50.0, 75.0, 90.9]})
    >>> fit = fit_steady_state(points, conc_unit="nM", max_relative_se=0.2)
    >>> round(fit.KD * 1e9, 1), fit.spec.max_relative_se
    (10.0, 0.2)
    """
    options = (options or SteadyStateOptions()).replace(**option_values) if option_values else \
        (options or SteadyStateOptions())
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"the report points must be a pandas DataFrame, got {type(points).__name__}")
    if points.empty:
        raise validation.table_error(points, "the report-point table has no rows")
    # checked on the table as given (its index names the file's lines), then renumbered for the output
    c = _concentrations(points, conc, options.conc_unit, "cycle", WHAT)
    y = numeric_column(points, response, what=WHAT, cycle="cycle")
    change = None
    if "final_change" in points.columns:      # empty where the tail was too short to fit a slope
        change = validation.numeric_column(points, "final_change", allow_missing=True, table=f"the {WHAT}",
                                           key="cycle")
    pts = points.reset_index(drop=True)
    n_par = 3 if options.offset else 2
    distinct = np.unique(c[c > 0])
    if distinct.size < n_par:
        raise validation.table_error(points, f"{distinct.size} distinct positive concentrations in column {conc!r} "
                                             f"cannot determine {n_par} parameters (KD, Rmax"
                                             f"{', offset' if options.offset else ''})", table=f"the {WHAT}",
                                     column=conc)

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
    if fit.rank < fit.p or not np.isfinite(se_ln) or se_ln > options.max_relative_se:
        issues.append(Issue("non_identifiable", f"KD is not determined by the report points (relative SE "
                                                f"{se_ln:.3g}; the limit, max_relative_se, is "
                                                f"{options.max_relative_se:g})"))
    if change is not None:
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
