"""Fitting thousands of independent dose-response curves at once (plates, screens, bootstrap replicates).

**The batch iteration.**  All curves are fitted together by a vectorised Levenberg-Marquardt iteration: each step
forms every curve's J'J and J'r (batched matrix products), solves (J'J + lambda diag(J'J)) delta = J'r for all
curves at once and accepts or rejects each curve's step separately (Nielsen's damping: lambda falls by up to 3 on
a step that gains what the Gauss-Newton model predicted, rises on one that gains much less, doubles its factor on
failures).  It runs in two stages:

1. 20 steps on all free parameters (b, c, d, ln e[, ln f]) from drc's self-starter -- the start's levels anchor
   the path, which is that of drc and scipy.  Most curves converge here: an accepted step changes the RSS, and is
   predicted to change it, by less than 1e-12 relatively (or no step lowers it any more).
2. The other curves continue by *variable projection*: c and d are linear, so for each shape (b, e[, f]) their
   least-squares values are computed directly and the iteration runs on (ln |b|, ln e[, ln f]) only (Golub-Pereyra
   Jacobian; a step moves each by at most 1, i.e. a factor e).  This is fast where the full iteration crawls: along
   flat valleys and out toward the limiting curves below.

**Curves without a finite optimum.**  On 8-point curves many fits have no finite least-squares estimate: the
infimum of the RSS is reached only as parameters run to infinity.  The closure of a model c + (d - c) h(b ln(x/e))
holds, besides the curves themselves, their *limiting curves*:

* a **constant** (b -> 0, or e beyond all doses);
* a **step** (b -> +-inf): a split of the doses into a low and a high group, each at its mean, or a split through
  one dose whose points sit at any level between the two (e -> that dose while b (ln x - ln e) stays finite);
* a **power curve without inflection**, y = a + beta x^p (e beyond the doses while d - c -> inf, following the
  power-law tail of h), and its p -> 0 limit a + beta ln x (b -> 0 while d - c -> inf).

For a given split or exponent each is linear in at most two levels, so the least RSS over all limiting curves,
``rss_limit``, costs a few array operations per curve (steps from prefix sums over the sorted doses; the exponent
on a grid refined by parabolic interpolation).  That is the cheap test for "has a finite optimum": **a fit whose
RSS is below rss_limit proves that a finite optimum exists** -- the RSS is continuous on the parameter space closed
by the limiting curves, so its least value lies inside.  rss_limit is computed for the curves that stage 1 did
not settle (NaN for the others) and used in stage 2:

* a fit that comes within 1e-7 (relative) above rss_limit without having beaten it is on its way out to a
  limiting curve: it stops there with status ``diverged``, reason naming the limit, RSS that of the limit to 1e-7;
* a fit whose RSS stagnates (less than 1e-8 relative decrease over 20 steps) below rss_limit has reached its least
  RSS while parameters drift along a flat valley (``flat``: a finite optimum, not identified); one that stagnates
  above it, or whose e runs more than 1e6-fold outside the doses or an asymptote more than 1e3 response ranges
  away without beating rss_limit, is ``diverged`` too;
* a curve that ends above its best limiting curve (heading for another limit, or at a local optimum) gets one
  more start: the best shape of a small grid (e at every dose and midpoint, |b| = 1 and 4 per ln-dose step).

The limits are exact for LL.4, LL.3, W1.4 and W2.4 with b free; for LL.5 the f -> 0 and f -> inf limits are not
included (rss_limit is then an upper bound: the test can only err toward refitting); with b fixed no limit is
computed and every curve that does not converge may be refitted.

drc has no such test: ``drm`` runs BFGS from the self-starter until the relative RSS change falls below 1e-7 and
returns that point -- for a curve without a finite optimum an arbitrary point on the way out, usually with huge or
missing standard errors -- or stops with "Convergence failed".  Here such a curve keeps its batch point (whose RSS
is that of the limit to 1e-7, or says how far above it is), no standard errors, and a status and reason that say
why; refitting it one by one cannot help, so it is not refitted.

**The per-curve fallback** runs only where it can help: on curves the batch did not converge on whose RSS already
beats rss_limit (a finite optimum exists; e.g. a valley that used up ``max_iter``), or whose limit is unknown.
Each is refitted with :func:`scipy.optimize.least_squares` (``method="lm"``, at most 50 (p + 1) evaluations)
from the batch point -- and from the self-starter only if that run fails outright --; the result is kept if it
is no worse, and ``method`` says ``scipy``.  At most ``max_fallback`` curves (default 100) are refitted, in curve
order, so the fallback costs at most max_fallback x 50 (p + 1) model evaluations of one curve (about 1 ms per
curve that converges, 15 ms per curve that does not); the others keep the batch result and an issue
(``fallback_capped``) says how many.  On the two 10,000-curve LL.4 benchmark sets no curve needs it.

**Warnings.**  Trial points that overflow are rejected by the iteration (evaluated with floating-point warnings
off); any other numpy/scipy warning raised inside the fit is caught and returned in ``issues`` (code
``numerical_warning``, its category, message and count), never printed.  The fit runs under numpy's default
error handling whatever ``np.seterr`` says outside.  Responses beyond 1e150 (or all below 1e-150) in size are
refused per curve (their squares leave double precision).

A curve that cannot be fitted (too few distinct concentrations, constant response, no residual df) is not an
error here: its row has ``method == "failed"`` and a ``reason`` (PKNCA-style), and an issue counts such curves.

A curve is ``identifiable`` when the condition number of its column-scaled J'J is at most 1e10 and the standard
errors of b, e (and f) are finite and at most 10 times the estimates; otherwise ``reason`` says why.  Standard
errors are those of :mod:`.fit` (``"drc"`` or ``"jacobian"``); ED50 is reported with its delta SE.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from adcbridge.results import Issue

from .fit import _REL_SE, COND_LIMIT
from .models import PARAMETERS, DoseResponseModel, get_model, self_start

__all__ = ["LIMIT_KINDS", "LIMIT_MARGIN", "BatchFit", "fit_curves_array", "limit_rss"]

_FTOL = 1e-12
_WINDOW = 20
_FIRST = 20
_FLAT = 1e-8
LIMIT_MARGIN = 1e-9            # relative RSS margin by which a fit beats its limiting curves (a finite optimum)
_REACH = 1e-7                  # a fit this close (relative RSS) above its limiting curves has reached them
_MAX_LOG_STEP = 8.0            # largest change of ln |b|, ln e, ln f in one projected step
_FAR = 3.0                     # stage 2: diverged when e is 1e18-fold outside the doses or c, d 1e9 ranges away
_FALLBACK_NFEV = 50            # scipy evaluations per refitted curve and free parameter (+1)


@dataclass(frozen=True)
class BatchFit:
    """Arrays of a batch fit of N curves: ``params`` (N, 5: b, c, d, e, f, fixed ones filled in), ``se`` (N, 5,
    NaN for fixed parameters), ``rss``, ``n_obs``, ``df_residual``, ``converged``, ``identifiable`` (scaled
    J'J condition number <= COND_LIMIT (1e10) and finite standard errors), ``status`` (``converged``, ``flat`` --
    least RSS reached while parameters drift --, ``diverged`` -- no finite optimum: the fit runs out to a limiting
    curve --, ``not_converged`` or ``failed``), ``iterations``, ``method`` (``batch``, ``scipy`` or ``failed``),
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


