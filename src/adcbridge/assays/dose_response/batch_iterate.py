"""The vectorised Levenberg-Marquardt iteration of the batch fit: all curves at once.

Each step forms every curve's J'J and J'r (batched matrix products), solves (J'J + lambda diag(J'J)) delta = J'r
for all curves at once and accepts or rejects each curve's step separately (Nielsen's damping: lambda falls by up
to 3 on a step that gains what the Gauss-Newton model predicted, rises on one that gains much less, doubles its
factor on failures).  :func:`iterate` runs it in two stages:

1. 20 steps on all free parameters (b, c, d, ln e[, ln f]) from drc's self-starter -- the start's levels anchor
   the path, which is that of drc and scipy.  Most curves converge here: an accepted step changes the RSS, and is
   predicted to change it, by less than 1e-12 relatively (or no step lowers it any more).
2. The other curves continue by *variable projection* (:meth:`.batch_curves.CurveStack.project`): the iteration
   runs on (ln |b|, ln e[, ln f]) only (Golub-Pereyra Jacobian; a step moves each by at most 8).  This is fast
   where the full iteration crawls: along flat valleys and out toward the limiting curves of
   :mod:`.batch_limits`.

rss_limit is computed for the curves that stage 1 did not settle (NaN for the others) and used in stage 2:

* a fit that comes within REACH (1e-7, relative) above rss_limit without having beaten it is on its way out to
  a limiting curve: it stops there as *diverged*, with the RSS of the limit to 1e-7;
* a fit whose RSS stagnates (less than 1e-8 relative decrease over 20 steps) below rss_limit has reached its least
  RSS while parameters drift along a flat valley (*flat*: a finite optimum whose parameters the data do not
  identify -- status ``not_identifiable``); one that stagnates above it, or whose e runs more than 1e6-fold
  outside the doses or an asymptote more than 1e3 response ranges away without beating rss_limit, is diverged
  too;
* a curve that ends above its best limiting curve (heading for another limit, or at a local optimum) gets one
  more start: the best shape of a small grid (e at every dose and midpoint, |b| = 1 and 4 per ln-dose step).

With b fixed no limit is computed (rss_limit NaN): only the convergence tests apply.
"""

from __future__ import annotations

import numpy as np

from .batch_curves import CurveStack
from .batch_limits import LIMIT_MARGIN, REACH

__all__ = ["iterate"]

_FTOL = 1e-12                  # converged: actual and predicted relative RSS change of an accepted step
_WINDOW = 20                   # stage 2 checks stagnation and run-away every _WINDOW steps
_FIRST = 20                    # steps of stage 1 (all free parameters)
_FLAT = 1e-8                   # stagnant: relative RSS decrease over a window
_MAX_LOG_STEP = 8.0            # largest change of ln |b|, ln e, ln f in one projected step
_FAR = 3.0                     # stage 2: diverged when e is 1e18-fold outside the doses or c, d 1e9 ranges away


def _diverging(theta, lx, y, w, scale: float = 1.0):
    """Curves whose parameters (theta, natural scale) run away: e more than 1e6-fold outside the doses, or an
    asymptote more than 1e3 response ranges away from the data (both to the power ``scale``)."""
    lxs = np.where(w & np.isfinite(lx), lx, np.nan)
    with np.errstate(all="ignore"):
        lo, hi = np.nanmin(lxs, axis=1), np.nanmax(lxs, axis=1)
        le = np.log(theta[:, 3])
        yw = np.where(w, y, np.nan)
        ymin, ymax = np.nanmin(yw, axis=1), np.nanmax(yw, axis=1)
        span = 1e3 ** scale * (ymax - ymin)
        far_e = (le < lo - scale * np.log(1e6)) | (le > hi + scale * np.log(1e6))
        far_cd = ((theta[:, 1] < ymin - span) | (theta[:, 1] > ymax + span) | (theta[:, 2] < ymin - span)
                  | (theta[:, 2] > ymax + span))
    return far_e | far_cd | ~np.all(np.isfinite(theta), axis=1)


class _Full:
    """The iteration on all free parameters (b, c, d, ln e, ln f) of the curves (lx, y, w)."""

    clip = np.zeros(0, dtype=np.intp)                      # no step limits (the levels hold the curve in place)

    def __init__(self, curves: CurveStack, lx, y, w):
        self.curves, self.lx, self.y, self.w = curves, lx, y, w

    def subset(self, keep):
        return _Full(self.curves, self.lx[keep], self.y[keep], self.w[keep])

    def __call__(self, phi):
        r, J = self.curves.evaluate(phi, self.lx, self.y, self.w)
        return r, J, self.curves.natural(phi)


