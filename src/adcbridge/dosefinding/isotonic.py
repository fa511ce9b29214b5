"""Weighted isotonic (non-decreasing) regression by the pool-adjacent-violators algorithm, on many rows at once.

The pooling order is the one BOIN 2.7.2's ``select.mtd`` uses, so that results agree to rounding:

* scan for the *first* adjacent pair with a strict decrease (equal neighbours are never pooled);
* pool the two level sets that pair belongs to, setting every member to the weighted mean
  ``sum(w * x) / sum(w)`` of the members' current values;
* repeat until no strict decrease remains.

Each row is an independent problem; the loop runs at most ``M - 1`` times for ``M`` columns, each pass pooling
one pair in every row that still has a violation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pava", "pava_rows"]


def pava_rows(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Isotonic regression of each row of ``x`` (shape (B, M)) with weights ``w`` (same shape; default 1).

    Returns a new array; rows are fitted independently.  Columns that are not part of a problem can be padded
    with strictly increasing values larger than the data (they are then never pooled).
    """
    x = np.array(x, dtype=float, copy=True)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array (rows are problems); got shape {x.shape}")
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    if w.shape != x.shape:
        raise ValueError(f"weights have shape {w.shape}, values {x.shape}")
    m = x.shape[1]
    if m <= 1:
        return x
    level = np.broadcast_to(np.arange(m), x.shape).copy()
    rows = np.arange(x.shape[0])
    while True:
        violation = x[rows, 1:] < x[rows, :-1]
        keep = violation.any(axis=1)
        if not keep.any():
            return x
        rows = rows[keep]
        first = violation[keep].argmax(axis=1)
        lv = level[rows]
        l1 = lv[np.arange(rows.size), first][:, None]
        l2 = lv[np.arange(rows.size), first + 1][:, None]
        member = (lv == l1) | (lv == l2)
        xr, wr = x[rows], w[rows]
        pooled = (xr * wr * member).sum(axis=1) / (wr * member).sum(axis=1)
        x[rows] = np.where(member, pooled[:, None], xr)
        level[rows] = np.where(member, l1, lv)


def pava(x, w=None) -> np.ndarray:
    """Isotonic regression of one vector (see :func:`pava_rows`)."""
    x = np.asarray(x, dtype=float)
    out = pava_rows(x[None, :], None if w is None else np.asarray(w, dtype=float)[None, :])
    return out[0]
