"""Least-squares fit of one or several dose-response curves (drc's ``drm`` for continuous responses).

The residual sum of squares is minimised by Levenberg-Marquardt (:func:`scipy.optimize.least_squares`,
``method="lm"``, tolerances 1e-15) with the analytic Jacobian, on ln e (and ln f) so that e and f stay positive.
It starts from drc's self-starter (per curve; a shared parameter starts at the median of the curves' values) and
from b = +-1 (the self-starter's sign) with e at the geometric mean dose; the lowest RSS wins, ties going to the
self-starter.  Starts with the opposite sign of b (a mirrored curve) are tried only if neither converges.  drc
itself stops BFGS at a relative tolerance of 1e-7 and can sit slightly off the optimum (up to 2e-3 relative on the
two-curve S.alba data); this fit goes to the least-squares optimum.

Standard errors (``spec.se``):

* ``"drc"`` -- V = s^2 (J'J - sum_i r_i H_i)^-1 = [H_RSS / (2 s^2)]^-1, the inverse Hessian of the RSS that drc
  reports (r_i = y_i - f_i, H_i the Hessian of f_i in the parameters, by central differences of the analytic
  Jacobian);
* ``"jacobian"`` -- V = s^2 (J'J)^-1, the Gauss-Newton form of nls, Prism, scipy ``curve_fit`` and lmfit.

with s^2 = RSS / (n - p).  They differ by 0.05-2 % on typical data.  Both are stored on the result.

>>> import pandas as pd
>>> x = [0, 0, 1, 1, 3, 3, 10, 10, 30, 30, 100, 100]
>>> y = [100, 98, 97, 99, 85, 88, 52, 49, 18, 21, 5, 7]
>>> fit = fit_dose_response(pd.DataFrame({"conc": x, "response": y}))
>>> round(float(fit.estimates[3]), 2)          # e, the ED50
9.8
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from adcbridge.results import Issue, make_provenance

from .compare import NestedModelTest, nested_f_test
from .data import CurveData, check_curve_counts, prepare_curves
from .layout import LeastSquaresProblem, ParameterLayout
from .models import get_model, self_start
from .result import DoseResponseFit
from .spec import PARALLEL, DoseResponseSpec

__all__ = ["DoseResponseFit", "fit_dose_response"]

_TOL = 1e-15
#: the most curves of one joint fit: the pairwise relative potencies grow as n^2 (200 curves ran > 300 s)
MAX_JOINT_CURVES = 50
_TIE = 1e-9                    # relative RSS margin an alternative start must beat the self-starter by


# ------------------------------------------------------------------------------------------- the fitting
def _starts(problem: LeastSquaresProblem, data: CurveData) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(starts, fallbacks): drc's self-starter, then b = +-1 with the self-starter's sign and e at the geometric
    mean dose; the fallbacks flip the sign of b.  Keeping the sign keeps the orientation (c the lower, d the upper
    asymptote): a flipped LL.5 or Weibull curve is a different model (W1.4 with b < 0 and c > d is W2.4)."""
    layout = problem.layout
    K = data.n_curves
    full = np.empty((K, 5))
    for k in range(K):
        sel = data.curve == k
        full[k] = self_start(layout.model, data.x[sel], data.y[sel])
    fixed = layout.fixed_values
    full = np.where(np.isfinite(fixed), fixed, full)
    pos = data.x[data.x > 0]
    gm = float(np.exp(np.mean(np.log(pos)))) if pos.size else 1.0
    sign = np.where(full[:, 0] < 0, -1.0, 1.0)
    starts, fallbacks = [layout.pack(full)], []
    for flip, target in ((1.0, starts), (-1.0, fallbacks)):
        alt = full.copy()
        if not np.isfinite(fixed[0]):
            alt[:, 0] = flip * sign
        alt[:, 3] = gm
        target.append(layout.pack(alt))
    return starts, fallbacks


def _minimise(problem: LeastSquaresProblem, start: np.ndarray):
    phi0 = problem.to_internal(start)
    if not np.all(np.isfinite(phi0)):
        return None
    try:
        res = least_squares(problem.fun_internal, phi0, jac=problem.jac_internal, method="lm", x_scale="jac",
                            ftol=_TOL, xtol=_TOL, gtol=_TOL, max_nfev=400 * (len(phi0) + 1))
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    theta = problem.to_natural(res.x)
    rss = problem.rss(theta)
    if not np.isfinite(rss):
        return None
    return theta, rss, res.status > 0, res


def _optimise(problem: LeastSquaresProblem, starts: tuple[list[np.ndarray], list[np.ndarray]]):
    best = _best(problem, starts[0])
    if best is None or not best[2]:
        other = _best(problem, starts[1])
        if other is not None and (best is None or other[2]):
            best = other
    return best


def _best(problem: LeastSquaresProblem, starts: list[np.ndarray]):
    best = None
    for start in starts:
        out = _minimise(problem, start)
        if out is None:
            continue
        if best is None or (out[2] and not best[2]) or (
                out[2] == best[2] and out[1] < best[1] * (1 - _TIE) - 1e-300):
            best = out
    return best


