"""Fitting thousands of independent dose-response curves at once (plates, screens, bootstrap replicates).

All curves are fitted together by a vectorised Levenberg-Marquardt iteration: each step forms every curve's
J'J and J'r (batched matrix products), solves (J'J + lambda diag(J'J)) delta = J'r for all curves at once and
accepts or rejects each curve's step separately (lambda / 3 on success, x 10 on failure), on (b, c, d, ln e[, ln f])
from drc's self-starter.  A curve has converged when an accepted step changes its RSS, and is predicted to change
it, by less than 1e-12 relatively, when no step lowers the RSS any more, or when the RSS fell by less than 1e-8
relatively over the last 20 or more steps (parameters creeping toward infinity along a flat valley: such a curve
is at its least RSS but is flagged not identifiable).  Curves that do not converge within ``max_iter`` steps,
or end on a non-finite value, are refitted one by one with :func:`scipy.optimize.least_squares` (``method="lm"``) from the
batch result and from the self-starter; the better optimum is kept and the curve's ``method`` says ``scipy``.

A curve that cannot be fitted (too few distinct concentrations, constant response, no residual df) is not an
error here: its row has ``method == "failed"`` and a ``reason`` (PKNCA-style), and an issue counts such curves.

A curve is ``identifiable`` when the condition number of its column-scaled J'J is at most 1e10 and the standard
errors of b, e (and f) are finite and at most 10 times the estimates; otherwise ``reason`` says why.  Standard errors are those of :mod:`.fit` (``"drc"`` or
``"jacobian"``); ED50 is reported with its delta SE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .fit import _REL_SE, COND_LIMIT
from .models import PARAMETERS, DoseResponseModel, get_model, self_start

__all__ = ["BatchFit", "fit_curves_array"]

_FTOL = 1e-12
_WINDOW = 20
_FLAT = 1e-8


@dataclass(frozen=True)
class BatchFit:
    """Arrays of a batch fit of N curves: ``params`` (N, 5: b, c, d, e, f, fixed ones filled in), ``se`` (N, 5,
    NaN for fixed parameters), ``rss``, ``n_obs``, ``df_residual``, ``converged``, ``identifiable`` (scaled
    J'J condition number <= COND_LIMIT (1e10) and finite standard errors), ``status`` (``converged``, ``flat`` -- least RSS
    reached while parameters drift --, ``diverged``, ``not_converged`` or ``failed``), ``iterations``, ``method``
    (``batch``, ``scipy`` or ``failed``), ``reason`` (why a curve failed or is doubtful, else None),
    ``ed50``, ``ed50_se``."""

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


class _Curves:
    """Evaluation of the model for a stack of curves on the internal scale (free parameters, ln e, ln f)."""

    def __init__(self, model: DoseResponseModel, fixed_values: np.ndarray):
        self.model = model
        self.fixed_values = fixed_values
        self.free = np.flatnonzero(~np.isfinite(fixed_values))
        self.log = np.array([k for k, j in enumerate(self.free) if j in (3, 4)], dtype=np.intp)

    def natural(self, phi):
        theta = np.broadcast_to(self.fixed_values, phi.shape[:-1] + (5,)).copy()
        vals = phi.copy()
        with np.errstate(over="ignore"):
            vals[..., self.log] = np.exp(vals[..., self.log])
        theta[..., self.free] = vals
        return theta

    def internal(self, theta):
        phi = theta[..., self.free].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            phi[..., self.log] = np.log(phi[..., self.log])
        return phi

    def evaluate(self, phi, lx, y, w, natural: bool = False):
        """(residuals y - f with zeros off the mask, Jacobian of f in the free parameters)."""
        theta = self.natural(phi)
        pred, j5 = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx)
        J = j5[..., self.free]
        if not natural:
            J[..., self.log] *= theta[:, None, self.free[self.log]]
        return np.where(w, y - pred, 0.0), np.where(w[..., None], J, 0.0)

    def residuals(self, phi, lx, y, w):
        pred = self.model.evaluate(None, self.natural(phi)[:, None, :], logx=lx)
        return np.where(w, y - pred, 0.0)


def _diverging(curves: _Curves, phi, lx, y, w):
    """Curves whose parameters run away (no finite least-squares estimate): e more than 1e6-fold outside the
    doses, or an asymptote more than 1e3 response ranges away from the data."""
    theta = curves.natural(phi)
    lxs = np.where(w & np.isfinite(lx), lx, np.nan)
    with np.errstate(all="ignore"):
        lo, hi = np.nanmin(lxs, axis=1), np.nanmax(lxs, axis=1)
        le = np.log(theta[:, 3])
        yw = np.where(w, y, np.nan)
        ymin, ymax = np.nanmin(yw, axis=1), np.nanmax(yw, axis=1)
        span = 1e3 * (ymax - ymin)
        far_e = (le < lo - np.log(1e6)) | (le > hi + np.log(1e6))
        far_cd = ((theta[:, 1] < ymin - span) | (theta[:, 1] > ymax + span) | (theta[:, 2] < ymin - span)
                  | (theta[:, 2] > ymax + span))
    return far_e | far_cd | ~np.all(np.isfinite(theta), axis=1)


def _lm(curves: _Curves, phi, lx, y, w, max_iter: int):
    """Vectorised Levenberg-Marquardt; returns (phi, rss, converged, diverged, flat, iterations)."""
    N, P = phi.shape
    r, J = curves.evaluate(phi, lx, y, w)
    rss = np.einsum("nm,nm->n", r, r)
    lam = np.full(N, 1e-3)
    converged = np.zeros(N, dtype=bool)
    flat = np.zeros(N, dtype=bool)
    diverged = np.zeros(N, dtype=bool)
    iterations = np.zeros(N, dtype=np.intp)
    active = np.flatnonzero(np.isfinite(rss) & np.all(np.isfinite(phi), axis=1))
    eye = np.eye(P)
    mark = rss.copy()
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        pa, ra, Ja = phi[active], r[active], J[active]
        JT = np.swapaxes(Ja, 1, 2)
        A = JT @ Ja
        g = (JT @ ra[..., None])[..., 0]
        diag = np.einsum("npp->np", A)
        D = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        M = A + (lam[active, None] * D)[:, :, None] * eye
        try:
            step = np.linalg.solve(M, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(M, g)])
        trial = pa + step
        rt, Jt = curves.evaluate(trial, lx[active], y[active], w[active])
        rss_t = np.einsum("nm,nm->n", rt, rt)
        old = rss[active]
        ok = np.isfinite(rss_t) & (rss_t <= old) & np.all(np.isfinite(Jt), axis=(1, 2))
        predicted = 2 * np.einsum("np,np->n", step, g) - np.einsum("np,npq,nq->n", step, A, step)
        small = ok & ((old - rss_t) <= _FTOL * old) & (np.abs(predicted) <= _FTOL * old)
        idx = active[ok]
        phi[idx], r[idx], J[idx], rss[idx] = trial[ok], rt[ok], Jt[ok], rss_t[ok]
        lam[idx] = np.maximum(lam[idx] / 3.0, 1e-12)
        lam[active[~ok]] *= 10.0
        iterations[active] += 1
        converged[active[small]] = True
        converged[active[lam[active] > 1e16]] = True     # no step lowers the RSS any more
        done = converged[active]
        if it % _WINDOW == 0:
            # flat: the RSS fell by less than _FLAT relatively over the window (parameters creeping along a
            # valley, e.g. b for a step between adjacent doses); diverging: no finite estimate
            now = rss[active]
            is_flat = ~done & ((mark[active] - now) <= _FLAT * now)
            flat[active[is_flat]] = True
            gone = ~done & ~is_flat & _diverging(curves, phi[active], lx[active], y[active], w[active])
            diverged[active[gone]] = True
            mark[active] = now
            done = done | is_flat | gone
        active = active[~done]
    converged |= flat
    return phi, rss, converged, diverged, flat, iterations


def _scipy_refit(model, fixed_values, x, y, starts):
    """Per-curve fallback: least_squares ('lm') from each start; the lowest RSS."""
    curves = _Curves(model, fixed_values)
    best = None
    for start in starts:
        phi0 = curves.internal(start[None, :])[0]
        if not np.all(np.isfinite(phi0)):
            continue

        lx, yy, ww = DoseResponseModel.log_dose(x)[None, :], y[None, :], np.ones((1, x.size), bool)

        def fun(p, lx=lx, yy=yy, ww=ww):
            return -curves.residuals(p[None, :], lx, yy, ww)[0]

        def jac(p, lx=lx, yy=yy, ww=ww):
            return curves.evaluate(p[None, :], lx, yy, ww)[1][0]
        try:
            res = least_squares(fun, phi0, jac=jac, method="lm", x_scale="jac", ftol=1e-12, xtol=1e-12,
                                gtol=1e-12, max_nfev=100 * (phi0.size + 1))
        except (ValueError, np.linalg.LinAlgError):
            continue
        rss = float(res.fun @ res.fun)
        if np.isfinite(rss) and (best is None or rss < best[1]):
            best = (res.x, rss, res.status > 0)
    return best


def _covariances(curves: _Curves, phi, lx, y, w, n_obs, kind: str):
    """((N, P, P) variance-covariance matrices on the natural scale of the free parameters, (N,) condition
    numbers of the column-scaled J'J)."""
    N, P = phi.shape
    theta = curves.natural(phi)
    r, J = curves.evaluate(phi, lx, y, w, natural=True)
    JT = np.swapaxes(J, 1, 2)
    jtj = JT @ J
    A = jtj
    df = n_obs - P
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.einsum("nm,nm->n", r, r) / df
    if kind == "drc":
        free_theta = theta[:, curves.free]
        yw = np.where(w, y, np.nan)
        yr = np.nanmax(yw, axis=1) - np.nanmin(yw, axis=1)
        scale = {0: np.ones(N), 1: yr, 2: yr, 3: np.ones(N), 4: np.ones(N)}
        S = np.zeros_like(A)
        for k, j in enumerate(curves.free):
            # e and f are positive and may be tiny (doses in mol/L): a step relative to the value keeps them
            # positive; b, c, d get an absolute floor scaled to the response range
            h = 1e-5 * np.abs(free_theta[:, k]) if j >= 3 else 1e-5 * (np.abs(free_theta[:, k]) + 1e-3 * scale[j])
            up, down = theta.copy(), theta.copy()
            up[:, j] += h
            down[:, j] -= h
            dj = (curves.evaluate(curves.internal(up), lx, y, w, True)[1]
                  - curves.evaluate(curves.internal(down), lx, y, w, True)[1]) / (2 * h[:, None, None])
            S[:, k, :] = np.einsum("nm,nmp->np", r, dj)
        A = A - 0.5 * (S + np.swapaxes(S, 1, 2))
    d = np.sqrt(np.einsum("npp->np", jtj))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = jtj / (d[:, :, None] * d[:, None, :])
        cond = np.full(N, np.inf)
        fin = np.all(np.isfinite(scaled), axis=(1, 2))
        cond[fin] = np.linalg.cond(scaled[fin])
    V = np.full((N, P, P), np.nan)
    ok = np.all(np.isfinite(A), axis=(1, 2)) & (df > 0) & np.all(d > 0, axis=1)
    if ok.any():
        # test and invert the column-scaled matrix: parameters on very different scales (e ~ 1e-9 M) would
        # otherwise make a well-determined fit look singular
        dd = d[ok][:, :, None] * d[ok][:, None, :]
        As = A[ok] / dd
        eig = np.linalg.eigvalsh(As)
        good = np.zeros(N, dtype=bool)
        good[ok] = eig.min(axis=1) > 1e-13 * np.abs(eig).max(axis=1)
        if good.any():
            sub = good[ok]
            V[good] = _inverse(As[sub]) / dd[sub] * s2[good, None, None]
    return V, cond


def _inverse(A):
    """Batched inverse; a matrix that is numerically singular gets NaN."""
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out = np.full_like(A, np.nan)
        for i, a in enumerate(A):
            try:
                out[i] = np.linalg.inv(a)
            except np.linalg.LinAlgError:
                pass
        return out


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
    for i in np.flatnonzero(constant & (reasons == None)):
        reasons[i] = "constant response"
    for i in np.flatnonzero((n_obs <= n_par) & (reasons == None)):
        reasons[i] = f"{n_obs[i]} observations leave no residual degree of freedom for {n_par} parameters"
    return reasons, n_obs


def fit_curves_array(x, y, model: str | DoseResponseModel = "LL.4", *, fixed: dict | None = None,
                     mask=None, se: str = "drc", max_iter: int = 500, fallback: bool = True) -> BatchFit:
    """Fit N independent curves given as (N, m) arrays ``x`` (doses, zero allowed) and ``y``; NaN entries (or
    ``mask`` False) are left out, so curves may have different numbers of points.  ``fixed`` holds parameters
    at a value for every curve (``{"c": 0}``).  See the module docstring for the algorithm."""
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
    merged = {**model.fixed, **(fixed or {})}
    fixed_values = np.array([float(merged.get(p, np.nan)) for p in PARAMETERS])
    curves = _Curves(model, fixed_values)
    P = curves.free.size
    N = x.shape[0]
    xs, ys = np.where(w, x, 1.0), np.where(w, y, 0.0)
    lx = model.log_dose(xs)
    reasons, n_obs = _prechecks(x, y, w, P)
    ok = np.array([r is None for r in reasons], dtype=bool)
    start = self_start(model, xs, ys, w)
    start = np.where(np.isfinite(fixed_values), fixed_values, start)
    phi = np.full((N, P), np.nan)
    rss = np.full(N, np.nan)
    converged = np.zeros(N, dtype=bool)
    flat = np.zeros(N, dtype=bool)
    diverged = np.zeros(N, dtype=bool)
    iterations = np.zeros(N, dtype=np.intp)
    method = np.full(N, "failed", dtype=object)
    if ok.any():
        idx = np.flatnonzero(ok)
        out = _lm(curves, curves.internal(start[idx]), lx[idx], ys[idx], w[idx], max_iter)
        phi[idx], rss[idx], converged[idx], diverged[idx], flat[idx], iterations[idx] = out
        method[idx] = "batch"
        failed = ~(converged | diverged) | ~np.isfinite(rss) | ~np.all(np.isfinite(phi), axis=1)
        if fallback:
            for i in np.flatnonzero(ok & failed):
                sel = w[i]
                starts = [start[i]] + ([curves.natural(phi[i][None, :])[0]] if np.all(np.isfinite(phi[i])) else [])
                best = _scipy_refit(model, fixed_values, x[i, sel], y[i, sel], starts)
                if best is not None and not best[1] > rss[i]:
                    phi[i], rss[i], converged[i] = best
                    method[i] = "scipy"
        for i in np.flatnonzero(ok & diverged):
            reasons[i] = "no finite least-squares estimate: the parameters diverge (e or an asymptote runs away)"
        for i in np.flatnonzero(ok & ~converged & ~diverged):
            reasons[i] = f"did not converge within {max_iter} iterations"
        for i in np.flatnonzero(ok & flat & (method == "batch")):
            reasons[i] = ("parameters not identifiable: the RSS is flat while they drift (e.g. b for a step between "
                          "two adjacent doses)")
    params = np.where(np.isfinite(phi).all(axis=1, keepdims=True), curves.natural(np.nan_to_num(phi)), np.nan)
    V = np.full((N, P, P), np.nan)
    cond = np.full(N, np.nan)
    good = np.flatnonzero(np.isfinite(rss) & np.all(np.isfinite(params), axis=1))
    if good.size:
        V[good], cond[good] = _covariances(curves, phi[good], lx[good], ys[good], w[good], n_obs[good], se)
    se_free = np.sqrt(np.einsum("npp->np", V))
    se5 = np.full((N, 5), np.nan)
    se5[:, curves.free] = se_free
    shape = [j for j in curves.free if j in (0, 3, 4)]            # b, e, f: SE above 10 x estimate = undetermined
    with np.errstate(divide="ignore", invalid="ignore"):
        vague = np.any(~(se5[:, shape] <= _REL_SE * np.abs(params[:, shape])), axis=1)
    identifiable = np.isfinite(rss) & (cond <= COND_LIMIT) & ~vague & ~flat & ~diverged
    for i in np.flatnonzero(np.isfinite(rss) & ~identifiable & (reasons == None)):
        why = (f"scaled J'J condition number {cond[i]:.2g} above {COND_LIMIT:g}" if not cond[i] <= COND_LIMIT else
               f"a standard error of b, e or f missing or above {_REL_SE:g} times the estimate")
        reasons[i] = (f"parameters not identifiable ({why}; e.g. a step between two adjacent doses or an ED50 far "
                      f"outside the doses)")
    ed50, g5 = model.effective_dose(50.0, params)
    g = g5[:, curves.free]
    ed50_se = np.sqrt(np.einsum("np,npq,nq->n", g, V, g))
    status = np.where(~ok, "failed", np.where(diverged, "diverged", np.where(
        ~converged, "not_converged", np.where(flat & (method == "batch"), "flat", "converged")))).astype(object)
    return BatchFit(params, se5, rss, n_obs, n_obs - P, converged, identifiable, status, iterations, method, reasons,
                    ed50, ed50_se)
