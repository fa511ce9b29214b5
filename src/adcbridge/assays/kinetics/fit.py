"""Global fit of a binding model to multi-cycle or single-cycle sensorgrams.

Observed signal of cycle i at time t::

    y = R_i(t; ka, kd[, kt], Rmax_i) + sum_j RI_ij 1[t_on_ij <= t <= t_off_ij] + drift_i (t - t0_i) + noise

R from :mod:`.models`; ka, kd (and kt) shared by all cycles; Rmax global or per cycle; the bulk
(refractive-index) step RI per injection while sample flows; the drift a linear slope times the time since the
cycle's first sample t0_i (one global slope or one per cycle), so that the fit does not depend on where the time
axis starts (with cycles recorded from t = 0, as the oracle's, this is its slope x t).  One least-squares
objective covers every sample.

Fitting: ka, kd, kt on the log10 scale, the rest as they are.  Starting values come from a grid over
(log10 ka, log10 kd) on which Rmax, RI and drift -- linear in the Langmuir model -- are solved exactly by
linear least squares; Levenberg-Marquardt (:func:`adcbridge.assays.nls.nls_fit`) then refines all parameters.
The mass-transport model starts from the Langmuir fit with several kt and keeps the best.  Standard errors:
``s^2 (J'J)^-1``, mapped to the natural scale by the delta method; SE(KD) includes the ka-kd covariance,
``var(ln KD) = var(ln kd) + var(ln ka) - 2 cov(ln ka, ln kd)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge.results import make_provenance

from ..nls import NlsFit, nls_fit, t_quantile
from .data import Sensorgrams, build_sensorgrams
from .flags import quality_issues
from .models import LANGMUIR, MASS_TRANSPORT, BindingModel, Schedule, compile_schedule, simulate
from .options import KineticsOptions
from .results import KineticsResult, _label

__all__ = ["fit_kinetics"]

LN10 = np.log(10.0)
GRID_LOG10_KA = np.arange(2.0, 9.01, 0.5)
GRID_LOG10_KD = np.arange(-7.0, 0.01, 0.5)


@dataclass(frozen=True)
class _Layout:
    """Where each parameter sits in the fit vector: rates (log10), Rmax, then the linear nuisance terms."""

    model: BindingModel
    n_cycles: int
    rmax_local: bool
    nuisance: np.ndarray            # (n, m) design of RI and drift columns
    nuisance_names: tuple[tuple[str, object, object], ...]

    @property
    def n_rates(self) -> int:
        return len(self.model.rates)

    @property
    def n_rmax(self) -> int:
        return self.n_cycles if self.rmax_local else 1

    @property
    def size(self) -> int:
        return self.n_rates + self.n_rmax + self.nuisance.shape[1]

    def split(self, x):
        r = self.n_rates
        with np.errstate(over="ignore"):        # trial steps far out on the log scale: inf rates, rejected by LM
            rates = 10.0 ** x[:r]
        return rates, x[r:r + self.n_rmax], x[r + self.n_rmax:]

    def predict(self, x, schedule: Schedule) -> np.ndarray:
        rates, rmax, beta = self.split(x)
        out = simulate(self.model, schedule, rmax, rates)
        return out + self.nuisance @ beta if beta.size else out


def _nuisance(sg: Sensorgrams, schedule: Schedule, options: KineticsOptions):
    cols, names = [], []
    inj = sg.injections
    if options.bulk:
        multi = _multi(inj)
        for j, (k, number) in enumerate(zip(inj["cycle_index"].tolist(), inj["injection"].tolist())):
            cols.append(schedule.bulk[:, j])
            names.append(("RI", sg.cycles[k], int(number) if multi else None))
    # drift is anchored at each cycle's first sample: invariant to a shift of the time axis
    first = np.array([sg.time[sg.cycle == k].min() for k in range(sg.n_cycles)])
    since = sg.time - first[sg.cycle]
    if options.drift == "global":
        cols.append(since)
        names.append(("drift", None, None))
    elif options.drift == "local":
        for k, label in enumerate(sg.cycles):
            cols.append(np.where(sg.cycle == k, since, 0.0))
            names.append(("drift", label, None))
    design = np.column_stack(cols) if cols else np.zeros((sg.time.size, 0))
    return design, tuple(names)


def _multi(inj: pd.DataFrame) -> bool:
    return bool((inj["injection"] > 1).any())


def _grid_start(sg: Sensorgrams, schedule: Schedule, layout: _Layout) -> np.ndarray:
    """Best (log10 ka, log10 kd) on a grid, with Rmax and the nuisance terms solved by linear least squares."""
    best = (np.inf, None)
    onehot = (sg.cycle[:, None] == np.arange(sg.n_cycles)[None, :]).astype(float) if layout.rmax_local else None
    for lka in GRID_LOG10_KA:
        for lkd in GRID_LOG10_KD:
            g = simulate(LANGMUIR, schedule, 1.0, (10.0 ** lka, 10.0 ** lkd))
            binding = g[:, None] * onehot if layout.rmax_local else g[:, None]
            A = np.hstack([binding, layout.nuisance])
            coef, *_ = np.linalg.lstsq(A, sg.response, rcond=None)
            r = sg.response - A @ coef
            rss = float(r @ r)
            if rss < best[0]:
                best = (rss, np.concatenate([[lka, lkd], coef]))
    return best[1]


def _run(layout: _Layout, sg: Sensorgrams, schedule: Schedule, x0: np.ndarray, names) -> NlsFit:
    # trial steps far out on the log scale overflow (inf/nan residuals, which the optimiser rejects); a fit that
    # ends there is reported through the result's issues, not through numpy warnings on stderr
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return nls_fit(lambda x: sg.response - layout.predict(x, schedule), x0, names)


def _fit_names(layout: _Layout, sg: Sensorgrams) -> tuple[str, ...]:
    names = [f"log10_{r}" for r in layout.model.rates]
    names += [f"Rmax[{c}]" for c in sg.cycles] if layout.rmax_local else ["Rmax"]
    names += [_label(*n) for n in layout.nuisance_names]
    return tuple(names)


def fit_kinetics(data: pd.DataFrame, options: KineticsOptions | None = None, *, injections: pd.DataFrame | None = None,
                 cycle: str = "cycle", conc: str = "conc", time: str = "time", response: str = "response",
                 **option_values) -> KineticsResult:
    """Fit ka, kd (and Rmax, bulk steps, drift, kt) globally to sensorgrams.

    ``data`` is the long table (one row per sample: ``cycle``, ``conc``, ``time`` in s, ``response``); the
    concentration unit is ``conc_unit`` (or a ``conc_unit`` column).  Injection times: ``t_on``/``t_off`` for a
    multi-cycle experiment, or ``injections`` (columns ``t_on``, ``t_off``, optionally ``cycle`` and ``conc``)
    for single-cycle kinetics or per-cycle times.  Options are a :class:`KineticsOptions` or its fields as
    keywords (keywords override ``options``).

    >>> import numpy as np, pandas as pd
    >>> from adcbridge.assays.kinetics import LANGMUIR, fit_kinetics
    >>> t = np.arange(0.0, 601.0)
    >>> def r(c):  # noise-free 1:1 curve: ka 1e5 1/(M s), kd 1e-3 1/s, Rmax 50 RU, injection 30-230 s
    ...     on = (t >= 30) & (t <= 230); kobs = 1e5 * c + 1e-3; req = 1e5 * c * 50 / kobs
    ...     a = req * (1 - np.exp(-kobs * np.clip(t - 30, 0, 200)))
    ...     return np.where(t < 30, 0.0, np.where(on, a, a * np.exp(-1e-3 * (t - 230))))
    >>> df = pd.concat([pd.DataFrame({"cycle": i, "conc": c, "time": t, "response": r(c * 1e-9)})
    ...                 for i, c in enumerate([5.0, 20.0, 80.0], start=1)])
    >>> fit = fit_kinetics(df, t_on=30, t_off=230, conc_unit="nM")
    >>> round(fit.ka), round(fit.kd, 8), fit.flags
    (100000, 0.001, ())
    """
    options = (options or KineticsOptions()).replace(**option_values) if option_values else \
        (options or KineticsOptions())
    sg = build_sensorgrams(data, options, injections, cycle=cycle, conc=conc, time=time, response=response)
    if options.rmax == "local":
        zero = sg.injections.groupby("cycle_index")["conc_M"].max()
        if (zero <= 0).any():
            label = sg.cycles[int(zero.index[np.flatnonzero(zero.to_numpy() <= 0)[0]])]
            raise ValueError(f"cycle {label!r} has analyte concentration 0, so its local Rmax cannot be estimated; "
                             f"use rmax='global' or leave the blank cycle out")
    schedule = compile_schedule(sg)
    nuisance, nuisance_names = _nuisance(sg, schedule, options)
    lang = _Layout(LANGMUIR, sg.n_cycles, options.rmax == "local", nuisance, nuisance_names)
    if lang.size >= sg.time.size:
        raise ValueError(f"{sg.time.size} samples cannot determine {lang.size} parameters")
    x0 = _grid_start(sg, schedule, lang)
    fit = _run(lang, sg, schedule, x0, _fit_names(lang, sg))
    layout = lang
    if options.mass_transport:
        layout = _Layout(MASS_TRANSPORT, sg.n_cycles, lang.rmax_local, nuisance, nuisance_names)
        names = _fit_names(layout, sg)
        rmax_top = max(float(np.max(np.abs(fit.x[2:2 + lang.n_rmax]))), 1e-12)
        best = None
        for ratio in (10.0, 1.0, 0.1, 0.01):
            log_kt = fit.x[0] + np.log10(rmax_top / ratio)
            start = np.concatenate([fit.x[:2], [log_kt], fit.x[2:]])
            try:
                trial = _run(layout, sg, schedule, start, names)
            except ValueError:
                continue
            if trial.converged and (best is None or trial.rss < best.rss):
                best = trial
        fit = best if best is not None else _run(layout, sg, schedule, np.concatenate(
            [fit.x[:2], [fit.x[0] + np.log10(rmax_top)], fit.x[2:]]), names)
    return _result(options, data, sg, layout, fit)


@np.errstate(over="ignore", invalid="ignore", divide="ignore")    # inf/nan SEs of a degenerate fit become issues
def _result(options, data, sg, layout, fit: NlsFit) -> KineticsResult:
    q = t_quantile(options.confidence, fit.df)
    nr, nm = layout.n_rates, layout.n_rmax
    natural = fit.x.copy()
    natural[:nr] = 10.0 ** fit.x[:nr]
    grad = np.ones(fit.p)
    grad[:nr] = natural[:nr] * LN10
    vcov_nat = fit.vcov * np.outer(grad, grad)
    var_ln = fit.vcov[:nr, :nr] * LN10**2                      # covariance of ln(rates)
    se_ln = np.sqrt(np.diag(var_ln))
    rows = []
    for i, (name, unit) in enumerate(zip(layout.model.rates, layout.model.units)):
        est = natural[i]
        rows.append((name, None, None, est, est * se_ln[i], est * np.exp(-q * se_ln[i]), est * np.exp(q * se_ln[i]),
                     "log", unit.replace("RU", options.response_unit)))
        if name == "kd":
            ka, kd = natural[0], natural[1]
            KD = kd / ka
            v = var_ln[0, 0] + var_ln[1, 1] - 2 * var_ln[0, 1]
            se = np.sqrt(v) if v >= 0 else np.nan
            rows.append(("KD", None, None, KD, KD * se, KD * np.exp(-q * se), KD * np.exp(q * se), "log", "M"))
    se_all = np.sqrt(np.diag(fit.vcov))
    labels = [(("Rmax", c, None) if layout.rmax_local else ("Rmax", None, None))
              for c in (sg.cycles if layout.rmax_local else [None])]
    labels += list(layout.nuisance_names)
    units = {"Rmax": options.response_unit, "RI": options.response_unit, "drift": f"{options.response_unit}/s"}
    for i, (name, cyc, inj) in enumerate(labels, start=nr):
        est, se = natural[i], se_all[i]
        rows.append((name, cyc, inj, est, se, est - q * se, est + q * se, "linear", units[name]))
    columns = ["parameter", "cycle", "injection", "estimate", "se", "ci_low", "ci_high", "ci_scale", "unit"]
    table = pd.DataFrame({name: pd.Series([r[i] for r in rows], dtype=object if name in ("cycle", "injection")
                                          else None) for i, name in enumerate(columns)})
    vcov_names = list(layout.model.rates) + [_label(*lab) for lab in labels]
    vcov = pd.DataFrame(vcov_nat, columns=vcov_names)
    vcov.insert(0, "parameter", vcov_names)
    predicted = sg.response - fit.residuals
    fitted = sg.table()
    fitted["fitted"] = predicted
    fitted["residual"] = fit.residuals
    corr_fit = fit.corr()
    rates = {name: float(natural[i]) for i, name in enumerate(layout.model.rates)}
    se_rel = {name: float(se_ln[i]) for i, name in enumerate(layout.model.rates)}
    checked = list(layout.model.rates) + ([] if layout.rmax_local else ["Rmax"])
    corr = {(checked[a], checked[b]): float(corr_fit[a, b]) for a in range(len(checked))
            for b in range(a + 1, len(checked))}
    rmax = natural[nr:nr + nm]
    issues = quality_issues(options, sg, converged=fit.converged, message=fit.message, rank=fit.rank, n_par=fit.p,
                            rates=rates, se_log=se_rel, corr=corr, rmax=rmax,
                            residuals=fit.residuals)
    flags = tuple(i.code for i in issues if i.severity != "info")
    injections = sg.injections.drop(columns="cycle_index").copy()
    injections["cycle"] = injections["cycle"].astype(object)
    return KineticsResult(spec=options, table=table, issues=tuple(issues),
                          provenance=make_provenance(options, data, sg.injections), model=layout.model.name,
                          n=fit.n, n_parameters=fit.p, df_residual=fit.df, rss=fit.rss, chi2=fit.sigma2,
                          residual_sd=float(np.sqrt(fit.sigma2)), corr_ka_kd=float(corr_fit[0, 1]),
                          converged=fit.converged, flags=flags, fitted=fitted, vcov=vcov, injections=injections)