class _Curves:
    """Evaluation of the model for a stack of curves on the internal scale (free parameters, ln e, ln f)."""

    def __init__(self, model: DoseResponseModel, fixed_values: np.ndarray):
        self.model = model
        self.fixed_values = fixed_values
        self.free = np.flatnonzero(~np.isfinite(fixed_values))
        self.log = np.array([k for k, j in enumerate(self.free) if j in (3, 4)], dtype=np.intp)
        self.shape = np.array([j for j in (0, 3, 4) if j in self.free], dtype=np.intp)
        self.shape_log = np.array([k for k, j in enumerate(self.shape) if j in (3, 4)], dtype=np.intp)
        self.c_free, self.d_free = 1 in self.free, 2 in self.free
        self.gc_shape = (1,) + tuple(self.shape)        # columns d f / dc (= 1 - g at c = 0, d = 1) and the shape

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
        pred, J = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=self.free)
        if not natural:
            J[..., self.log] *= theta[:, None, self.free[self.log]]
        if w.all():
            return y - pred, J
        return np.where(w, y - pred, 0.0), np.where(w[..., None], J, 0.0)

    # ---- variable projection: the levels c, d are linear; the iteration runs on the shape (b, ln e, ln f) only
    def shape_theta(self, psi, levels=None):
        """(N, 5) parameters from shape values psi (free b, ln e, ln f) and levels (c, d; default 0 and 1)."""
        theta = np.broadcast_to(self.fixed_values, psi.shape[:-1] + (5,)).copy()
        theta[..., 1:3] = (0.0, 1.0) if levels is None else levels
        vals = psi.copy()
        with np.errstate(over="ignore"):
            vals[..., self.shape_log] = np.exp(vals[..., self.shape_log])
        theta[..., self.shape] = vals
        return theta

    def projected_rss(self, psi, lx, y, w):
        """The least RSS over the levels for each shape psi (the residual sum of squares of :meth:`project`)."""
        theta = self.shape_theta(psi)
        g, j = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=(1,))
        wf = w.astype(float)
        c_fix, d_fix = self.fixed_values[1], self.fixed_values[2]
        if self.c_free and self.d_free:
            n = wf.sum(axis=1)
            u = np.where(((g * wf).sum(axis=1) <= 0.5 * n)[:, None], g, j[..., 0]) * wf
            uc = (u - (u.sum(axis=1) / n)[:, None]) * wf
            yc = (y - ((y * wf).sum(axis=1) / n)[:, None]) * wf
            s_uu = (uc * uc).sum(axis=1)
            rss = (yc * yc).sum(axis=1) - (uc * yc).sum(axis=1) ** 2 / s_uu
        elif self.c_free or self.d_free:
            u = (g if self.d_free else j[..., 0]) * wf
            yy = (y - (c_fix if self.d_free else d_fix)) * wf
            s_uu = (u * u).sum(axis=1)
            rss = (yy * yy).sum(axis=1) - (u * yy).sum(axis=1) ** 2 / s_uu
        else:
            r = (y - c_fix - (d_fix - c_fix) * g) * wf
            return (r * r).sum(axis=1)
        return np.where(s_uu > 1e-300, np.maximum(rss, 0.0), np.inf)

    def project(self, psi, lx, y, w):
        """(residuals, Jacobian in psi, levels (N, 2)) with the levels at their least-squares values for each
        shape: f = c + (d - c) g.  The Jacobian is Kaufman's, P (d f / d psi) with P the projection off the span
        of the level regressors.  When all of a curve's g are near 1 the regression uses 1 - g (computed without
        cancellation), so a curve running out to a power-law limit keeps its precision."""
        theta = self.shape_theta(psi)
        g, j = self.model.evaluate(None, theta[:, None, :], jacobian=True, logx=lx, columns=self.gc_shape)
        gc, dg = j[..., 0], j[..., 1:]
        dg[..., self.shape_log] *= theta[:, None, self.shape[self.shape_log]]
        dense = bool(w.all())
        wf = None if dense else w.astype(float)
        wf3 = None if dense else wf[..., None]

        def masked(a, m):                                  # a * mask, skipped when every point counts
            return a if dense else a * m
        c_fix, d_fix = self.fixed_values[1], self.fixed_values[2]
        if self.c_free and self.d_free:
            n = np.full(len(g), g.shape[1], dtype=float) if dense else wf.sum(axis=1)
            use_g = masked(g, wf).sum(axis=1) <= 0.5 * n
            u = masked(np.where(use_g[:, None], g, gc), wf)
            du = np.where(use_g[:, None, None], dg, -dg)
            u_bar, y_bar = u.sum(axis=1) / n, masked(y, wf).sum(axis=1) / n
            uc, yc = masked(u - u_bar[:, None], wf), masked(y - y_bar[:, None], wf)
            s_uu = np.einsum("nm,nm->n", uc, uc)
            k = np.einsum("nm,nm->n", uc, yc) / s_uu
            r = yc - k[:, None] * uc
            alpha = y_bar - k * u_bar
            levels = np.stack([np.where(use_g, alpha, alpha + k), np.where(use_g, alpha + k, alpha)], axis=1)
            v = masked(k[:, None, None] * du, wf3)
            v = masked(v - v.sum(axis=1, keepdims=True) / n[:, None, None], wf3)
            # Golub-Pereyra: P (d f / d psi) plus the term of the projection's own derivative
            J = (v - uc[..., None] * (np.einsum("nm,nmq->nq", uc, v) / s_uu[:, None])[:, None, :]
                 + uc[..., None] * (np.einsum("nmq,nm->nq", du, r) / s_uu[:, None])[:, None, :])
            bad = ~(s_uu > 1e-300)
        elif self.c_free or self.d_free:
            # one free level: f = c + (d - c) g with c fixed, or f = d + (c - d)(1 - g) with d fixed
            u, du, off = (g, dg, c_fix) if self.d_free else (gc, -dg, d_fix)
            u = masked(u, wf)
            yy = masked(y - off, wf)
            s_uu = np.einsum("nm,nm->n", u, u)
            k = np.einsum("nm,nm->n", u, yy) / s_uu
            r = yy - k[:, None] * u
            levels = np.stack([np.full_like(k, c_fix), c_fix + k] if self.d_free else [d_fix + k, np.full_like(k, d_fix)],
                              axis=1)
            v = masked(k[:, None, None] * du, wf3)
            J = (v - u[..., None] * (np.einsum("nm,nmq->nq", u, v) / s_uu[:, None])[:, None, :]
                 + u[..., None] * (np.einsum("nmq,nm->nq", du, r) / s_uu[:, None])[:, None, :])
            bad = ~(s_uu > 1e-300)
        else:
            r = masked(y - c_fix - (d_fix - c_fix) * g, wf)
            J = masked((d_fix - c_fix) * dg, wf3)
            levels = np.broadcast_to([c_fix, d_fix], (len(psi), 2)).copy()
            bad = np.zeros(len(psi), dtype=bool)
        r[bad] = np.inf
        return r, J, levels


