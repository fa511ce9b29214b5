"""The limiting curves of a dose-response model and ``rss_limit``: the cheap test for a finite optimum.

On 8-point curves many fits have no finite least-squares estimate: the infimum of the RSS is reached only as
parameters run to infinity.  The closure of a model c + (d - c) h(b ln(x/e)) holds, besides the curves
themselves, their *limiting curves*:

* a **constant** (b -> 0, or e beyond all doses);
* a **step** (b -> +-inf): a split of the doses into a low and a high group, each at its mean, or a split through
  one dose whose points sit at any level between the two (e -> that dose while b (ln x - ln e) stays finite);
* a **power curve without inflection**, y = a + beta x^p (e beyond the doses while d - c -> inf, following the
  power-law tail of h), and its p -> 0 limit a + beta ln x (b -> 0 while d - c -> inf).

For a given split or exponent each is linear in at most two levels, so the least RSS over all limiting curves,
``rss_limit``, costs a few array operations per curve (steps from prefix sums over the sorted doses; the exponent
on a grid, refined by a finer grid and golden-section search).  That is the cheap test for "has a finite
optimum": **a fit whose RSS is below rss_limit (by LIMIT_MARGIN, relatively) proves that a finite optimum
exists** -- the RSS is continuous on the parameter space closed by the limiting curves, so its least value lies
inside.  A fit within REACH (relatively) above rss_limit without having beaten it has reached a limiting curve.

The limits are exact for LL.4, LL.3, W1.4 and W2.4 with b free; for LL.5 the f -> 0 and f -> inf limits are not
included (rss_limit is then an upper bound: the test can only err toward refitting); with b fixed no limit is
computed.
"""

from __future__ import annotations

import numpy as np

from .models import DoseResponseModel

__all__ = ["LIMIT_KINDS", "LIMIT_MARGIN", "LIMIT_WORDS", "REACH", "limit_rss"]

LIMIT_MARGIN = 1e-9            # relative RSS margin by which a fit beats its limiting curves (a finite optimum)
REACH = 1e-7                   # a fit this close (relative RSS) above its limiting curves has reached them

# the asymptote (1 = c, 2 = d) that a power-law tail of h keeps finite: LL has h ~ exp(-f z) (h -> 0, c) and
# 1 - h ~ f exp(z) (h -> 1, d); W1.4 only 1 - h ~ exp(z) (d), W2.4 only h ~ exp(z) (c); the other tails are
# super-exponential and end in steps
_POWER_TAIL = {"LL": (1, 2), "W1": (2,), "W2": (1,)}
_Q_GRID = np.linspace(-40.0, 40.0, 41)          # exponent p times the ln-dose span of the curve
_GOLDEN = 24
LIMIT_KINDS = ("", "constant", "step", "power")
# how a reason names each kind (index into LIMIT_KINDS)
LIMIT_WORDS = {1: "a constant", 2: "a step between adjacent doses (b runs to infinity)",
               3: "a power curve without inflection, y = a + beta x^p (e runs outside the doses and an asymptote "
                  "away)"}


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
        def take(c):
            return np.take_along_axis(c, k1, axis=1) - np.take_along_axis(c, k0, axis=1)

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
