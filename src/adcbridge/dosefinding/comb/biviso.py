"""Bivariate isotonic regression: the weighted least-squares fit that is non-decreasing along every row and every
column of a grid, for many grids at once -- exactly, in a finite number of steps.

Algorithm: the **minimum lower sets algorithm** (Brunk, Ewing & Utz 1957; Robertson, Wright & Dykstra 1988,
*Order Restricted Statistical Inference*, section 1.3).  Cells are ordered by (i, j) <= (i', j') when i <= i' and
j <= j'.  A *lower set* L is a set of cells that holds every cell below each of its members; on a J x K grid it
is a staircase (row i holds its first h_i columns, h_1 >= h_2 >= ... >= h_J), so there are C(J + K, J) of them
(56 on a 3 x 5 grid).  With Av(S) = sum(w y) / sum(w) over S:

1. the nonempty lower set with the smallest Av (the largest such set on ties) is a level set of the fit, whose
   value there is that Av;
2. removing it leaves the same problem on the remaining cells, whose lower sets are L minus the removed set for
   the lower sets L that contain it; repeat until every cell has its value.

Every step is a minimum over the C(J + K, J) lower sets of differences of precomputed sums, done for all grids at
once, and there are at most J K steps: no iteration to convergence (R's ``Iso::biviso``, algorithm AS 206, iterates
to a tolerance; the two agree to that tolerance).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np

__all__ = ["biviso", "lower_sets", "ratio_levels", "unique_rows"]

#: most (grids x lower sets) handled in one block (memory)
BLOCK = 2_000_000


@lru_cache(maxsize=32)
def lower_sets(J: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """(members, strict_superset): ``members[l]`` flags the cells (row-major) of lower set l, the empty set first
    and the full grid last; ``strict_superset[r, l]`` is True when lower set l strictly contains lower set r."""
    heights = []
    # non-increasing row lengths h_1 >= ... >= h_J in 0..K  <->  multisets of size J from 0..K
    for cut in combinations(range(J + K), J):
        h = sorted((c - k for k, c in enumerate(cut)), reverse=True)
        heights.append(h)
    heights.sort(key=lambda h: (sum(h), h))
    cols = np.arange(K)
    members = np.array([(cols[None, :] < np.array(h)[:, None]).ravel() for h in heights])
    inside = (members[:, None, :] <= members[None, :, :]).all(axis=2)
    strict = inside & (members.sum(axis=1)[:, None] < members.sum(axis=1)[None, :])
    members.setflags(write=False)
    strict.setflags(write=False)
    return members, strict


@lru_cache(maxsize=32)
def _search_order(J: int, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lower sets reordered for the search: largest first (so that the first of several minimisers is the
    largest; equal sizes in :func:`lower_sets` order), the empty set last: (members, strict_superset, order),
    ``order`` giving the :func:`lower_sets` index of each."""
    members, strict = lower_sets(J, K)
    size = members.sum(axis=1)
    order = np.lexsort((np.arange(size.size), -size))
    mem, st = members[order], strict[np.ix_(order, order)]
    for a in (mem, st):
        a.setflags(write=False)
    return mem, st, order


#: rows per matrix product of :func:`_set_sums` (small products stay on one thread: a multi-threaded BLAS
#: call costs more than it saves on a busy machine)
SUM_ROWS = 256


def _set_sums(v: np.ndarray, J: int, K: int) -> np.ndarray:
    """(B, n_sets): the sums of (B, J * K) values over every lower set (search order).  Exact -- whatever the
    summation order -- when the values are integers."""
    members, _, _ = _search_order(J, K)
    m = members.T.astype(float)
    out = np.empty((v.shape[0], m.shape[1]))
    for s in range(0, v.shape[0], SUM_ROWS):
        np.matmul(v[s:s + SUM_ROWS], m, out=out[s:s + SUM_ROWS])
    return out


def _levels(S: np.ndarray, W: np.ndarray, J: int, K: int, values: bool = True):
    """(fit, level) from the sums ``S`` of w y and ``W`` of w over every lower set of B grids: the fitted values
    (flat; None unless ``values``) and the level set of each cell (0, 1, ...: the step of the algorithm that
    assigned it).  A step takes the first minimiser in search order (the largest set on an exact tie): any
    minimum lower set is part of a level set, so a tie split by rounding only splits a level set in two labels
    with the same mean."""
    members, strict, _ = _search_order(J, K)
    B = S.shape[0]
    empty = members.shape[0] - 1                    # the full grid is set 0
    # step 1: the nonempty lower set with the smallest mean (all are candidates)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = S[:, :empty] / W[:, :empty]
    pick = mean.argmin(axis=1)
    every = np.arange(B)
    x = np.where(members[pick], mean[every, pick][:, None], 0.0) if values else None
    level = np.where(members[pick], 0, -1)
    step = 0
    removed = pick                                  # the lower set assigned so far, per grid
    rows = np.flatnonzero(pick != 0)
    # the arrays are compacted to the unfinished grids only when they have shrunk by a quarter
    Sc, Wc, ids = S, W, every
    while rows.size:
        if rows.size < 0.75 * ids.size:
            keep = np.searchsorted(ids, rows)
            Sc, Wc, ids = Sc[keep], Wc[keep], rows
        if rows.size == ids.size:
            Sa, Wa = Sc, Wc
        else:
            keep = np.searchsorted(ids, rows)
            Sa, Wa = Sc[keep], Wc[keep]
        r = removed[rows]
        at = every[:rows.size]
        mean = np.full(Sa.shape, np.inf)
        np.divide(Sa - Sa[at, r][:, None], Wa - Wa[at, r][:, None], out=mean, where=strict[r])
        pick = mean.argmin(axis=1)
        new = members[pick] > members[r]            # in the picked set, not yet assigned
        step += 1
        if values:
            x[rows] = np.where(new, mean[at, pick][:, None], x[rows])
        level[rows] = np.where(new, step, level[rows])
        removed[rows] = pick
        rows = rows[pick != 0]
    return x, level


