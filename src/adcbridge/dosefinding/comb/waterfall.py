"""The waterfall design (Zhang & Yuan 2016; BOIN 2.7.2 ``get.oc.comb(mtd.contour = TRUE)`` and
``next.subtrial``): an MTD contour found by a sequence of single-agent BOIN subtrials, as array functions over
many trials.

Subtrials (levels 1-based in words, 0-based in the arrays):

* the **first subtrial** runs along (1, 1), (2, 1), ..., (J, 1), (J, 2), ..., (J, K) (``sub = 0``);
* a **row subtrial** runs along (a, 2), ..., (a, K) of one level a < J of agent A (``sub = a``, 1-based a).

Within a subtrial (:func:`subtrial_step`), after each cohort at position d of its path (n, y there):

1. elimination: the first position with y >= X(n) is eliminated with every position above it; when it is the
   lowest of the first subtrial -- (1, 1) -- the trial stops with no MTD; with the extra safety rule the trial also
   stops when (1, 1) has y >= S(n).  When it is the lowest of a row subtrial, the subtrial ends;
2. escalate (y <= E(n)) to d + 1 unless d is the top of the path or d + 1 is eliminated; de-escalate
   (y >= D(n), always so at an eliminated position) to d - 1 unless d is the lowest; else stay;
3. the subtrial ends when it has used its cohorts, or when the combination it goes to has n >= n_earlystop.

When a subtrial ends (:func:`after_subtrial`), its MTD is selected by single-agent BOIN (``select.mtd``) on its
path, and the next subtrial is:

* after the first subtrial with MTD (a, 1), a < J: levels a + 1..J of agent A are eliminated; if the MTD's data
  still say "escalate" (y <= E(n)), a row subtrial on row a starts at (a, 2); otherwise the row subtrial of
  a - 1 starts at (a - 1, 2);
* after the first subtrial with MTD (J, b), or a row subtrial of row a with MTD (a, b): the row subtrial of a - 1
  starts at (a - 1, b + 1), or at (a - 1, K) when b = K (a row subtrial without an MTD counts as b = 1);
* the trial ends when there is no such row, when the first subtrial finds no MTD, or when every subtrial's
  cohorts are used.  The MTD contour is then selected on the whole grid (:func:`.selection.select_waterfall`:
  the combinations the subtrials eliminated -- each path from its first too-toxic combination on -- and the rows
  above a first-subtrial MTD in column 1 are set to 1.1 before the isotonic fit; one MTD per row, without
  ``select.mtd.comb``'s rule that a row gets none when the row above picked its last column, as the reference's
  waterfall simulator selects).

**Deliberate differences from the reference:** the subtrials use the design's own p_saf and p_tox (the reference
ignores them there), the design's extra safety rule at (1, 1) with its Beta(1, 1) prior (the reference's subtrials
use Beta(y + 0.05, n - y + 0.1)), and ``bound_mtd`` keeps estimates <= lambda_d as ``select.mtd`` does (the
reference's copy uses <).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..boin.selection import SelectionRule, select_mtd_batch
from .tables import CombTables

__all__ = [
    "CONTINUE",
    "STOP_ELIMINATE",
    "STOP_EXTRA",
    "SUB_END",
    "NextSubtrial",
    "SubtrialStep",
    "after_subtrial",
    "next_subtrial",
    "subtrial_of",
    "subtrial_paths",
    "subtrial_step",
]

CONTINUE, SUB_END, STOP_ELIMINATE, STOP_EXTRA = 0, 1, 2, 3
#: why a subtrial ended
END_SIZE, END_EARLYSTOP, END_TOXIC = 1, 2, 3


@lru_cache(maxsize=32)
def subtrial_paths(J: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """(paths, lengths): ``paths[s]`` the flat cells of subtrial s in order (padded with -1), s = 0 the first
    subtrial, s = a the row subtrial of (1-based) level a < J of agent A."""
    L = J + K - 1
    paths = np.full((J, L), -1, dtype=np.int64)
    first = [i * K for i in range(J)] + [(J - 1) * K + j for j in range(1, K)]
    paths[0, :len(first)] = first
    for a in range(1, J):
        paths[a, :K - 1] = [(a - 1) * K + j for j in range(1, K)]
    lengths = np.array([L] + [K - 1] * (J - 1), dtype=np.int64)
    paths.setflags(write=False)
    lengths.setflags(write=False)
    return paths, lengths


def subtrial_of(cell: np.ndarray, J: int, K: int) -> np.ndarray:
    """The subtrial (0 first, a row subtrial's 1-based level of A) a flat cell belongs to."""
    a, b = cell // K, cell % K
    return np.where((b == 0) | (a == J - 1), 0, a + 1)


def path_position(cell: np.ndarray, sub: np.ndarray, J: int, K: int) -> np.ndarray:
    """Position of ``cell`` on the path of subtrial ``sub``."""
    a, b = cell // K, cell % K
    return np.where(sub == 0, np.where(b == 0, a, J - 1 + b), b - 1)


def _path_counts(n, y, sub, J, K):
    paths, lengths = subtrial_paths(J, K)
    P = paths[sub]
    B = n.shape[0]
    nf, yf = n.reshape(B, J * K), y.reshape(B, J * K)
    safe = np.maximum(P, 0)
    inside = P >= 0
    return (np.where(inside, np.take_along_axis(nf, safe, 1), 0), np.where(inside, np.take_along_axis(yf, safe, 1), 0),
            P, lengths[sub])


@dataclass(frozen=True)
class SubtrialStep:
    """``status`` (CONTINUE, SUB_END, STOP_ELIMINATE, STOP_EXTRA), ``next_cell`` (-1 unless CONTINUE), the
    decision word's code (-1 de-escalate, 0 stay, 1 escalate) and ``ended`` why a subtrial ended (END_*)."""

    status: np.ndarray
    next_cell: np.ndarray
    move: np.ndarray
    ended: np.ndarray


def _path_flags(eliminated, P):
    """(B, L): the flags ``eliminated`` (B, J, K) of the cells of paths ``P`` (B, L; -1 padding: False)."""
    B = P.shape[0]
    flat = np.asarray(eliminated, dtype=bool).reshape(B, -1)
    return np.take_along_axis(flat, np.maximum(P, 0), 1) & (P >= 0)


def subtrial_step(n, y, cur, used, budget, *, tables: CombTables, earlystop: int, extrasafe: bool,
                  eliminated=None) -> SubtrialStep:
    """The decision inside the current subtrial after its latest cohort, for B trials: counts ``n``, ``y``
    (B, J, K), current cells ``cur``, cohorts ``used`` in the subtrial and its ``budget`` of cohorts.
    ``eliminated`` (B, J, K): cells a live trial eliminated earlier (sticky elimination: they stay eliminated
    whatever the data say now; they differ from the data's only after an eliminated cell was treated again)."""
    B, J, K = n.shape
    rows = np.arange(B)
    sub = subtrial_of(cur, J, K)
    pos = path_position(cur, sub, J, K)
    np_, yp, P, length = _path_counts(n, y, sub, J, K)
    L = P.shape[1]
    hit = (yp >= tables.eliminate_ge[np_]) & (P >= 0)
    if eliminated is not None:
        hit |= _path_flags(eliminated, P)
    elim_pos = np.where(hit.any(axis=1), hit.argmax(axis=1), L)
    nd, yd = np_[rows, pos], yp[rows, pos]
    esc = yd <= tables.escalate_le[nd]
    de = (yd >= tables.deescalate_ge[nd]) | (pos >= elim_pos)
    up = esc & ~de & (pos + 1 < length) & (pos + 1 < elim_pos)
    down = de & (pos > 0)
    new = np.where(up, pos + 1, np.where(down, pos - 1, pos))
    move = np.where(up, 1, np.where(down, -1, 0))
    n_new = np_[rows, new]
    ended = np.where(elim_pos == 0, END_TOXIC, np.where(used >= budget, END_SIZE,
                                                        np.where(n_new >= earlystop, END_EARLYSTOP, 0)))
    status = np.where(ended > 0, SUB_END, CONTINUE)
    first = sub == 0
    if extrasafe:
        status = np.where(first & (y[:, 0, 0] >= tables.stop_lowest_ge[n[:, 0, 0]]), STOP_EXTRA, status)
    status = np.where(first & (elim_pos == 0), STOP_ELIMINATE, status)
    next_cell = np.where(status == CONTINUE, P[rows, new], -1)
    return SubtrialStep(status, next_cell, move, np.where(status == SUB_END, ended, 0))


@dataclass(frozen=True)
class NextSubtrial:
    """After a subtrial of B trials: its MTD (flat cell, -1 none), the next subtrial (-1: the trial ends), its
    starting cell (-1) and the lowest level of A (0-based) eliminated by the first subtrial (J: none)."""

    sub_mtd: np.ndarray
    next_sub: np.ndarray
    start: np.ndarray
    rows_eliminated_from: np.ndarray


def after_subtrial(n, y, sub, *, tables: CombTables, rule: SelectionRule, eliminated=None) -> NextSubtrial:
    """The subtrial MTD and the next subtrial after subtrial ``sub`` (B,) of B trials with counts ``n``, ``y``.
    ``eliminated`` (B, J, K): cells a live trial eliminated earlier (sticky), never its MTD: the subtrial's path
    is selected on up to its first such cell (single-agent selection drops eliminated doses)."""
    B, J, K = n.shape
    rows = np.arange(B)
    np_, yp, P, length = _path_counts(n, y, sub, J, K)
    L = P.shape[1]
    pad = np.arange(L)[None, :] >= length[:, None]
    if eliminated is not None:
        pad |= np.logical_or.accumulate(_path_flags(eliminated, P), axis=1)
    m = select_mtd_batch(np.where(pad, 0, np_), np.where(pad, 0, yp), rule)
    cell = np.where(m >= 0, P[rows, np.maximum(m, 0)], -1)
    a, b = cell // K, cell % K
    first = sub == 0
    col1 = first & (cell >= 0) & (b == 0) & (a < J - 1)
    nf, yf = n.reshape(B, J * K), y.reshape(B, J * K)
    still_escalate = col1 & (yf[rows, np.maximum(cell, 0)] <= tables.escalate_le[nf[rows, np.maximum(cell, 0)]])
    rows_elim = np.where(col1, a + 1, J)
    # the row (0-based) and column of the next subtrial's start
    row_next = np.where(first, np.where(still_escalate, a, np.where(col1, a - 1, J - 2)), sub - 2)
    col_prev = np.where(first, np.where(col1, 0, b), np.where(cell >= 0, b, 0))
    col_next = np.where(still_escalate, 1, col_prev + 1)
    ok = (row_next >= 0) & ~(first & (cell < 0))
    next_sub = np.where(ok, row_next + 1, -1)
    start = np.where(ok, row_next * K + np.minimum(col_next, K - 1), -1)
    return NextSubtrial(cell, next_sub, start, rows_elim)


def next_subtrial(design, n, y) -> dict | None:
    """The next subtrial of a waterfall trial from its counts (J x K), as ``next.subtrial``: the most recent
    subtrial with data (the row subtrial of the lowest level of A with patients beyond column 1, else the first
    subtrial) ends, its MTD is selected, and the next subtrial's combinations (``doses``, pairs) and ``start``
    are returned (None when no subtrial follows)."""
    from .simulate import _single_rule
    from .tables import comb_tables
    J, K = design.grid
    n = np.asarray(n, dtype=np.int64).reshape(1, J, K)
    y = np.asarray(y, dtype=np.int64).reshape(1, J, K)
    rows = [a for a in range(J - 1) if n[0, a, 1:].sum() > 0]
    sub = rows[0] + 1 if rows else 0
    tables = comb_tables(design, max(int(n.max()), design.max_sample_size) + 3)
    ns = after_subtrial(n, y, np.array([sub]), tables=tables, rule=_single_rule(design, tables))
    if ns.next_sub[0] < 0:
        return None
    paths, lengths = subtrial_paths(J, K)
    s2 = int(ns.next_sub[0])

    def pair(c):
        return int(c) // K + 1, int(c) % K + 1

    return {"doses": [pair(c) for c in paths[s2][:lengths[s2]]], "start": pair(ns.start[0])}