def _fit_layout(data: CurveData, spec: DoseResponseSpec):
    layout = ParameterLayout(get_model(spec.model), data.labels, spec.shared_parameters, dict(spec.fixed))
    problem = LeastSquaresProblem(layout, data.x, data.y, data.curve)
    starts = _starts(problem, data)
    return layout, problem, starts, _optimise(problem, starts)


def _quality_issues(problem, theta, converged, v_drc, v_jac, jtj, data: CurveData, spec) -> list[Issue]:
    issues = []
    max_condition, max_relative_se = spec.max_condition, spec.max_relative_se
    if not converged:
        issues.append(Issue("not_converged", "the least-squares fit did not converge (iteration limit reached); "
                                             "the estimates are not an optimum", "error"))
    d = np.sqrt(np.diag(jtj))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = jtj / np.outer(d, d)
        cond = np.linalg.cond(scaled) if np.all(d > 0) else np.inf
    if not np.isfinite(cond) or cond > max_condition:
        issues.append(Issue("non_identifiable", f"the parameters are not identifiable from these data (scaled "
                                                f"J'J condition number {cond:.3g}); standard errors are unreliable",
                            "error"))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.sqrt(np.diag(v_jac)) / np.abs(theta)
        names = [t for t, p, r in zip(problem.layout.terms, problem.layout.term_parameters, rel)
                 if p in "bef" and not r <= max_relative_se]
        if names:
            issues.append(Issue("non_identifiable", f"{', '.join(names)}: the standard error exceeds "
                                                    f"{max_relative_se:g} "
                                                    f"times the estimate; the data do not determine "
                                                    f"{'it' if len(names) == 1 else 'them'} (e.g. a response that "
                                                    f"steps between two adjacent doses)", "error"))
    if spec.se == "drc" and not np.all(np.isfinite(v_drc)):
        issues.append(Issue("hessian_not_positive_definite", "the Hessian of the RSS is not positive definite "
                                                             "(not a strict minimum): drc-type standard errors "
                                                             "are missing; see se='jacobian'"))
    full = problem.layout.full(theta)
    for k, label in enumerate(data.labels):
        xs = data.x[data.curve == k]
        pos = xs[xs > 0]
        ed50, _ = problem.model.effective_dose(50.0, full[k])
        if pos.size and np.isfinite(ed50) and not (pos.min() <= ed50 <= xs.max()):
            name = f"curve {label!r}" if data.n_curves > 1 else "the curve"
            issues.append(Issue("ed50_outside_doses", f"{name}: the ED50 ({ed50:.4g}) lies outside the tested "
                                                      f"concentrations ({pos.min():.4g} to {xs.max():.4g}); it is "
                                                      f"an extrapolation"))
    return issues


def _statistics(n: int, P: int, rss: float) -> dict[str, float]:
    df = n - P
    loglik = -0.5 * n * (np.log(2 * np.pi) + np.log(rss / n) + 1)
    return {"n": n, "npar": P, "rss": rss, "df_residual": df, "residual_se": float(np.sqrt(rss / df)),
            "logLik": float(loglik), "AIC": float(-2 * loglik + 2 * (P + 1)),
            "BIC": float(-2 * loglik + np.log(n) * (P + 1))}