# ------------------------------------------------------------------------------ limiting curves (no finite optimum)
# the asymptote (1 = c, 2 = d) that a power-law tail of h keeps finite: LL has h ~ exp(-f z) (h -> 0, c) and
# 1 - h ~ f exp(z) (h -> 1, d); W1.4 only 1 - h ~ exp(z) (d), W2.4 only h ~ exp(z) (c); the other tails are
# super-exponential and end in steps
_POWER_TAIL = {"LL": (1, 2), "W1": (2,), "W2": (1,)}
_Q_GRID = np.linspace(-40.0, 40.0, 41)          # exponent p times the ln-dose span of the curve
_GOLDEN = 24
LIMIT_KINDS = ("", "constant", "step", "power")


def _group_rss(s1, s2, n, level):
    """RSS of a group (sums s1 = sum y, s2 = sum y^2, count n) about its mean (``level`` NaN) or a fixed level."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isnan(level):
            return np.where(n > 0, s2 - s1 ** 2 / n, 0.0), s1 / n
        return s2 - 2.0 * level * s1 + n * level ** 2, np.full_like(s1, level)


def _step_rss(x, y, w, c_fix, d_fix):
    """Least RSS of the steps (b -> +-inf): every split of the doses into a low and a high group at levels d and
    c (or c and d), and every split through a dose whose points sit at a free level strictly between the two
    (e -> that dose as b -> inf, so that b (ln x - ln e) tends to any value there).  From prefix sums of the
    points sorted by dose."""
    N, m = x.shape
    order = np.argsort(np.where(w, x, np.inf), axis=1, kind="stable")
    xs = np.take_along_axis(np.where(w, x, np.inf), order, axis=1)
    ws = np.take_along_axis(w, order, axis=1).astype(float)
    ys = np.take_along_axis(y, order, axis=1) * ws
    zero = np.zeros((N, 1))
    c1 = np.concatenate([zero, np.cumsum(ys, axis=1)], axis=1)         # sums over positions < k
    c2 = np.concatenate([zero, np.cumsum(ys * ys, axis=1)], axis=1)
    cn = np.concatenate([zero, np.cumsum(ws, axis=1)], axis=1)
    pos = np.broadcast_to(np.arange(m), (N, m))
    first = np.concatenate([np.ones((N, 1), bool), xs[:, 1:] != xs[:, :-1]], axis=1)
    last = np.concatenate([xs[:, 1:] != xs[:, :-1], np.ones((N, 1), bool)], axis=1)
    lo = np.maximum.accumulate(np.where(first, pos, 0), axis=1)          # first position of each dose's group
    hi = np.minimum.accumulate(np.where(last, pos, m - 1)[:, ::-1], axis=1)[:, ::-1] + 1   # one past its last
    valid = ws > 0
    n_all = cn[:, -1:]

    def part(k0, k1):
        take = lambda c: np.take_along_axis(c, k1, axis=1) - np.take_along_axis(c, k0, axis=1)
        return take(c1), take(c2), take(cn)

    out = np.full(N, np.inf)
    low, high = part(np.zeros_like(hi), hi), part(hi, np.broadcast_to(n_all.astype(np.intp), hi.shape))
    below, at = part(np.zeros_like(lo), lo), part(lo, hi)
    two_ok = valid & (high[2] > 0)
    three_ok = valid & (below[2] > 0) & (high[2] > 0) & (xs > 0)           # e > 0: no split through a zero dose
    free = np.isnan(c_fix) and np.isnan(d_fix)
    for lo_level, hi_level in ((d_fix, c_fix),) if free else ((d_fix, c_fix), (c_fix, d_fix)):
        r_low, _ = _group_rss(*low, lo_level)
        r_high, _ = _group_rss(*high, hi_level)
        out = np.minimum(out, np.where(two_ok, r_low + r_high, np.inf).min(axis=1))
        r_below, m_below = _group_rss(*below, lo_level)
        r_at, m_at = _group_rss(*at, np.nan)
        r_above, m_above = _group_rss(*high, hi_level)
        between = (m_at - m_below) * (m_above - m_at) > 0
        out = np.minimum(out, np.where(three_ok & between, r_below + r_at + r_above, np.inf).min(axis=1))
    return np.maximum(out, 0.0)


def _power_limit(x, y, w, alpha):
    """Least RSS of the power curves a + beta x^p over p (a free when ``alpha`` is NaN, else a = alpha): a grid of
    q = p times the ln-dose span, a finer grid about its best point, then golden-section search (to 1e-5 in q).
    Every value returned is attained by some p, so the result never falls below the infimum."""
    wf = w.astype(float)
    with np.errstate(divide="ignore"):
        lx = np.log(np.where(w, x, 1.0))
    zero = w & (x == 0)
    pos = w & (x > 0)
    lo = np.where(pos, lx, np.inf).min(axis=1)
    hi = np.where(pos, lx, -np.inf).max(axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    s = np.where(pos, (lx - (0.5 * (lo + hi))[:, None]) / span[:, None], 0.0)[:, None, :]
    dense, any_zero = bool(w.all()), bool(zero.any())
    z3, w3 = zero[:, None, :], wf[:, None, :]
    n = wf.sum(axis=1)[:, None]
    free = np.isnan(alpha)
    yy = ((y - (y * wf).sum(axis=1, keepdims=True) / n) if free else (y - alpha)) * wf
    syy = (yy * yy).sum(axis=1)[:, None]
    yy = yy[:, None, :]
    has_zero = zero.any(axis=1)[:, None]

    def rss(q):                                    # q (N, K) -> (N, K)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if free:                               # span{1, (x^p - 1)/p}: continuous through p = 0 (ln x)
                qq = np.where(q == 0.0, 1e-9, q)[..., None]
                u = np.expm1(qq * s) / qq
                if any_zero:
                    u = np.where(z3, -1.0 / qq, u)
            else:
                qq = q[..., None]
                u = np.exp(qq * s)
                if any_zero:
                    u = np.where(z3, 0.0, u)
            if not dense:
                u = u * w3
            s_uy = (u * yy).sum(axis=-1)           # yy sums to 0 when a is free: no need to centre u
            s_uu = (u * u).sum(axis=-1)
            if free:
                s_uu = s_uu - u.sum(axis=-1) ** 2 / n
            out = syy - s_uy ** 2 / s_uu
        bad = ~np.isfinite(out) | ~(s_uu > 0)
        if any_zero:
            bad |= has_zero & ~(q > 0)             # zero doses: x^p = 0 there needs p > 0
        return np.where(bad, np.inf, np.maximum(out, 0.0))

    N = len(x)
    grid = rss(np.broadcast_to(_Q_GRID, (N, len(_Q_GRID))))
    best = grid.min(axis=1)
    h = _Q_GRID[1] - _Q_GRID[0]
    # a finer grid over the best coarse cell and its neighbours (a zero dose makes q <= 0 invalid, so the
    # optimum may sit just above an invalid grid point) ...
    fine = _Q_GRID[np.argmin(grid, axis=1)][:, None] + h * np.linspace(-1.0, 1.0, 9)
    vals = rss(fine)
    best = np.minimum(best, vals.min(axis=1))
    centre, h = fine[np.arange(N), np.argmin(vals, axis=1)], h / 4.0
    # ... then golden-section search in the best fine cell and its neighbours
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = centre - h, centre + h
    c1, c2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = rss(np.stack([c1, c2], axis=1)).T
    for _ in range(_GOLDEN):
        left = f1 <= f2                                  # the minimum lies in [a, c2], else in [c1, b]
        a, b = np.where(left, a, c1), np.where(left, c2, b)
        kept, f_kept = np.where(left, c1, c2), np.where(left, f1, f2)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = rss(new[:, None])[:, 0]
        c1, f1 = np.where(left, new, kept), np.where(left, f_new, f_kept)
        c2, f2 = np.where(left, kept, new), np.where(left, f_kept, f_new)
    best = np.minimum(best, np.minimum(f1, f2))
    return best


def limit_rss(model: DoseResponseModel, fixed_values: np.ndarray, x, y, w):
    """(rss_limit, kind): the least RSS of the limiting curves of ``model`` (constant, step, power curve) for
    each of N curves (x, y, w: (N, m) doses, responses, mask), and which kind attains it (an index into
    ``LIMIT_KINDS``).  NaN and 0 when b is fixed (no limit computed)."""
    N = x.shape[0]
    if np.isfinite(fixed_values[0]):
        return np.full(N, np.nan), np.zeros(N, dtype=np.intp)
    c_fix, d_fix = fixed_values[1], fixed_values[2]
    y = np.where(w, y, 0.0)
    x = np.where(w, x, 1.0)
    if np.isnan(c_fix) or np.isnan(d_fix):
        with np.errstate(invalid="ignore", divide="ignore"):
            n = w.sum(axis=1)
            const = ((y - (y * w).sum(axis=1, keepdims=True) / n[:, None]) ** 2 * w).sum(axis=1)
    else:
        const = np.minimum(((y - c_fix) ** 2 * w).sum(axis=1), ((y - d_fix) ** 2 * w).sum(axis=1))
    step = _step_rss(x, y, w, c_fix, d_fix)
    if np.isnan(c_fix) and np.isnan(d_fix):
        power = _power_limit(x, y, w, np.nan)
    else:
        power = np.full(N, np.inf)
        for k in _POWER_TAIL[model.family]:
            level = fixed_values[k]
            if np.isfinite(level) and np.isnan(fixed_values[3 - k]):
                power = np.minimum(power, _power_limit(x, y, w, level))
    stack = np.stack([const, step, power], axis=1)
    kind = np.argmin(stack, axis=1)
    # a constant is also a step or power curve with a zero jump: name the simplest that attains the least RSS
    best = stack[np.arange(N), kind]
    kind = np.where(const <= best * (1 + LIMIT_MARGIN), 0, kind)
    return best, kind + 1


# -------------------------------------------------------------------------------------------- the iteration
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

    def __init__(self, curves: _Curves, lx, y, w):
        self.curves, self.lx, self.y, self.w = curves, lx, y, w

    def subset(self, keep):
        return _Full(self.curves, self.lx[keep], self.y[keep], self.w[keep])

    def __call__(self, phi):
        r, J = self.curves.evaluate(phi, self.lx, self.y, self.w)
        return r, J, self.curves.natural(phi)


class _Projected:
    """The iteration on the shape (ln |b|, ln e, ln f; the sign of b kept) with the levels c, d projected out
    (variable projection).  On the log scale a steep curve's b grows by factors, not by small steps."""

    def __init__(self, curves: _Curves, lx, y, w, sign_b):
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
    RSS any more).  ``limit`` is rss_limit (NaN: unknown): a curve within _REACH above it stops as
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
        out = ~beats & (RSS <= LIM * (1 + _REACH))        # at a limiting curve: no finite optimum
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


