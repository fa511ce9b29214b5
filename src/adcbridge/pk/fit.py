"""Fitting compartmental models: individual (one fit per subject, all subjects at once) or naive pooled.

>>> import pandas as pd
>>> from adcbridge.pk import fit_pk, simulate, Regimen
>>> t = [0.5, 1, 4, 24, 72, 168, 336]
>>> c = simulate("2cmt", {"CL": 0.8, "V1": 40, "Q": 1.2, "V2": 40}, Regimen.single(3, 0.5), t)[0]
>>> d = pd.DataFrame({"ID": "A", "TIME": t, "CONC": c, "DOSE": 3.0})
>>> r = fit_pk(d, "2cmt")
>>> round(r.estimate("CL"), 4), round(r.estimate("V1"), 3)
(0.8, 40.0)

The estimation (maximum likelihood, Levenberg-Marquardt scoring over all subjects and starts at once) is in
:mod:`adcbridge.pk.estimation`; error models in :mod:`adcbridge.pk.errors`; BLQ handling in
:mod:`adcbridge.pk.data`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from adcbridge.fitting import covariance_entries
from adcbridge.results import Issue, make_provenance

from .data import prepare_data
from .errors import ERROR_MODELS, error_names
from .estimation import Batch, Estimator
from .models import TwoCompartment
from .result import PKFitOptions, PKFitResult
from .starts import TARGET_MODELS, model_start, nca_guess, target_grid

__all__ = ["fit_pk"]


def _error_start(est, phi_struct, units, error, n_out):
    """log sigma starts from the residuals at the structural start, per unit and output."""
    k = len(ERROR_MODELS[error])
    rows, owner, _ = est.expand(units)
    f = est.predict(phi_struct[owner], rows)
    y, m, o = est.b.y[rows], est.b.mask[rows], est.b.out_idx[rows]
    out = np.zeros((len(units), n_out * k))
    for j in range(n_out):
        sel = m & (o == j)
        fj = np.maximum(f, 1e-300)
        with np.errstate(over="ignore", invalid="ignore"):
            rel = np.where(sel, ((y - fj) / fj) ** 2, 0.0)
            ab = np.where(sel, (y - fj) ** 2, 0.0)
            lg = np.where(sel, (np.log(np.where(sel, y, 1.0)) - np.log(fj)) ** 2, 0.0)
        n = np.maximum(np.add.reduceat(sel.sum(1), np.unique(owner, return_index=True)[1]), 1)

        def mean(a, n=n):
            return np.add.reduceat(a.sum(1), np.unique(owner, return_index=True)[1]) / n

        prop = np.clip(np.sqrt(mean(rel)), 0.02, 2.0)
        add = np.sqrt(np.maximum(mean(ab), 1e-12))
        ymin = np.full(len(units), np.inf)
        np.minimum.at(ymin, owner, np.where(sel, y, np.inf).min(axis=1))
        if error == "proportional":
            out[:, j] = np.log(prop)
        elif error == "additive":
            out[:, j] = np.log(add)
        elif error == "log":
            out[:, j] = np.log(np.clip(np.sqrt(mean(lg)), 0.02, 2.0))
        else:
            out[:, 2 * j] = np.log(np.where(np.isfinite(ymin), 0.5 * ymin, 1e-3))
            out[:, 2 * j + 1] = np.log(prop)
    return out


def fit_pk(data: pd.DataFrame, model: str = "2cmt", options: PKFitOptions | None = None, *,
           dosing: pd.DataFrame | None = None, **option_values) -> PKFitResult:
    """Fit a PK ``model`` to a long concentration table (see :class:`PKFitOptions` for every option).

    Individual fits (default) estimate one parameter set per subject; ``pooled=True`` one for all (or per
    ``group``).  Objective: -2 log-likelihood with the chosen residual error model (extended least squares),
    parameters on the log scale, ``n_starts`` starts, standard errors from the Hessian, AIC = OFV + 2k, BIC =
    OFV + k ln n.  Problems (no convergence, a singular Hessian, RSE > ``max_relative_se`` (50 %), |correlation|
    > ``max_correlation`` (0.95), a bound reached, BLQ exclusions) are :class:`~adcbridge.results.Issue` s of the
    result."""
    base = options or PKFitOptions(model=model)
    if model != base.model and options is None:
        base = PKFitOptions(model=model)
    opts = base.replace(**option_values) if option_values else base
    m = opts.make_model()
    for k in list(opts.fixed) + list(opts.start):
        m.parameter(k)
    d = prepare_data(data, m, subject=opts.subject, time=opts.time, conc=opts.conc, dose=opts.dose, blq=opts.blq,
                     analyte=opts.analyte, analytes=opts.analytes, dosing=dosing, dose_time=opts.dose_time,
                     route=opts.route, tinf=opts.tinf, time_unit=opts.time_unit,
                     groups=(opts.group if opts.pooled else None))
    if opts.analytes is None:
        opts = opts.replace(analytes=tuple(d.analytes)) if d.analytes != [m.outputs[0]] or m.name == "adc" else opts
    b = d.batch
    U = len(d.units)
    free = [n for n in m.names if n not in opts.fixed]
    enames = error_names(opts.error, d.outputs)
    p, q = len(free), len(enames)
    issues: list[Issue] = []
    n_obs = np.array([int(b.mask[b.unit == u].sum()) for u in range(U)])
    too_few = n_obs <= p + q
    if too_few.all():
        raise ValueError(f"no subject has more than {p + q} usable observations (the number of parameters of "
                         f"model {m.name} with {opts.error} error)")
    for u in np.flatnonzero(too_few):
        issues.append(Issue("too_few_observations", f"{d.units[u]}: {n_obs[u]} observations for {p + q} "
                                                    f"parameters; not fitted", "error"))
    fixed = {k: np.full(U, float(v)) for k, v in opts.fixed.items()}
    est = Estimator(m, b, d.outputs, free, fixed, opts.error, q, method=opts.method)

    # ----------------------------------------------------------------------------------------- starts
    # the analyte of the data-driven start: the first one; for target-mediated models (free and total drug are
    # both drug concentrations) the one with the most usable samples
    lead = int(np.argmax(np.bincount(b.out_idx[b.mask], minlength=len(d.outputs)))) if m.name in TARGET_MODELS else 0
    first_idx = b.out_idx == lead
    guess = nca_guess(b.times, b.y, b.mask & first_idx, b.dose_time[:, 0], b.amount.sum(1), b.amount[:, 0])
    bounds = m.bounds()
    lower = np.log([bounds[n][0] for n in free] + [1e-8] * q)
    upper = np.log([bounds[n][1] for n in free] + [1e4] * q)
    S = opts.n_starts
    rng = np.random.default_rng(opts.seed)
    phi0 = np.zeros((U, S, p + q))
    for u in range(U):
        g = guess[b.unit == u]
        g = g[np.all(np.isfinite(g) & (g > 0), axis=1)]
        cmed = float(np.median(b.y[(b.unit == u)[:, None] & b.mask & first_idx])) if (
            (b.unit == u)[:, None] & b.mask & first_idx).any() else 1.0
        st = model_start(m, *np.exp(np.log(g).mean(0)), cmed) if len(g) else m.start()
        st.update(opts.start)
        phi0[u, :, :p] = np.log([st[n] for n in free])
    phi0[:, 1:, :p] += 0.5 * rng.standard_normal((U, S - 1, p))
    phi0[..., :p] = np.clip(phi0[..., :p], lower[:p], upper[:p])
    units = np.repeat(np.arange(U), S)
    fit_units = np.flatnonzero(~too_few)
    if m.name in TARGET_MODELS and p and fit_units.size:
        staged = _staged_starts(m, est, opts, free, fixed, phi0[fit_units, 0, :p], fit_units, lower, upper, S)
        phi0[fit_units, :, :p] = np.where(np.isfinite(staged), staged, phi0[fit_units, :, :p])
    sel = np.isin(units, fit_units)
    flat = phi0.reshape(U * S, p + q)
    flat[sel, p:] = _error_start(est, flat[sel, :p], units[sel], opts.error, len(d.outputs))
    phi, ofv, conv, iters = flat.copy(), np.full(U * S, np.inf), np.zeros(U * S, bool), np.zeros(U * S, int)
    phi[sel], ofv[sel], conv[sel], iters[sel] = est.minimise(flat[sel], units[sel], lower, upper)

    # ------------------------------------------------------------------------------------ best per unit
    ofv_us = ofv.reshape(U, S)
    best = np.argmin(np.where(np.isfinite(ofv_us), ofv_us, np.inf), axis=1)
    pick = np.arange(U) * S + best
    phi_b, ofv_b, conv_b = phi[pick], ofv[pick], conv[pick]
    with np.errstate(invalid="ignore"):
        at_best = np.sum(np.abs(ofv_us - ofv_b[:, None]) <= 1e-6 * (1 + np.abs(ofv_b[:, None])), axis=1)
    cov = np.full((U, p + q, p + q), np.nan)
    weak: dict[int, list[str]] = {}
    if fit_units.size:
        if opts.se == "observed":
            H = est.observed_hessian(phi_b[fit_units], fit_units)
        else:
            H = est.derivatives(phi_b[fit_units], fit_units, observed=False)[2]
        for i, u in enumerate(fit_units):
            cov[u], weak[u] = _covariance(0.5 * (H[i] + H[i].T), free + enames)
    return _assemble(opts, m, d, est, free, enames, phi_b, ofv_b, conv_b, iters[pick], at_best, cov, too_few,
                     n_obs, lower, upper, issues, data, dosing, weak)


def _staged_starts(m, est, opts, free, fixed, phi_nca, units, lower, upper, S):
    """Starts (len(units), S, p) of a target-mediated model: fit the linear 2cmt core on the analyte with the most
    usable samples, score a grid of target parameters around it (:func:`~adcbridge.pk.starts.target_grid`) and
    keep the S best distinct grid points (NaN where fewer are finite; the caller keeps its own starts there).
    User starts and fixed values win over the grid."""
    b = est.b
    core = TwoCompartment(rate_time=m.rate_time, per_kg=m.per_kg)
    core_free = [n for n in core.names if n not in fixed]
    core_fixed = {n: fixed[n] for n in core.names if n in fixed}
    lead = int(np.argmax(np.bincount(b.out_idx[b.mask], minlength=len(est.outputs))))
    first = b.mask & (b.out_idx == lead)
    cb = Batch(b.times, b.y, first, np.zeros_like(b.out_idx), b.dose_time, b.amount, b.duration, b.unit)
    k_err = len(ERROR_MODELS[opts.error])
    cest = Estimator(core, cb, ["C"], core_free, core_fixed, opts.error, k_err)
    U = len(units)
    cols = [free.index(n) for n in core_free]
    cphi = np.zeros((U, len(core_free) + k_err))
    cphi[:, :len(core_free)] = phi_nca[:, cols]
    cphi[:, len(core_free):] = _error_start(cest, cphi[:, :len(core_free)], units, opts.error, 1)
    clo = np.concatenate([lower[cols], np.full(k_err, np.log(1e-8))])
    chi = np.concatenate([upper[cols], np.full(k_err, np.log(1e4))])
    cphi, cofv, _, _ = cest.minimise(cphi, units, clo, chi)
    p = len(free)
    out = np.full((U, S, p), np.nan)
    grids, owners = [], []
    for i, u in enumerate(units):
        if not np.isfinite(cofv[i]):
            continue
        core_values = {n: float(np.exp(cphi[i, j])) for j, n in enumerate(core_free)}
        core_values.update({n: float(v[u]) for n, v in core_fixed.items()})
        y = b.y[(b.unit == u)[:, None] & first]
        y = y[y > 0]
        if not y.size:
            continue
        g = target_grid(m, core_values, *np.quantile(y, [0.1, 0.5]), float(y.max()))
        for n, v in opts.start.items():
            if n in g:
                g[n] = np.full(next(iter(g.values())).size, float(v))
        grid = np.log(np.column_stack([g[n] if n in g else np.full(next(iter(g.values())).size, np.exp(
            phi_nca[i, j])) for j, n in enumerate(free)]))
        grids.append(np.unique(np.clip(grid, lower[:p], upper[:p]), axis=0))   # user starts make duplicates
        owners.append(np.full(grids[-1].shape[0], i))
    if not grids:
        return out
    grid, owner = np.concatenate(grids), np.concatenate(owners)
    gphi = np.column_stack([grid, _error_start(est, grid, units[owner], opts.error, len(est.outputs))])
    score = est.ofv(gphi, units[owner])
    for i in np.unique(owner):
        sel = np.flatnonzero((owner == i) & np.isfinite(score))
        best = sel[np.argsort(score[sel], kind="stable")][:S]
        out[i, :best.size] = grid[best]
    return out


def _covariance(Hs: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str] | None]:
    """2 H^-1 (OFV = -2 log L) when H is positive definite.  Otherwise the parameters the data do not inform
    (loading > 0.3 on an eigenvector whose eigenvalue is ~0 or negative) are named, and the covariance of the
    others comes from their own block when that block is positive definite (NaN for the uninformed ones).  A
    Hessian with non-finite entries gives no covariance and ``None`` (nothing can be said about the data)."""
    k = len(names)
    out = np.full((k, k), np.nan)
    if not np.all(np.isfinite(Hs)):
        return out, None                                 # not computable: no statement about the data
    tol = 1e-10 * max(np.abs(Hs).max(), 1e-300)
    lam, vec = np.linalg.eigh(Hs)
    if lam.min() > tol:
        return 2 * np.linalg.inv(Hs), []
    bad = np.any(np.abs(vec[:, lam <= tol]) > 0.3, axis=1)
    weak = [n for n, b in zip(names, bad) if b]
    keep = np.flatnonzero(~bad)
    if keep.size:
        sub = Hs[np.ix_(keep, keep)]
        if np.linalg.eigvalsh(sub).min() > tol:
            out[np.ix_(keep, keep)] = 2 * np.linalg.inv(sub)
    return out, weak


def _assemble(opts, m, d, est, free, enames, phi_b, ofv_b, conv_b, iters, at_best, cov, too_few, n_obs, lower,
              upper, issues, data, dosing, weak):
    p, q = len(free), len(enames)
    z = stats.norm.ppf(0.5 + opts.level / 2)
    rows, stats_rows, blocks = [], [], []
    names = free + enames
    unit_of = np.asarray(d.batch.unit)
    blq_per_unit = np.bincount(unit_of, weights=[d.n_blq[s] for s in d.subjects], minlength=len(d.units))
    pre_per_unit = np.bincount(unit_of, weights=[d.n_predose[s] for s in d.subjects], minlength=len(d.units))
    for u, uid in enumerate(d.units):
        with np.errstate(invalid="ignore", over="ignore"):
            se_log = np.sqrt(np.diag(cov[u]))             # NaN for parameters without a covariance
            lo_f, hi_f = np.exp(-z * se_log), np.exp(z * se_log)
        est_u = np.exp(phi_b[u]) if not too_few[u] else np.full(p + q, np.nan)
        blocks.append((np.arange(len(rows), len(rows) + p + q), cov[u] * np.outer(est_u, est_u)))
        for j, n in enumerate(names):
            e = float(np.exp(phi_b[u, j])) if not too_few[u] else np.nan
            s = e * se_log[j]
            unit = m.unit(n) if j < p else ("1" if "prop" in n or "log" in n else _conc_unit(m, n, d))
            rows.append({"id": uid, "parameter": n, "estimate": e, "se": s, "rse": 100 * se_log[j],
                         "ci_low": e * lo_f[j], "ci_high": e * hi_f[j], "unit": unit,
                         "kind": "structural" if j < p else "error", "fixed": False})
        for n, v in opts.fixed.items():
            rows.append({"id": uid, "parameter": n, "estimate": float(v), "se": np.nan, "rse": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "unit": m.unit(n), "kind": "structural",
                         "fixed": True})
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(cov[u]))
            corr = cov[u] / np.outer(sd, sd)
        off = np.abs(corr[~np.eye(p + q, dtype=bool)]) if p + q > 1 else np.array([0.0])
        k = p + q
        stats_rows.append({"id": uid, "n": int(n_obs[u]),
                           "n_blq": int(blq_per_unit[u]), "n_predose": int(pre_per_unit[u]),
                           "n_parameters": k, "ofv": float(ofv_b[u]) if not too_few[u] else np.nan,
                           "aic": float(ofv_b[u] + 2 * k) if not too_few[u] else np.nan,
                           "bic": float(ofv_b[u] + k * np.log(n_obs[u])) if not too_few[u] else np.nan,
                           "converged": bool(conv_b[u]), "iterations": int(iters[u]),
                           "starts_at_best": int(at_best[u]),
                           "max_abs_corr": float(np.nanmax(off)) if np.isfinite(off).any() else np.nan})
        if too_few[u]:
            continue
        _unit_issues(issues, uid, names, p, phi_b[u], conv_b[u], cov[u], se_log, off, lower, upper, at_best[u],
                     opts.n_starts, weak.get(u, []), max_relative_se=opts.max_relative_se,
                     max_correlation=opts.max_correlation)
    nblq = sum(d.n_blq.values())
    if nblq:
        issues.append(Issue("blq_excluded", f"{nblq} BLQ observations excluded (M1)", "info"))
    if d.n_missing:
        issues.append(Issue("missing_excluded", f"{d.n_missing} samples without a concentration (empty, not flagged "
                                                f"BLQ) were left out", "warning"))
    table = pd.DataFrame(rows)
    preds = _predictions(est, d, phi_b, p, opts.error, too_few)
    su = pd.DataFrame({"subject": d.subjects, "id": [d.units[u] for u in d.batch.unit]})
    return PKFitResult(spec=opts, table=table, issues=tuple(issues), provenance=make_provenance(opts, data, dosing),
                       fit_statistics=pd.DataFrame(stats_rows), predictions=preds,
                       dosing=d.dosing.astype({"subject": str}), subject_unit=su,
                       parameter_vcov=covariance_entries(blocks))


def _conc_unit(m, name, d):
    if "[" in name:
        return m.output_unit(name.split("[")[1].rstrip("]"))
    return m.output_unit(d.outputs[0])


def _unit_issues(issues, uid, names, p, phi, conv, cov, se_log, off, lower, upper, at_best, n_starts, weak=(), *,
                 max_relative_se=0.5, max_correlation=0.95):
    if not conv:
        issues.append(Issue("not_converged", f"{uid}: the optimiser did not converge", "error"))
    if not np.all(np.isfinite(cov)):
        if weak is None:
            which = ("the Hessian could not be computed (the objective is not finite at points around the estimate, "
                     "e.g. the ODE solver's work limit)")
        else:
            which = (f"the data do not inform {', '.join(weak)}" if weak else
                     "the parameters are not identifiable from these data")
        kept = [n for n, v in zip(names, se_log) if np.isfinite(v)]
        issues.append(Issue("covariance_failed", f"{uid}: the Hessian is singular or not positive definite; {which}"
                            + (f" (standard errors kept for {', '.join(kept)})" if kept else ""), "warning"))
    high = [f"{n} ({100 * s:.0f}%)" for n, s in zip(names, se_log) if np.isfinite(s)
            and 100 * s > 100 * max_relative_se]
    if high:                                          # also for the standard errors a partial covariance keeps
        issues.append(Issue("high_rse", f"{uid}: RSE > {100 * max_relative_se:g}% for {', '.join(high)}", "warning"))
    if np.all(np.isfinite(cov)):
        if off.size and np.nanmax(off) > max_correlation:
            issues.append(Issue("high_correlation", f"{uid}: |correlation| of estimates up to {np.nanmax(off):.3f}",
                                "info"))
    hit = [n for n, v, lo, hi in zip(names, phi, lower, upper) if v <= lo + 1e-6 or v >= hi - 1e-6]
    if hit:
        issues.append(Issue("at_bound", f"{uid}: {', '.join(hit)} at a bound of the search", "warning"))
    if n_starts > 1 and at_best < 2:
        issues.append(Issue("single_start_at_best", f"{uid}: only 1 of {n_starts} starts reached the best "
                                                    f"objective (local optima)", "info"))


def _predictions(est, d, phi_b, p, error, too_few):
    b = est.b
    R = b.times.shape[0]
    f = est.predict(phi_b[b.unit, :p], np.arange(R))
    from .errors import variance
    ft = np.log(np.maximum(f, 1e-300)) if error == "log" else f
    v, _, _ = variance(error, ft, phi_b[b.unit, p:], b.out_idx)
    yt = np.log(np.where(b.mask, b.y, 1.0)) if error == "log" else b.y
    w = (yt - ft) / np.sqrt(np.maximum(v, 1e-300))
    m = b.mask
    r_idx = np.nonzero(m)
    pred = f[r_idx]
    out = pd.DataFrame({"id": [d.units[b.unit[r]] for r in r_idx[0]],
                        "subject": [d.subjects[r] for r in r_idx[0]],
                        "analyte": [d.analytes[b.out_idx[r, c]] if len(d.analytes) > 1 else d.analytes[0]
                                    for r, c in zip(*r_idx)],
                        "time": b.times[r_idx], "dv": b.y[r_idx], "pred": pred, "res": b.y[r_idx] - pred,
                        "wres": w[r_idx]})
    bad = np.isin(out["id"], [d.units[u] for u in np.flatnonzero(too_few)])
    out.loc[bad, ["pred", "res", "wres"]] = np.nan
    return out