def _parameter_table(layout: ParameterLayout, theta, V, df, spec) -> pd.DataFrame:
    se = np.sqrt(np.diag(V))
    tq = stats.t.ppf(0.5 + spec.confidence / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = theta / se
    units = {"b": "1", "c": spec.y_unit, "d": spec.y_unit, "e": spec.x_unit, "f": "1"}
    return pd.DataFrame({
        "term": list(layout.terms), "parameter": list(layout.term_parameters),
        "curve": pd.Series(list(layout.term_curves), dtype=object), "estimate": theta, "se": se, "t": t,
        "p": 2 * stats.t.sf(np.abs(t), df), "ci_low": theta - tq * se, "ci_high": theta + tq * se,
        "unit": pd.Series([units[p] for p in layout.term_parameters], dtype=object)})


def _single_fit(data: CurveData, spec: DoseResponseSpec, *, parallelism: NestedModelTest | None = None,
                extra_issues=(), provenance_inputs=()) -> DoseResponseFit:
    layout, problem, starts, best = _fit_layout(data, spec)
    issues = list(data.issues) + list(extra_issues)
    if best is None:
        raise ValueError(f"the {spec.model} fit failed from every start (the optimiser could not evaluate the "
                         f"model); check the data")
    theta, rss, converged, _ = best
    v_drc, v_jac, jtj = problem.covariances(theta)
    issues += _quality_issues(problem, theta, converged, v_drc, v_jac, jtj, data, spec)
    stat = _statistics(len(data.y), layout.n_parameters, rss)
    V = v_drc if spec.se == "drc" else v_jac
    fitted = problem.predict(theta)
    observations = pd.DataFrame({"curve": pd.Series(np.asarray(data.labels, dtype=object)[data.curve], dtype=object),
                                 "x": data.x, "y": data.y, "fitted": fitted, "residual": data.y - fitted})
    fit = DoseResponseFit(spec=spec, table=_parameter_table(layout, theta, V, stat["df_residual"], spec),
                          issues=tuple(issues), provenance=make_provenance(spec, *provenance_inputs),
                          curves=data.labels, terms=layout.terms, estimates=theta, vcov_drc=v_drc,
                          vcov_jacobian=v_jac, index=layout.index, statistics=stat, start=starts[0][0],
                          observations=observations, ed_table=None, parallelism=parallelism, converged=converged)
    return dataclasses.replace(fit, ed_table=fit.ed())


def _count_issues(data: CurveData, spec: DoseResponseSpec) -> list[Issue]:
    layout = ParameterLayout(get_model(spec.model), data.labels, spec.shared_parameters, dict(spec.fixed))
    return check_curve_counts(data, layout.curve_parameters(), [len(layout.free)] * data.n_curves,
                              layout.n_parameters)


def _parallelism(data: CurveData, spec: DoseResponseSpec) -> tuple[NestedModelTest | None, list[Issue]]:
    model = get_model(spec.model)
    full_spec = spec.replace(shared=(), test_parallelism=False)
    par_spec = spec.replace(shared=(PARALLEL,), test_parallelism=False)
    if not par_spec.shared_parameters:
        return None, []
    fits = {}
    for name, s in (("full", full_spec), ("parallel", par_spec)):
        try:
            _count_issues(data, s)
        except ValueError as exc:
            return None, [Issue("parallelism_not_tested", f"the {name} {model.name} model cannot be fitted ({exc}); "
                                                          f"the parallelism F-test is not reported")]
        layout, _, _, best = _fit_layout(data, s)
        if best is None or not best[2] or len(data.y) <= layout.n_parameters:
            return None, [Issue("parallelism_not_tested", f"the {name} {model.name} model did not converge; the "
                                                          f"parallelism F-test is not reported")]
        fits[name] = (best[1], len(data.y) - layout.n_parameters)
    (rss_p, df_p), (rss_f, df_f) = fits["parallel"], fits["full"]
    test = nested_f_test(rss_p, df_p, rss_f, df_f,
                         reduced=f"{model.name} common {','.join(par_spec.shared_parameters)}",
                         full=f"{model.name} separate curves")
    return test, []


def fit_dose_response(data: pd.DataFrame, spec: DoseResponseSpec | None = None, *, parallel: bool = False,
                      **options) -> DoseResponseFit:
    """Fit a dose-response model to one or several curves of a long table.

    ``data`` has a concentration column ``x``, a response column ``y`` and optionally a curve column ``curve``;
    zero concentrations are allowed (they inform the zero-dose asymptote).  Options are the fields of
    :class:`~.spec.DoseResponseSpec` (``model``, ``x``, ``y``, ``curve``, ``shared``, ``fixed``, ``se``,
    ``ed_levels``, ``ed_interval``, ``confidence``, ``test_parallelism``, ``x_unit``, ``y_unit``); given with a
    ``spec`` they replace its fields.  ``parallel=True`` is ``shared="parallel"`` (common b, c, d[, f]).

    Raises ValueError for bad input (see :mod:`.data`).  Fit problems (no convergence, non-identifiable
    parameters, ED50 outside the tested range, ...) are reported in ``issues``.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"dose": [0, 0.1, 0.3, 1, 3, 10, 30] * 2,
    ...                   "signal": [2, 3, 9, 25, 60, 88, 97, 1, 4, 10, 27, 58, 90, 96]})
    >>> fit = fit_dose_response(d, x="dose", y="signal", model="LL4")
    >>> fit.table["term"].tolist()
    ['b:(Intercept)', 'c:(Intercept)', 'd:(Intercept)', 'e:(Intercept)']
    >>> bool(fit.estimates[0] < 0)                 # an increasing curve has b < 0 in drc's convention
    True
    """
    if parallel:
        options["shared"] = (PARALLEL,)
    if spec is None:
        spec = DoseResponseSpec(**options)
    elif not isinstance(spec, DoseResponseSpec):
        raise ValueError(f"spec must be a DoseResponseSpec; got {type(spec).__name__}")
    elif options:
        spec = spec.replace(**options)
    curves = prepare_curves(data, x=spec.x, y=spec.y, curve=spec.curve)
    if curves.n_curves > MAX_JOINT_CURVES:
        raise ValueError(f"{curves.n_curves} curves: fit_dose_response fits curves jointly (shared parameters, "
                         f"parallelism, every pairwise relative potency) for up to {MAX_JOINT_CURVES}; fit many "
                         f"independent curves with fit_dose_response_batch (adcbridge fit dose-response-batch)")
    extra = _count_issues(curves, spec)
    test = None
    if spec.test_parallelism and curves.n_curves > 1:
        test, more = _parallelism(curves, spec)
        extra += more
    return _single_fit(curves, spec, parallelism=test, extra_issues=extra,
                       provenance_inputs=(curves.frame(),))