def _iterate(curves: _Curves, start, lx, y, w, max_iter: int, limits):
    """The batch iteration: _FIRST steps on all free parameters from the start (anchored by the start's levels:
    the path of drc and scipy); then, for the curves still running or far out, their limiting curves
    (``limits(rows)`` gives rss_limit and kind) and variable projection on the shape from where they are (fast
    along flat valleys and out to limiting curves), with one restart for the curves that end above their best
    limiting curve.  Returns (theta, rss, converged, diverged, flat, iterations, rss_limit, kind)."""
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
              & (rss[rest] <= rss_limit[rest] * (1 + _REACH)))
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
        again = rest[rss[rest] > rss_limit[rest] * (1 + _REACH)]                  # NaN (no limit): False
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


def _grid_start(curves: _Curves, lx, y, w):
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


# ------------------------------------------------------------------------------------------ the fallback
def _scipy_refit(curves: _Curves, lx, y, starts):
    """Per-curve fallback on one curve's points (lx = ln doses): least_squares ('lm', at most
    _FALLBACK_NFEV (p + 1) evaluations) from the first start, and from the next only if a run fails outright
    (error or non-finite result; a run that used up its evaluations still creeping would creep from there too).
    (phi, rss, converged) of the lowest RSS, or None."""
    model = curves.model
    columns = tuple(curves.free)
    best = None
    for start in starts:
        phi0 = curves.internal(start[None, :])[0]
        if not np.all(np.isfinite(phi0)):
            continue

        def fun(p):
            return model.evaluate(None, curves.natural(p[None, :])[0], logx=lx) - y

        def jac(p):
            theta = curves.natural(p[None, :])[0]
            J = model.evaluate(None, theta, jacobian=True, logx=lx, columns=columns)[1]
            J[:, curves.log] *= theta[curves.free[curves.log]]
            return J
        try:
            with np.errstate(all="ignore"):               # scipy's trial points may overflow; they are rejected
                res = least_squares(fun, phi0, jac=jac, method="lm", x_scale="jac", ftol=1e-12, xtol=1e-12,
                                    gtol=1e-12, max_nfev=_FALLBACK_NFEV * (phi0.size + 1))
        except (ValueError, np.linalg.LinAlgError):
            continue
        rss = float(res.fun @ res.fun)
        if np.isfinite(rss) and np.all(np.isfinite(res.x)):
            if best is None or rss < best[1]:
                best = (res.x, rss, res.status > 0)
            break
    return best