class _Projected:
    """The iteration on the shape (ln |b|, ln e, ln f; the sign of b kept) with the levels c, d projected out
    (variable projection).  On the log scale a steep curve's b grows by factors, not by small steps."""

    def __init__(self, curves: CurveStack, lx, y, w, sign_b):
        self.curves, self.lx, self.y, self.w, self.sign = curves, lx, y, w, sign_b
        self.b = np.flatnonzero(curves.shape == 0)
        self.clip = np.arange(len(curves.shape))

    def subset(self, keep):
        return _Projected(self.curves, self.lx[keep], self.y[keep], self.w[keep], self.sign[keep])

    def params(self, theta):
        psi = theta[:, self.curves.shape].copy()
        with np.errstate(divide="ignore"):
            psi = np.log(np.abs(psi))
        return psi

    def __call__(self, psi):
        nat = psi.copy()
        with np.errstate(over="ignore"):
            nat[:, self.b] = self.sign[:, None] * np.exp(psi[:, self.b])
        r, J, levels = self.curves.project(nat, self.lx, self.y, self.w)
        J[..., self.b] *= nat[:, None, self.b]
        return r, J, self.curves.shape_theta(nat, levels)


def _solve(M, g):
    """Solve the damped normal equations M x = g for a stack of small symmetric positive definite M: an unrolled
    Cholesky factorisation over the stack when it is large (LAPACK's per-matrix call dominates there), else
    numpy's solver.  A matrix that is not positive definite gives NaN (its trial step is rejected)."""
    n, P, _ = M.shape
    if n < 256:
        try:
            return np.linalg.solve(M, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return np.stack([np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(M, g)])
    L = np.zeros_like(M)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(P):
            L[:, j, j] = np.sqrt(M[:, j, j] - np.einsum("nk,nk->n", L[:, j, :j], L[:, j, :j]))
            for i in range(j + 1, P):
                L[:, i, j] = (M[:, i, j] - np.einsum("nk,nk->n", L[:, i, :j], L[:, j, :j])) / L[:, j, j]
        z = np.empty_like(g)
        for i in range(P):
            z[:, i] = (g[:, i] - np.einsum("nk,nk->n", L[:, i, :i], z[:, :i])) / L[:, i, i]
        x = np.empty_like(g)
        for i in reversed(range(P)):
            x[:, i] = (z[:, i] - np.einsum("nk,nk->n", L[:, i + 1:, i], x[:, i + 1:])) / L[:, i, i]
    return x


def _lm(problem, params, iters: int, limit, windows: bool):
    """Vectorised Levenberg-Marquardt of ``problem`` (``_Full`` or ``_Projected``) from ``params``; returns
    (theta (N, 5), rss, converged, diverged, flat, iterations, stuck -- converged because no step lowers the
    RSS any more).  ``limit`` is rss_limit (NaN: unknown): a curve within REACH above it stops as
    ``diverged``; ``windows`` adds the checks every _WINDOW steps.  The working arrays hold the running curves
    only; a curve's results are written out when it stops."""
    N, Q = params.shape
    with np.errstate(all="ignore"):
        r, J, theta = problem(params)
        rss = np.einsum("nm,nm->n", r, r)
    converged = np.zeros(N, dtype=bool)
    flat = np.zeros(N, dtype=bool)
    diverged = np.zeros(N, dtype=bool)
    stuck = np.zeros(N, dtype=bool)
    iterations = np.zeros(N, dtype=np.intp)
    theta_out, rss_out = theta.copy(), rss.copy()
    rows = np.flatnonzero(np.isfinite(rss) & np.all(np.isfinite(params), axis=1))
    if rows.size < N:
        problem = problem.subset(rows)
    P, R, JJ, RSS, TH = params[rows], r[rows], J[rows], rss[rows], theta[rows]
    LIM = limit[rows]
    lam, nu, its = np.full(rows.size, 1e-3), np.full(rows.size, 2.0), np.zeros(rows.size, dtype=np.intp)
    beats = RSS < LIM * (1 - LIMIT_MARGIN)                 # a finite optimum is known to exist (NaN: False)
    mark = RSS.copy()
    eye = np.eye(Q, dtype=bool)
    for it in range(1, iters + 1):
        if rows.size == 0:
            break
        JT = np.swapaxes(JJ, 1, 2)
        A = JT @ JJ
        g = (JT @ R[..., None])[..., 0]
        diag = A[:, eye]
        D = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        M = A.copy()
        M[:, eye] += lam[:, None] * D
        step = _solve(M, g)
        with np.errstate(all="ignore"):
            s_dot_g, s_d_s = np.einsum("np,np->n", step, g), np.einsum("np,np->n", step * D, step)
        scale = 1.0
        if problem.clip.size:
            # with the levels projected out one long step could land on the plateau of a limiting curve (b -> 0,
            # e far out): a step changes ln |b|, ln e, ln f by at most _MAX_LOG_STEP
            with np.errstate(divide="ignore", invalid="ignore"):
                shrink = np.minimum(1.0, _MAX_LOG_STEP / np.max(np.abs(step[:, problem.clip]), axis=1))
            scale = np.where(np.isfinite(shrink), shrink, 1.0)
            step = step * scale[:, None]
        trial = P + step
        with np.errstate(all="ignore"):                   # a trial that overflows is rejected below
            rt, Jt, tt = problem(trial)
            rss_t = np.einsum("nm,nm->n", rt, rt)
            ok = (np.isfinite(rss_t) & (rss_t <= RSS) & np.isfinite(Jt).all(axis=(1, 2))
                  & np.isfinite(tt).all(axis=1))
            # the decrease the Gauss-Newton model predicts: 2 s'g - s'As, with (A + lam D) s0 = g and s = scale s0
            predicted = 2 * scale * s_dot_g - scale ** 2 * (s_dot_g - lam * s_d_s)
            small = ok & ((RSS - rss_t) <= _FTOL * RSS) & (np.abs(predicted) <= _FTOL * RSS)
            # Nielsen's damping: a step that gains much less than the model predicted (large residuals, a curved
            # valley) raises lambda instead of lowering it; failures double the factor each time
            rho = np.clip((RSS - rss_t) / predicted, 0.0, 1.0)
        factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.where(np.isfinite(rho), rho, 1.0) - 1.0) ** 3)
        lam = np.where(ok, np.maximum(lam * factor, 1e-12), lam * nu)
        nu = np.where(ok, 2.0, nu * 2.0)
        P[ok], R[ok], JJ[ok], RSS[ok], TH[ok] = trial[ok], rt[ok], Jt[ok], rss_t[ok], tt[ok]
        its += 1
        beats |= RSS < LIM * (1 - LIMIT_MARGIN)
        out = ~beats & (RSS <= LIM * (1 + REACH))        # at a limiting curve: no finite optimum
        halt = (lam > 1e16) & ~out                         # no step lowers the RSS any more
        small &= ~out
        stop = small | halt
        if windows and stop.any():
            # a curve that stops while its parameters are far out (beyond floating-point reach of the limit) and
            # without beating rss_limit is on its way out: diverged
            sub = np.flatnonzero(stop & ~beats)
            gone = np.zeros(rows.size, dtype=bool)
            gone[sub] = _diverging(TH[sub], problem.lx[sub], problem.y[sub], problem.w[sub], _FAR)
            out |= gone
            small, halt = small & ~gone, halt & ~gone
        is_flat = np.zeros(rows.size, dtype=bool)
        if windows and it % _WINDOW == 0:
            # stagnant: the RSS fell by less than _FLAT relatively over the window -- below rss_limit the least
            # RSS is reached while parameters creep along a valley (flat), otherwise the fit creeps toward a
            # limiting curve; running away (e or an asymptote far out) without beating rss_limit: diverged
            running = ~(out | small | halt)
            stagnant = running & ((mark - RSS) <= _FLAT * RSS)
            is_flat = stagnant & beats
            far = running & ~stagnant & ~beats & _diverging(TH, problem.lx, problem.y, problem.w, _FAR)
            out |= (stagnant & ~beats) | far
            mark = RSS.copy()
        done = out | small | halt | is_flat
        if done.any():
            fin = rows[done]
            theta_out[fin], rss_out[fin], iterations[fin] = TH[done], RSS[done], its[done]
            diverged[fin], flat[fin], stuck[fin] = out[done], is_flat[done], halt[done]
            converged[fin] = (small | halt | is_flat)[done]
            keep = ~done
            rows, P, R, JJ, RSS, TH, LIM = rows[keep], P[keep], R[keep], JJ[keep], RSS[keep], TH[keep], LIM[keep]
            lam, nu, its, beats, mark = lam[keep], nu[keep], its[keep], beats[keep], mark[keep]
            problem = problem.subset(keep)
    theta_out[rows], rss_out[rows], iterations[rows] = TH, RSS, its
    return theta_out, rss_out, converged, diverged, flat, iterations, stuck


