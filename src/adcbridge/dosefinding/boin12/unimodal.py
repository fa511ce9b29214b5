"""Unimodal (umbrella) isotonic fits of the efficacy rates, as Iso 0.0-18.1's ``ufit`` computes them.

BOIN12's reference (phase12designs 0.2.0 ``peestimate``) fits, for every mode m = 1..J, a unimodal curve to the
raw efficacy rates with ``Iso::ufit(pe, lmode = m, x = (1, ..., m-1, J, J-1, ..., m), w)``.  With Iso 0.0-18.1 --
the reference environment -- that call makes the mode index exactly m and computes (SPEC 7.6):

* m = 1: the non-increasing weighted PAVA fit; m = J: the non-decreasing one;
* 1 < m < J: (a) the non-decreasing PAVA fit of doses 1..m-1 and the non-increasing fit of doses m+1..J; (b) the
  two fitted sequences merged into one ascending list (left part in dose order, right part from dose J down; on
  equal values the right-hand element first), the raw value of dose m appended last; (c) the weights attached
  to the merged list in *permuted* order: with pi(p) the dose at merged position p, position p receives the
  weight of dose pi^-1(p) (not of pi(p)); (d) the non-decreasing weighted PAVA fit of the merged list; (e) each
  dose takes the value of its merged position.

Step (c) is Iso's own; it makes the fit differ from the weighted least-squares umbrella fit whenever the weights
differ, and it is reproduced here because the reference's selections depend on it.  Iso >= 0.0-19 (CRAN 0.0-21)
instead always returns the non-decreasing fit for peestimate's ``x``; adcbridge offers that as
``efficacy_fit="isotonic"``.

**Computation** (whole batches of trials at once, few array operations -- the OBD selection of every simulated
trial goes through here).  A PAVA that pools adjacent violators from left to right is a stack of blocks: after
column k the stack holds the fit of the first k columns.  One left-to-right pass therefore gives the
non-decreasing fits of *every* prefix (the left parts of all modes, and mode J) and one pass over the reversed,
negated rows the non-increasing fits of every suffix (the right parts, and mode 1).  In (d) the merged list is
ascending except for its last value, so its PAVA fit pools that value backwards with its predecessors while the
pooled mean is below the next value down: a suffix of the list, found from cumulative sums.  These give the
PAVA fits up to rounding (blocks are pooled in another order than :func:`~adcbridge.dosefinding.isotonic.
pava_rows`, which yields the same blocks).
"""

from __future__ import annotations

import numpy as np

__all__ = ["prefix_fits", "unimodal_fits", "unimodal_fit"]


def prefix_fits(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Non-decreasing weighted PAVA fits of every prefix of every row: ``out[b, k, :k+1]`` is the fit of
    ``x[b, :k+1]`` (shape (B, M, M); entries beyond the prefix are 0)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    B, M = x.shape
    S, W = np.empty((B, M)), np.empty((B, M))       # the stack of blocks: sum of w*x, sum of w, first column
    first = np.empty((B, M), dtype=np.int64)
    top = np.full(B, -1, dtype=np.int64)
    fit = x.copy()
    rows, pos = np.arange(B), np.arange(M)
    out = np.zeros((B, M, M))
    for k in range(M):
        top += 1
        S[rows, top] = w[:, k] * x[:, k]
        W[rows, top] = w[:, k]
        first[rows, top] = k
        live = rows[top >= 1]
        while live.size:
            t = top[live]
            s_top, w_top, s_prev, w_prev = S[live, t], W[live, t], S[live, t - 1], W[live, t - 1]
            v = s_top / w_top < s_prev / w_prev                  # the last block violates: pool it
            if not v.any():
                break
            live, t = live[v], t[v] - 1
            s, ws = s_prev[v] + s_top[v], w_prev[v] + w_top[v]
            S[live, t], W[live, t] = s, ws
            top[live] = t
            start = first[live, t]
            fit[live, : k + 1] = np.where(pos[: k + 1] >= start[:, None], (s / ws)[:, None], fit[live, : k + 1])
            live = live[t >= 1]
        out[:, k, : k + 1] = fit[:, : k + 1]
    return out


def _merged_fit(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing PAVA fit of rows that ascend except possibly for their last value (step (d))."""
    B, M = values.shape
    wv = weights * values
    s, w = wv[:, M - 1].copy(), weights[:, M - 1].copy()     # sums over positions k..M-1, k going down
    mean = np.empty((B, M))
    mean[:, M - 1] = s / w
    start = np.zeros(B, dtype=np.int64)
    found = np.zeros(B, dtype=bool)
    for k in range(M - 1, 0, -1):
        if k < M - 1:
            s += wv[:, k]
            w += weights[:, k]
            mean[:, k] = s / w
        stop_here = ~found & ~(mean[:, k] < values[:, k - 1])     # the last block starts at k
        start = np.where(stop_here, k, start)
        found |= stop_here
    s += wv[:, 0]
    w += weights[:, 0]
    mean[:, 0] = s / w
    pooled = mean[np.arange(B), start]
    return np.where(np.arange(M)[None, :] >= start[:, None], pooled[:, None], values)


def unimodal_fits(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """All J unimodal fits of each row of ``x`` (B, J) with weights ``w``: an array (B, J modes, J doses)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    B, J = x.shape
    up = prefix_fits(x, w)                                   # up[:, k, :k+1]: increasing fit of doses 0..k
    down = prefix_fits(x[:, ::-1], w[:, ::-1])               # down[:, k, :k+1]: decreasing fit of doses J-1-k..J-1
    out = np.empty((B, J, J))                                #                   (in reversed order)
    out[:, J - 1] = up[:, J - 1]
    out[:, 0] = down[:, J - 1, ::-1]
    rows = np.arange(B)[:, None]
    for m in range(1, J - 1):
        left = up[:, m - 1, :m]                              # doses 0..m-1, in dose order
        right_from_top = down[:, J - 2 - m, : J - 1 - m]     # doses J-1 down to m+1
        doses = np.concatenate([np.arange(J - 1, m, -1), np.arange(m)])
        values = np.concatenate([right_from_top, left], axis=1)
        order = np.argsort(values, axis=1, kind="stable")    # (b) right-hand values first on ties
        merged = np.concatenate([values[rows, order], x[:, m:m + 1]], axis=1)
        pi = np.concatenate([doses[order], np.full((B, 1), m)], axis=1)
        inverse = np.empty_like(pi)
        inverse[rows, pi] = np.arange(J)[None, :]            # inverse[dose] = its merged position
        fit = _merged_fit(merged, w[rows, inverse])          # (c) position p gets the weight of dose pi^-1(p)
        out[:, m] = fit[rows, inverse]                       # (e)
    return out


def unimodal_fit(x, w, mode: int) -> np.ndarray:
    """Iso 0.0-18.1's unimodal fit of each row with the mode at the 0-based column ``mode``."""
    return unimodal_fits(x, w)[:, mode]