# ----------------------------------------------------------------------------------- standard errors
def _covariances(curves: _Curves, phi, lx, y, w, n_obs, kind: str):
    """((N, P, P) variance-covariance matrices on the natural scale of the free parameters, (N,) condition
    numbers of the column-scaled J'J).  At extreme estimates (a steep step, e far out) the derivatives overflow:
    such a curve gets NaN standard errors and an infinite condition number (not identifiable), silently."""
    with np.errstate(all="ignore"):
        return _covariances_at(curves, phi, lx, y, w, n_obs, kind)


def _covariances_at(curves: _Curves, phi, lx, y, w, n_obs, kind: str):
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
        S = np.zeros_like(A)
        shape = [k for k, j in enumerate(curves.free) if j in (0, 3, 4)]
        for k in shape:
            # central differences of the analytic Jacobian in b, e, f.  e and f are positive and may be tiny
            # (doses in mol/L): a step relative to the value keeps them positive; b gets an absolute floor.  The
            # rows of c and d need none: f is linear in them, so d2f/dc dtheta is minus, and d2f/dd dtheta plus,
            # d g/dtheta, already in the shape rows' c and d columns (S is symmetrised below)
            j = curves.free[k]
            h = 1e-5 * np.abs(free_theta[:, k]) if j >= 3 else 1e-5 * (np.abs(free_theta[:, k]) + 1e-3)
            up, down = theta.copy(), theta.copy()
            up[:, j] += h
            down[:, j] -= h
            dj = (curves.evaluate(curves.internal(up), lx, y, w, True)[1]
                  - curves.evaluate(curves.internal(down), lx, y, w, True)[1]) / (2 * h[:, None, None])
            S[:, k, :] = np.einsum("nm,nmp->np", r, dj)
        linear = [k for k, j in enumerate(curves.free) if j in (1, 2)]
        for k in linear:
            S[:, k, shape] = S[:, shape, k]
        A = A - 0.5 * (S + np.swapaxes(S, 1, 2))
    d = np.sqrt(np.einsum("npp->np", jtj))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = jtj / (d[:, :, None] * d[:, None, :])
        cond = np.full(N, np.inf)
        fin = np.all(np.isfinite(scaled), axis=(1, 2))
        lam = np.abs(np.linalg.eigvalsh(scaled[fin]))       # symmetric: the 2-norm condition number
        cond[fin] = lam.max(axis=1) / lam.min(axis=1)
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
    with np.errstate(invalid="ignore"):
        size = np.nanmax(np.abs(yw), axis=1)
    for i in np.flatnonzero(~((size >= 1e-150) & (size <= 1e150)) & (reasons == None)):
        reasons[i] = (f"responses of the order of {size[i]:.3g} are out of reach of double-precision least squares "
                      f"(squares over- or underflow); rescale them")
    return reasons, n_obs


