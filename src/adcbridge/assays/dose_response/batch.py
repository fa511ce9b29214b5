"""Fitting thousands of independent dose-response curves at once (plates, screens, bootstrap replicates).

:func:`fit_curves_array` fits one model to N curves given as (N, m) arrays and returns a :class:`BatchFit` of
arrays; :func:`~.batch_table.fit_dose_response_batch` does the same from a long table.  The work is split by
concept:

* :mod:`.batch_curves` -- the model evaluated for a stack of curves, and the variable projection of the levels;
* :mod:`.batch_iterate` -- the vectorised Levenberg-Marquardt iteration (all parameters, then the shape only);
* :mod:`.batch_limits` -- the limiting curves (constant, step, power curve) and ``rss_limit``, the cheap test for
  a finite optimum;
* :mod:`.batch_fallback` -- the bounded per-curve scipy refit of the curves the batch did not converge on;
* :mod:`.batch_covariance` -- standard errors (``"drc"`` or ``"jacobian"``, as in :mod:`.fit`);
* this module -- the checks before the fit, the per-curve status and reason, warnings capture, assembly.

**Per-curve status** (``STATUSES``):

* ``converged`` -- the fit stopped at a finite optimum;
* ``not_identifiable`` -- the fit reached its least RSS (below rss_limit, so a finite optimum exists) but the RSS
  stays flat (less than 1e-8 relative decrease over 20 steps) while the parameters drift along a valley: many
  parameter values fit the data equally well (e.g. b of a step between two adjacent doses).  The estimates are
  one point of that valley; ``identifiable`` is false;
* ``diverged`` -- no finite least-squares estimate: the fit runs out to a limiting curve (``limit`` says which,
  ``rss_limit`` its RSS), or its parameters run far out without beating rss_limit.  No standard errors;
* ``not_converged`` -- ``max_iter`` used up (and no scipy refit converged);
* ``failed`` -- the curve cannot be fitted (too few distinct concentrations, constant response, no residual df,
  responses beyond 1e150 in size); ``method == "failed"`` and a ``reason`` (PKNCA-style), and the batch goes on.

drc has no test for a finite optimum: ``drm`` runs BFGS from the self-starter until the relative RSS change falls
below 1e-7 and returns that point -- for a curve without a finite optimum an arbitrary point on the way out,
usually with huge or missing standard errors -- or stops with "Convergence failed".  Here such a curve keeps its
batch point (whose RSS is that of the limit to 1e-7, or says how far above it is), no standard errors, and a
status and reason that say why; refitting it one by one cannot help, so it is not refitted.

**Warnings.**  Trial points that overflow are rejected by the iteration (evaluated with floating-point warnings
off); any other numpy/scipy warning raised inside the fit is caught and returned in ``issues`` (code
``numerical_warning``, its category, message and count), never printed.  The fit runs under numpy's default
error handling whatever ``np.seterr`` says outside.  Responses beyond 1e150 (or all below 1e-150) in size are
refused per curve (their squares leave double precision).

A curve is ``identifiable`` when the condition number of its column-scaled J'J is at most 1e10 and the standard
errors of b, e (and f) are finite and at most 10 times the estimates (and its status is neither
``not_identifiable`` nor ``diverged``); otherwise ``reason`` says why.  ED50 is reported with its delta SE.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from adcbridge.results import Issue

from .batch_covariance import covariances
from .batch_curves import CurveStack
from .batch_fallback import refit_curves
from .batch_iterate import iterate
from .batch_limits import LIMIT_KINDS, LIMIT_MARGIN, LIMIT_WORDS, REACH, limit_rss
from .models import PARAMETERS, DoseResponseModel, get_model, self_start
from .spec import MAX_CONDITION, MAX_RELATIVE_SE

__all__ = ["LIMIT_KINDS", "LIMIT_MARGIN", "STATUSES", "BatchFit", "fit_curves_array", "limit_rss"]

STATUSES = ("converged", "not_identifiable", "diverged", "not_converged", "failed")


@dataclass(frozen=True)
class BatchFit:
    """Arrays of a batch fit of N curves: ``params`` (N, 5: b, c, d, e, f, fixed ones filled in), ``se`` (N, 5,
    NaN for fixed parameters), ``rss``, ``n_obs``, ``df_residual``, ``converged``, ``identifiable`` (scaled
    J'J condition number <= MAX_CONDITION (1e10) and finite standard errors), ``status`` (one of ``STATUSES``:
    ``converged``, ``not_identifiable`` -- least RSS reached while the parameters drift along a valley where it
    is flat --, ``diverged`` -- no finite optimum: the fit runs out to a limiting curve --, ``not_converged`` or
    ``failed``; see the module docstring), ``iterations``, ``method`` (``batch``, ``scipy`` or ``failed``),
    ``reason`` (why a curve failed or is doubtful, else None), ``ed50``, ``ed50_se``, ``rss_limit`` (the least RSS
    of the limiting curves: constant, step, power curve; NaN when not computed), ``limit`` (which of them:
    ``constant``, ``step``, ``power`` or ""), and ``issues`` (fallback cap, numerical warnings)."""

    params: np.ndarray
    se: np.ndarray
    rss: np.ndarray
    n_obs: np.ndarray
    df_residual: np.ndarray
    converged: np.ndarray
    identifiable: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    method: np.ndarray
    reason: np.ndarray
    ed50: np.ndarray
    ed50_se: np.ndarray
    rss_limit: np.ndarray
    limit: np.ndarray
    issues: tuple[Issue, ...] = ()


def _prechecks(x, y, w, n_par: int):
    """Per-curve reason a curve cannot be fitted, or None."""
    N = x.shape[0]
    reasons = np.full(N, None, dtype=object)
    n_obs = w.sum(axis=1)
    xs = np.where(w, x, np.nan)
    srt = np.sort(xs, axis=1)
    distinct = (np.isfinite(srt[:, :1])).astype(int)[:, 0] + np.sum(
        (np.diff(srt, axis=1) > 0) & np.isfinite(srt[:, 1:]), axis=1)
    yw = np.where(w, y, np.nan)
    with np.errstate(invalid="ignore"):
        constant = ~(np.nanmax(yw, axis=1) > np.nanmin(yw, axis=1))
    for i in np.flatnonzero(distinct < n_par):
        reasons[i] = f"{distinct[i]} distinct concentration(s), fewer than the {n_par} parameters"
    for i in np.flatnonzero(constant & np.equal(reasons, None)):
        reasons[i] = "constant response"
    for i in np.flatnonzero((n_obs <= n_par) & np.equal(reasons, None)):
        reasons[i] = f"{n_obs[i]} observations leave no residual degree of freedom for {n_par} parameters"
    with np.errstate(invalid="ignore"):
        size = np.nanmax(np.abs(yw), axis=1)
    for i in np.flatnonzero(~((size >= 1e-150) & (size <= 1e150)) & np.equal(reasons, None)):
        reasons[i] = (f"responses of the order of {size[i]:.3g} are out of reach of double-precision least squares "
                      f"(squares over- or underflow); rescale them")
    return reasons, n_obs


def fit_curves_array(x, y, model: str | DoseResponseModel = "LL.4", *, fixed: dict | None = None,
                     mask=None, se: str = "drc", max_iter: int = 500, fallback: bool = True,
                     max_fallback: int = 100) -> BatchFit:
    """Fit N independent curves given as (N, m) arrays ``x`` (doses, zero allowed) and ``y``; NaN entries (or
    ``mask`` False) are left out, so curves may have different numbers of points.  ``fixed`` holds parameters
    at a value for every curve (``{"c": 0}``).  ``fallback`` refits, one by one with scipy, at most
    ``max_fallback`` curves that the batch did not converge on but that have a finite optimum.  The algorithm is
    in :mod:`.batch_iterate`, the limiting curves in :mod:`.batch_limits`, the fallback in :mod:`.batch_fallback`;
    the statuses in the module docstring.

    >>> x = np.tile([0.01, 0.1, 1, 10, 100], (2, 1))
    >>> y = np.array([[99, 95, 52, 8, 2], [10, 21, 29, 41, 50]])      # the second is straight in ln x
    >>> fit = fit_curves_array(x, y)
    >>> fit.status.tolist(), fit.limit.tolist()
    (['converged', 'diverged'], ['', 'power'])
    """
    model = get_model(model)
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    w = np.isfinite(x) & np.isfinite(y)
    if mask is not None:
        w &= np.asarray(mask, dtype=bool)
    if np.any(x[w] < 0):
        i = int(np.flatnonzero((x < 0).any(axis=1))[0])
        raise ValueError(f"concentrations must not be negative (curve {i + 1})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            fit = _fit(model, x, y, w, fixed, se, max_iter, fallback, max_fallback)
    counts = Counter((type(c.message).__name__ if isinstance(c.message, Warning) else c.category.__name__,
                      str(c.message)) for c in caught)
    extra = tuple(Issue("numerical_warning", f"{n} x {cat} '{msg}' during the fit (caught, not printed); it comes "
                                             f"from curves whose parameters run to extreme values -- see 'status' "
                                             f"and 'reason'", "info")
                  for (cat, msg), n in sorted(counts.items()))
    return dataclasses.replace(fit, issues=fit.issues + extra)


def _fit(model, x, y, w, fixed, se, max_iter, fallback, max_fallback) -> BatchFit:
    """Checks, batch iteration, fallback, reasons, standard errors and ED50s, status: the :class:`BatchFit`."""
    merged = {**model.fixed, **(fixed or {})}
    fixed_values = np.array([float(merged.get(p, np.nan)) for p in PARAMETERS])
    curves = CurveStack(model, fixed_values)
    P = curves.free.size
    N = x.shape[0]
    xs, ys = np.where(w, x, 1.0), np.where(w, y, 0.0)
    lx = model.log_dose(xs)
    reasons, n_obs = _prechecks(x, y, w, P)
    ok = np.array([r is None for r in reasons], dtype=bool)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        start = self_start(model, xs, ys, w)
    start = np.where(np.isfinite(fixed_values), fixed_values, start)
    phi = np.full((N, P), np.nan)
    rss = np.full(N, np.nan)
    rss_limit = np.full(N, np.nan)
    kind = np.zeros(N, dtype=np.intp)
    converged = np.zeros(N, dtype=bool)
    flat = np.zeros(N, dtype=bool)                 # least RSS reached while the parameters drift: not identifiable
    diverged = np.zeros(N, dtype=bool)
    iterations = np.zeros(N, dtype=np.intp)
    method = np.full(N, "failed", dtype=object)
    issues = []
    if ok.any():
        idx = np.flatnonzero(ok)
        out = iterate(curves, start[idx], lx[idx], ys[idx], w[idx], max_iter,
                      lambda rows: limit_rss(model, fixed_values, xs[idx[rows]], ys[idx[rows]], w[idx[rows]]))
        with np.errstate(divide="ignore", invalid="ignore"):
            phi[idx] = curves.internal(out[0])
        rss[idx], converged[idx], diverged[idx], flat[idx], iterations[idx], rss_limit[idx], kind[idx] = out[1:]
        method[idx] = "batch"
        finite, skipped, issues = refit_curves(curves, lx, y, w, start, ok, phi, rss, rss_limit, converged,
                                               diverged, method, fallback=fallback, max_fallback=max_fallback)
        _fit_reasons(reasons, ok, converged, diverged, flat, finite, skipped, method, rss, rss_limit, kind, max_iter)
    params = np.where(np.isfinite(phi).all(axis=1, keepdims=True), curves.natural(np.nan_to_num(phi)), np.nan)
    V = np.full((N, P, P), np.nan)
    cond = np.full(N, np.nan)
    good = np.flatnonzero(np.isfinite(rss) & np.all(np.isfinite(params), axis=1) & ~diverged)   # no SEs at infinity
    if good.size:
        V[good], cond[good] = covariances(curves, phi[good], lx[good], ys[good], w[good], n_obs[good], se)
    se_free = np.sqrt(np.einsum("npp->np", V))
    se5 = np.full((N, 5), np.nan)
    se5[:, curves.free] = se_free
    shape = [j for j in curves.free if j in (0, 3, 4)]            # b, e, f: SE above 10 x estimate = undetermined
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        vague = np.any(~(se5[:, shape] <= MAX_RELATIVE_SE * np.abs(params[:, shape])), axis=1)
    identifiable = np.isfinite(rss) & (cond <= MAX_CONDITION) & ~vague & ~flat & ~diverged
    for i in np.flatnonzero(np.isfinite(rss) & ~identifiable & np.equal(reasons, None)):
        why = (f"scaled J'J condition number {cond[i]:.2g} above {MAX_CONDITION:g}"
               if not cond[i] <= MAX_CONDITION else
               f"a standard error of b, e or f missing or above {MAX_RELATIVE_SE:g} times the estimate")
        reasons[i] = (f"parameters not identifiable ({why}; e.g. a step between two adjacent doses or an ED50 far "
                      f"outside the doses)")
    ed50, g5 = model.effective_dose(50.0, params)
    g = g5[:, curves.free]
    ed50_se = np.sqrt(np.einsum("np,npq,nq->n", g, V, g))
    status = np.where(~ok, "failed", np.where(diverged, "diverged", np.where(~converged, "not_converged", np.where(
        flat & (method == "batch"), "not_identifiable", "converged")))).astype(object)
    limit = np.array(LIMIT_KINDS, dtype=object)[kind]
    return BatchFit(params, se5, rss, n_obs, n_obs - P, converged, identifiable, status, iterations, method, reasons,
                    ed50, ed50_se, rss_limit, limit, tuple(issues))


def _fit_reasons(reasons, ok, converged, diverged, flat, finite, skipped, method, rss, rss_limit, kind, max_iter):
    """Fill in (in place) why a fitted curve is doubtful: no finite estimate, not converged (and whether it was
    refitted), parameters drifting on a flat RSS, or a local optimum that a limiting curve beats."""
    words = {i: f"{LIMIT_WORDS[kind[i]]}, RSS {rss_limit[i]:.6g}" for i in np.flatnonzero(kind > 0)}
    for i in np.flatnonzero(ok & diverged):
        reasons[i] = ("no finite least-squares estimate: the fit runs out toward a limiting curve; the best is "
                      + words.get(i, "unknown"))
    for i in np.flatnonzero(ok & ~converged & ~diverged):
        reasons[i] = (f"did not converge within {max_iter} iterations"
                      + ("" if not finite[i] or method[i] == "scipy" or i not in set(skipped) else
                         "; not refitted (see the issues)")
                      + ("" if finite[i] else f"; no better than a limiting curve ({words[i]}), so no finite "
                                              f"optimum is known and it was not refitted"))
    for i in np.flatnonzero(ok & flat & (method == "batch")):
        reasons[i] = ("parameters not identifiable: the RSS is flat while they drift (e.g. b for a step between "
                      "two adjacent doses)")
    for i in np.flatnonzero(ok & converged & ~flat & (rss > rss_limit * (1 + REACH))):
        reasons[i] = f"a local optimum: a limiting curve fits better ({words[i]})"
