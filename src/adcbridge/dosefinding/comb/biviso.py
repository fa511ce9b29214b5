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

__all__ = ["biviso", "lower_sets", "unique_rows"]

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


def _fit_block(wy: np.ndarray, w: np.ndarray, members: np.ndarray, strict: np.ndarray) -> np.ndarray:
    B, n_cells = w.shape
    m = members.astype(float)
    S, W = wy @ m.T, w @ m.T                       # (B, n_sets): sums over each lower set
    size = members.sum(axis=1)
    full = members.shape[0] - 1
    x = np.empty((B, n_cells))
    removed = np.zeros(B, dtype=np.int64)            # index of the lower set assigned so far (0 = empty)
    rows = np.arange(B)
    while rows.size:
        r = removed[rows]
        cand = strict[r]                              # lower sets strictly containing the removed one
        dw = W[rows] - W[rows, r][:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(cand, (S[rows] - S[rows, r][:, None]) / np.where(cand, dw, 1.0), np.inf)
        low = mean.min(axis=1)
        tied = mean <= low[:, None] + 1e-14 * np.maximum(1.0, np.abs(low))[:, None]
        pick = np.where(tied, size[None, :], -1).argmax(axis=1)          # the largest of the minimisers
        new = members[pick] & ~members[r]
        x[rows] = np.where(new, low[:, None], x[rows])
        removed[rows] = pick
        rows = rows[pick != full]
    return x


#: fixed odd 64-bit multipliers of the row hash of :func:`unique_rows`
_HASH = np.random.default_rng(20170101).integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of a (B, m) array of small non-negative integers: row
    ``first[inverse[i]]`` equals row i.  Rows are grouped by a 64-bit multiplicative hash, checked exactly (a
    collision falls back to a row-wise ``np.unique``), which is several times faster than sorting whole rows."""
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    B, m = codes.shape
    if m <= _HASH.size:
        with np.errstate(over="ignore"):
            h = (codes.view(np.uint64) * _HASH[:m]).sum(axis=1, dtype=np.uint64)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        if np.array_equal(codes[first[inverse]], codes):
            return first, inverse.ravel()
    _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


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
    members, strict = lower_sets(J, K)
    yf, wf = y3.reshape(B, J * K), w3.reshape(B, J * K)
    # identical problems (common in simulations) are solved once
    if dedupe:
        both = np.ascontiguousarray(np.concatenate([yf, wf], axis=1))
        _, first, inverse = np.unique(both.view(np.dtype((np.void, both.dtype.itemsize * both.shape[1]))).ravel(),
                                      return_index=True, return_inverse=True)
    else:
        first, inverse = np.arange(B), np.arange(B)
    yu, wu = yf[first], wf[first]
    step = max(1, BLOCK // members.shape[0])
    out = np.concatenate([_fit_block(yu[s:s + step] * wu[s:s + step], wu[s:s + step], members, strict)
                          for s in range(0, yu.shape[0], step)]) if B else np.empty((0, J * K))
    out = out[inverse.ravel()].reshape(B, J, K)
    return out[0] if one else out