# ------------------------------------------------------------------------------------------------ the fit
_LIMIT_WORDS = {1: "a constant", 2: "a step between adjacent doses (b runs to infinity)",
                3: "a power curve without inflection, y = a + beta x^p (e runs outside the doses and an asymptote "
                   "away)"}


def fit_curves_array(x, y, model: str | DoseResponseModel = "LL.4", *, fixed: dict | None = None,
                     mask=None, se: str = "drc", max_iter: int = 500, fallback: bool = True,
                     max_fallback: int = 100) -> BatchFit:
    """Fit N independent curves given as (N, m) arrays ``x`` (doses, zero allowed) and ``y``; NaN entries (or
    ``mask`` False) are left out, so curves may have different numbers of points.  ``fixed`` holds parameters
    at a value for every curve (``{"c": 0}``).  ``fallback`` refits, one by one with scipy, at most
    ``max_fallback`` curves that the batch did not converge on but that have a finite optimum.  See the module
    docstring for the algorithm, the limiting curves and the fallback.

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
    merged = {**model.fixed, **(fixed or {})}
    fixed_values = np.array([float(merged.get(p, np.nan)) for p in PARAMETERS])
    curves = _Curves(model, fixed_values)
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
    flat = np.zeros(N, dtype=bool)
    diverged = np.zeros(N, dtype=bool)
    iterations = np.zeros(N, dtype=np.intp)
    method = np.full(N, "failed", dtype=object)
    issues = []
    if ok.any():
        idx = np.flatnonzero(ok)
        out = _iterate(curves, start[idx], lx[idx], ys[idx], w[idx], max_iter,
                       lambda rows: limit_rss(model, fixed_values, xs[idx[rows]], ys[idx[rows]], w[idx[rows]]))
        with np.errstate(divide="ignore", invalid="ignore"):
            phi[idx] = curves.internal(out[0])
        rss[idx], converged[idx], diverged[idx], flat[idx], iterations[idx], rss_limit[idx], kind[idx] = out[1:]
        method[idx] = "batch"
        finite = ~(rss >= rss_limit * (1 - LIMIT_MARGIN))          # beats the limit, or no limit known
        todo = np.flatnonzero(ok & ~converged & ~diverged & np.isfinite(rss) & finite)
        skipped = todo[max_fallback:] if fallback else todo
        if skipped.size:
            issues.append(Issue("fallback_capped" if fallback else "fallback_off",
                                f"{skipped.size} of {todo.size} curves that did not converge in the batch but have a "
                                f"finite optimum kept the batch result"
                                + (f" (max_fallback={max_fallback})" if fallback else " (fallback=False)")))
        for i in todo[:max_fallback] if fallback else ():
            sel = w[i]
            best = _scipy_refit(curves, lx[i, sel], y[i, sel], [curves.natural(phi[i][None, :])[0], start[i]])
            if best is not None and not best[1] > rss[i]:
                phi[i], rss[i], converged[i] = best
                method[i] = "scipy"
        words = {i: f"{_LIMIT_WORDS[kind[i]]}, RSS {rss_limit[i]:.6g}" for i in np.flatnonzero(kind > 0)}
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
        for i in np.flatnonzero(ok & converged & ~flat & (rss > rss_limit * (1 + _REACH))):
            reasons[i] = f"a local optimum: a limiting curve fits better ({words[i]})"
    params = np.where(np.isfinite(phi).all(axis=1, keepdims=True), curves.natural(np.nan_to_num(phi)), np.nan)
    V = np.full((N, P, P), np.nan)
    cond = np.full(N, np.nan)
    good = np.flatnonzero(np.isfinite(rss) & np.all(np.isfinite(params), axis=1) & ~diverged)   # no SEs at infinity
    if good.size:
        V[good], cond[good] = _covariances(curves, phi[good], lx[good], ys[good], w[good], n_obs[good], se)
    se_free = np.sqrt(np.einsum("npp->np", V))
    se5 = np.full((N, 5), np.nan)
    se5[:, curves.free] = se_free
    shape = [j for j in curves.free if j in (0, 3, 4)]            # b, e, f: SE above 10 x estimate = undetermined
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
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
    limit = np.array(LIMIT_KINDS, dtype=object)[kind]
    return BatchFit(params, se5, rss, n_obs, n_obs - P, converged, identifiable, status, iterations, method, reasons,
                    ed50, ed50_se, rss_limit, limit, tuple(issues))