def iterate(curves: CurveStack, start, lx, y, w, max_iter: int, limits):
    """The batch iteration: _FIRST steps on all free parameters from the start (anchored by the start's levels:
    the path of drc and scipy); then, for the curves still running or far out, their limiting curves
    (``limits(rows)`` gives rss_limit and kind) and variable projection on the shape from where they are (fast
    along flat valleys and out to limiting curves), with one restart for the curves that end above their best
    limiting curve.  Returns (theta, rss, converged, diverged, flat, iterations, rss_limit, kind); ``flat``
    marks the curves whose least RSS is reached while their parameters drift (status ``not_identifiable``)."""
    N = len(start)
    rss_limit, kind = np.full(N, np.nan), np.zeros(N, dtype=np.intp)
    first = min(_FIRST, max_iter)
    theta, rss, converged, diverged, flat, iterations, stuck = _lm(_Full(curves, lx, y, w), curves.internal(start),
                                                                   first, rss_limit, windows=False)
    far = _diverging(theta, lx, y, w)                                     # converged on the way out?
    first_converged = converged.copy()
    rest = np.flatnonzero((~converged | stuck | far) & np.isfinite(rss) & np.all(np.isfinite(theta), axis=1))
    if rest.size:
        rss_limit[rest], kind[rest] = limits(rest)
        at = ((rss[rest] >= rss_limit[rest] * (1 - LIMIT_MARGIN))           # stopped on a limiting curve
              & (rss[rest] <= rss_limit[rest] * (1 + REACH)))
        diverged[rest[at]], converged[rest[at]] = True, False
        converged[rest[far[rest] & ~at]] = False
        rest = rest[~at & ~converged[rest]]
        if 0 in curves.shape:
            rest = rest[theta[rest, 0] != 0]
    if rest.size and max_iter > first:
        problem = _Projected(curves, lx[rest], y[rest], w[rest], np.sign(theta[rest, 0]))
        out = _lm(problem, problem.params(theta[rest]), max_iter - first, rss_limit[rest], windows=True)
        keep = out[1] <= rss[rest]
        sel = rest[keep]
        theta[sel], rss[sel] = out[0][keep], out[1][keep]
        converged[rest], diverged[rest], flat[rest] = out[2], out[3], out[4]
        iterations[rest] += out[5]
        # curves the projection cannot take up (every g the same to floating-point precision: far out already)
        idle = rest[(out[5] == 0) & ~out[2] & ~out[3]]
        diverged[idle], converged[idle] = far[idle], first_converged[idle] & ~far[idle]
        # a curve that ends above its best limiting curve (diverged toward another limit, or a local optimum)
        # gets one more start: the best shape of a small grid around the doses, then the same iteration
        again = rest[rss[rest] > rss_limit[rest] * (1 + REACH)]                  # NaN (no limit): False
        if again.size:
            psi0, sign = _grid_start(curves, lx[again], y[again], w[again])
            problem = _Projected(curves, lx[again], y[again], w[again], sign)
            out = _lm(problem, psi0, max_iter - first, rss_limit[again], windows=True)
            better = out[1] < rss[again]
            sel = again[better]
            theta[sel], rss[sel] = out[0][better], out[1][better]
            converged[sel], diverged[sel], flat[sel] = out[2][better], out[3][better], out[4][better]
            iterations[again] += out[5]
    return theta, rss, converged, diverged, flat, iterations, rss_limit, kind