def _blocks(J: int, K: int) -> int:
    return max(1, BLOCK // lower_sets(J, K)[0].shape[0])


#: fixed odd 64-bit multipliers of the row hash of :func:`unique_rows`
_HASH = np.random.default_rng(20170101).integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of a (B, m) array of small non-negative integers: row
    ``first[inverse[i]]`` equals row i.  Rows are grouped by a 64-bit multiplicative hash, checked exactly (a
    collision falls back to a row-wise ``np.unique``), which is several times faster than sorting whole rows."""
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    _, m = codes.shape
    if m <= _HASH.size:
        with np.errstate(over="ignore"):
            h = (codes.view(np.uint64) * _HASH[:m]).sum(axis=1, dtype=np.uint64)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        if np.array_equal(codes[first[inverse]], codes):
            return first, inverse.ravel()
    _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def ratio_levels(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The level sets of the bivariate isotonic regression of the ratios ``num / den`` (B, J, K) with weights
    proportional to ``den`` (> 0), for integer ``num`` and ``den``: (B, J, K) labels; the cells with one label
    share the fitted value sum(num) / sum(den) over them.  With integers every set sum is exact and so is every
    comparison of means (two different means of such sums differ by far more than a rounding error), so the
    level sets do not depend on the order of any summation.  (:mod:`.selection`: num = 20 y + 1, den = 20 n + 2
    are (y + 0.05) / (n + 0.1) with weights n + 0.1.)"""
    B, J, K = num.shape
    nf, df = num.reshape(B, J * K).astype(float), den.reshape(B, J * K).astype(float)
    step = _blocks(J, K)
    out = [_levels(_set_sums(nf[s:s + step], J, K), _set_sums(df[s:s + step], J, K), J, K, False)[1]
           for s in range(0, B, step)]
    return (np.concatenate(out) if B else np.empty((0, J * K), dtype=np.int64)).reshape(B, J, K)


def biviso(y, w=None, *, dedupe: bool = True) -> np.ndarray:
    """The bivariate isotonic regression of ``y`` (one grid (J, K) or many (B, J, K)) with weights ``w`` (same
    shape, positive; default 1): the closest grid in weighted least squares that is non-decreasing along rows and
    columns.  Identical grids are solved once (``dedupe=False`` when the caller has already grouped them).

    >>> biviso([[0.5, 0.1], [0.2, 0.3]]).round(4).tolist()
    [[0.2667, 0.2667], [0.2667, 0.3]]
    """
    y = np.asarray(y, dtype=float)
    if y.ndim not in (2, 3):
        raise ValueError(f"biviso takes a grid (J, K) or grids (B, J, K); got shape {y.shape}")
    one = y.ndim == 2
    y3 = y[None] if one else y
    w3 = np.ones_like(y3) if w is None else np.broadcast_to(np.asarray(w, dtype=float), y3.shape)
    if np.any(~np.isfinite(y3)) or np.any(~(w3 > 0)) or np.any(~np.isfinite(w3)):
        raise ValueError("biviso needs finite values and positive, finite weights")
    B, J, K = y3.shape
    yf, wf = y3.reshape(B, J * K), w3.reshape(B, J * K)
    # identical problems (common in simulations) are solved once
    if dedupe:
        both = np.ascontiguousarray(np.concatenate([yf, wf], axis=1))
        _, first, inverse = np.unique(both.view(np.dtype((np.void, both.dtype.itemsize * both.shape[1]))).ravel(),
                                      return_index=True, return_inverse=True)
    else:
        first, inverse = np.arange(B), np.arange(B)
    yu, wu = yf[first], wf[first]
    step = _blocks(J, K)
    out = np.concatenate([_levels(_set_sums(yu[s:s + step] * wu[s:s + step], J, K),
                                  _set_sums(wu[s:s + step], J, K), J, K)[0]
                          for s in range(0, yu.shape[0], step)]) if B else np.empty((0, J * K))
    out = out[inverse.ravel()].reshape(B, J, K)
    return out[0] if one else out