def _grid_start(curves: CurveStack, lx, y, w):
    """(psi (ln |b|, ln e[, ln f = 0]), sign of b): the shape with the least projected RSS among e at every dose
    and every midpoint between adjacent doses, b = +-1 and +-4 per ln-dose step (or b fixed)."""
    N = len(lx)
    pos = w & np.isfinite(lx)
    srt = np.sort(np.where(pos, lx, np.inf), axis=1)
    mids = 0.5 * (srt[:, 1:] + srt[:, :-1])
    le = np.concatenate([srt, mids], axis=1)                                # (N, 2m - 1), inf where undefined
    ok_e = np.isfinite(le)
    with np.errstate(invalid="ignore"):
        steps = np.diff(srt, axis=1)
        unit = np.nanmedian(np.where(np.isfinite(steps) & (steps > 0), steps, np.nan), axis=1)
    unit = np.where(np.isfinite(unit), unit, 1.0)
    b_free = 0 in curves.shape
    slopes = [s * k for s in (1.0, -1.0) for k in (1.0, 4.0)] if b_free else [1.0]
    best = np.full(N, np.inf)
    psi = np.zeros((N, len(curves.shape)))
    sign = np.ones(N)
    for sl in slopes:
        for j in range(le.shape[1]):
            cand = np.zeros((N, len(curves.shape)))
            e_col = int(np.flatnonzero(curves.shape == 3)[0])
            cand[:, e_col] = np.where(ok_e[:, j], le[:, j], 0.0)
            if b_free:
                cand[:, 0] = np.log(abs(sl) / unit)
            nat = cand.copy()
            if b_free:
                nat[:, 0] = np.sign(sl) * abs(sl) / unit
            with np.errstate(all="ignore"):
                r = curves.projected_rss(nat, lx, y, w)
            r = np.where(ok_e[:, j], r, np.inf)
            take = r < best
            best[take], psi[take], sign[take] = r[take], cand[take], np.sign(sl)
    return psi, sign
