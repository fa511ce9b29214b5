"""The decision rules of the one-MTD combination BOIN design, as one array function over many trials.

The live decision (:mod:`.decision`, a batch of one) and the simulator (:mod:`.simulate`, all trials at once)
both call :func:`decide_grid`; there is no second copy of the rules.  Cells are row-major flat indices
``a * K + b`` (0-based; rows = agent A).  After each cohort, with n, y the patients and DLTs of the current
combination (a, b), in this order:

1. ``eliminate`` -- (1, 1) is eliminated (y >= X(n) there): stop, no MTD;
2. ``extra_safety`` -- with the extra safety rule, (1, 1) has y >= S(n): stop, no MTD;
3. ``max_sample_size`` -- n_cohorts cohorts have been treated: stop and select the MTD;
4. the move.  Every combination with y >= X(n) eliminates its upper-right quadrant.
   * y <= E(n) (escalate): the candidates are (a + 1, b) and (a, b + 1) inside the grid and not eliminated; the
     move (a + 1, b) is blocked when an observed rate y/n at (a + 1, 1..b) is >= lambda_d, the move (a, b + 1)
     when one at (1..a, b + 1) is (untreated cells count as 0).  Go to the candidate with the higher score
     (:mod:`.tables`); no candidate: stay (``stay_no_candidate``);
   * y >= D(n) (de-escalate; always so at an eliminated combination): the candidates are (a - 1, b) and
     (a, b - 1) inside the grid and not eliminated; the higher score; at (1, 1) stay (``stay_lowest``);
   * otherwise stay.
   **Ties** (equal scores -- in practice two candidates with the same data, e.g. both untreated) are broken
   deterministically towards the **lower level of agent A**: escalate agent B, de-escalate agent A (the reference
   draws a uniform number).  The record says so (``tie_break``);
5. ``n_earlystop`` -- the decision is to stay and the current combination has n >= n_earlystop: stop and
   select the MTD.

Elimination is **sticky** in a live trial: :func:`decide_grid` takes the cells eliminated earlier in the trial
(``eliminated``, each cohort's data when it was treated) and counts them as eliminated whatever the data say now
(they differ only when an eliminated combination was treated again, a deviation); the current combination, when
eliminated but not by its own data, de-escalates.  In a simulation an eliminated combination is never treated,
so these are the data's own eliminations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .tables import CombTables

__all__ = [
    "RULES",
    "SAFETY_STOPS",
    "SELECT_STOPS",
    "TIE_BREAK_RULE",
    "CellMasks",
    "GridDecision",
    "cell_masks",
    "decide_cells",
    "decide_grid",
    "quadrant_eliminated",
]

ESCALATE, DEESCALATE, STAY, STAY_NO_CANDIDATE, STAY_LOWEST, ELIMINATE_CURRENT = 0, 1, 2, 3, 4, 5
STOP_ELIMINATE, STOP_EXTRA, STOP_MAX, STOP_EARLYSTOP = 10, 11, 12, 13
#: rule code -> (decision word, rule name)
RULES = {ESCALATE: ("escalate", "escalate"), DEESCALATE: ("de-escalate", "deescalate"), STAY: ("stay", "stay"),
         STAY_NO_CANDIDATE: ("stay", "stay_no_candidate"), STAY_LOWEST: ("stay", "stay_lowest"),
         ELIMINATE_CURRENT: ("de-escalate", "eliminate"), STOP_ELIMINATE: ("stop", "eliminate"),
         STOP_EXTRA: ("stop", "extra_safety"), STOP_MAX: ("stop", "max_sample_size"),
         STOP_EARLYSTOP: ("stop", "n_earlystop")}
SAFETY_STOPS = (STOP_ELIMINATE, STOP_EXTRA)
SELECT_STOPS = (STOP_MAX, STOP_EARLYSTOP)
TIE_BREAK_RULE = "equal scores: the candidate with the lower level of agent A"


@dataclass(frozen=True)
class GridDecision:
    """The decisions of B trials: ``next_cell`` (-1 for a stop), ``code`` (a key of :data:`RULES`), the two
    candidates (``candidates`` (B, 2) cells, -1 outside the grid; ``allowed`` (B, 2); ``scores`` (B, 2)) and
    whether their scores tied (``tie``)."""

    next_cell: np.ndarray
    code: np.ndarray
    candidates: np.ndarray
    allowed: np.ndarray
    scores: np.ndarray
    tie: np.ndarray
    eliminated: np.ndarray


def quadrant_eliminated(n: np.ndarray, y: np.ndarray, eliminate_ge: np.ndarray) -> np.ndarray:
    """(B, J, K): cells in the upper-right quadrant of a cell with y >= X(n)."""
    hit = y >= eliminate_ge[n]
    return np.logical_or.accumulate(np.logical_or.accumulate(hit, axis=1), axis=2)


@dataclass(frozen=True)
class CellMasks:
    """Bit masks (``uint64``; cell c = bit c, row-major, at most 64 cells) of a J x K grid, indexed by cell with
    one extra last entry 0 (so that cell -1, "outside the grid", has the empty mask): ``bit`` (the cell itself),
    ``lower_left`` (the cells with no more of either agent: a cell is in a quadrant eliminated by one of them),
    ``row_left`` (same row, columns 1..b) and ``col_below`` (same column, rows 1..a)."""

    bit: np.ndarray
    lower_left: np.ndarray
    row_left: np.ndarray
    col_below: np.ndarray


@lru_cache(maxsize=64)
def cell_masks(J: int, K: int) -> CellMasks:
    a, b = np.divmod(np.arange(J * K), K)
    bit = np.append(np.left_shift(np.uint64(1), np.arange(J * K, dtype=np.uint64)), np.uint64(0))

    def mask(rel):
        m = [np.bitwise_or.reduce(bit[:-1][rel(c)]) for c in range(J * K)] + [0]
        return np.array(m, dtype=np.uint64)

    return CellMasks(bit, mask(lambda c: (a <= a[c]) & (b <= b[c])), mask(lambda c: (a == a[c]) & (b <= b[c])),
                     mask(lambda c: (b == b[c]) & (a <= a[c])))


def grid_bits(flags: np.ndarray, masks: CellMasks) -> np.ndarray:
    """(B,) bit masks of the flagged cells of (B, J * K) flags."""
    return np.bitwise_or.reduce(np.where(flags, masks.bit[:-1], np.uint64(0)), axis=1)


@dataclass(frozen=True)
class CellDecision:
    """:func:`decide_cells`' decisions: ``next_cell``, ``code``, candidates ``c1`` (rows), ``c2`` (columns),
    ``ok1``, ``ok2`` (open), ``s1``, ``s2`` (scores), ``tie``."""

    next_cell: np.ndarray
    code: np.ndarray
    c1: np.ndarray
    c2: np.ndarray
    ok1: np.ndarray
    ok2: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    tie: np.ndarray


@lru_cache(maxsize=64)
def _moves(J: int, K: int, blocking: bool):
    """Per (direction, cell) -- direction 0 escalate, 1 de-escalate, 2 stay -- the two candidate cells
    ((a + 1, b), (a, b + 1) up; (a - 1, b), (a, b - 1) down; -1 outside the grid or when staying) and the masks
    that close them: escalation candidates are closed by a hit in their lower-left (eliminated) or, with the
    blocking rule, a high rate in the row to the left of (a + 1, b) or in the column below (a, b + 1)."""
    m = cell_masks(J, K)
    a, b = np.divmod(np.arange(J * K), K)
    cand = np.full((2, 3, J * K), -1, dtype=np.int64)
    hit_close = np.zeros((2, 3, J * K), dtype=np.uint64)
    high_close = np.zeros((2, 3, J * K), dtype=np.uint64)
    for step, d in ((1, 0), (-1, 1)):
        ra, cb = a + step, b + step
        cand[0, d] = np.where((ra >= 0) & (ra < J), ra * K + b, -1)
        cand[1, d] = np.where((cb >= 0) & (cb < K), a * K + cb, -1)
    for i, rel in ((0, m.row_left), (1, m.col_below)):
        hit_close[i, 0] = m.lower_left[cand[i, 0]]
        hit_close[i, 1] = m.lower_left[cand[i, 1]]        # an eliminated cell below: only after a deviation
        if blocking:
            high_close[i, 0] = rel[cand[i, 0]]
    return cand, hit_close, high_close


#: the rule code of a non-stopping decision, by direction (0 escalate, 1 de-escalate, 2 stay), whether the
#: trial moves and whether the current combination is eliminated: index 4 * direction + 2 * moving + eliminated
_MOVE_CODE = np.array([STAY_NO_CANDIDATE, STAY_NO_CANDIDATE, ESCALATE, ESCALATE,
                       STAY_LOWEST, STAY_LOWEST, DEESCALATE, ELIMINATE_CURRENT,
                       STAY, STAY, STAY, STAY])


def decide_cells(nf: np.ndarray, yf: np.ndarray, cur: np.ndarray, hit: np.ndarray, high: np.ndarray, full, *,
                 grid: tuple[int, int], tables: CombTables, earlystop: int, extrasafe: bool, blocking: bool = True,
                 tie_uniform=None, down=None) -> CellDecision:
    """The rules (module docstring) on flat counts ``nf``, ``yf`` (B, J * K) with current cells ``cur`` (B,),
    the bit masks (:func:`cell_masks`) of the cells with y >= X(n) (``hit``) and of the cells with an observed
    rate >= lambda_d (``high``), and ``full`` (B,) flags of the trials whose maximum sample size is reached.
    The simulator keeps ``hit`` and ``high`` up to date cell by cell; :func:`decide_grid` computes them.
    ``down`` (B,) flags trials whose current cell was eliminated earlier (sticky): they de-escalate whatever its
    data say now."""
    J, K = grid
    JK = J * K
    m = cell_masks(J, K)
    cand, hit_close, high_close = _moves(J, K, blocking)
    zero = np.uint64(0)
    n_flat, y_flat = nf.ravel(), yf.ravel()
    M = tables.score.shape[1]
    score = tables.score.ravel()
    base = np.arange(nf.shape[0]) * JK
    at = base + cur
    nc = n_flat[at]
    direction = tables.direction.ravel()[nc * M + y_flat[at]]
    if down is not None:
        direction = np.where(down, 1, direction)
    where = direction * JK + cur                                        # (direction, cell), flat
    c1, c2 = cand[0].ravel()[where], cand[1].ravel()[where]
    ok1 = (c1 >= 0) & (((hit & hit_close[0].ravel()[where]) | (high & high_close[0].ravel()[where])) == zero)
    ok2 = (c2 >= 0) & (((hit & hit_close[1].ravel()[where]) | (high & high_close[1].ravel()[where])) == zero)
    i1, i2 = base + c1, base + c2                                       # c = -1: the previous trial's last cell
    s1 = np.where(ok1, score[n_flat[i1] * M + y_flat[i1]], 0.0)
    s2 = np.where(ok2, score[n_flat[i2] * M + y_flat[i2]], 0.0)
    tie = ok1 & ok2 & (s1 == s2)
    # on a tie: the lower level of A -- (a, b+1) when escalating, (a-1, b) when de-escalating
    if tie_uniform is None:
        first = ok1 & (~ok2 | (s1 > s2) | (tie & (direction != 0)))
    else:
        first = ok1 & (~ok2 | (s1 > s2) | (tie & (tie_uniform < 0.5)))
    move = np.where(first, c1, np.where(ok2, c2, -1))
    moving = move >= 0
    elim_cur = (hit & m.lower_left[cur]) != zero
    code = _MOVE_CODE[4 * direction + 2 * moving + elim_cur]
    code[~moving & (nc >= earlystop)] = STOP_EARLYSTOP
    if np.any(full):
        code = np.where(full, STOP_MAX, code)
    if extrasafe:
        code[yf[:, 0] >= tables.stop_lowest_ge[nf[:, 0]]] = STOP_EXTRA
    code[(hit & m.bit[0]) != zero] = STOP_ELIMINATE
    stop = code >= STOP_ELIMINATE
    nxt = np.where(stop, -1, np.where(moving, move, cur))
    tie &= moving & ~stop
    return CellDecision(nxt, code, c1, c2, ok1, ok2, s1, s2, tie)


def decide_grid(n: np.ndarray, y: np.ndarray, cur: np.ndarray, full: np.ndarray, *, tables: CombTables,
                earlystop: int, extrasafe: bool, blocking: bool = True, tie_uniform=None,
                eliminated=None) -> GridDecision:
    """The decisions after the latest cohort of B trials with counts ``n``, ``y`` (B, J, K) at current cells
    ``cur`` (B,); ``full`` (B,) flags trials whose maximum sample size is reached (see the module docstring).

    ``blocking=False`` and ``tie_uniform`` (B uniforms: a tie goes to the first candidate when below 0.5) give
    the rules of the reference's *simulator* (``get.oc.comb`` has no blocking rule and draws ties at random);
    they exist only to check the simulator against it (tests/reference/test_comb_boin.py).

    ``eliminated`` (B, J, K): the cells eliminated earlier in the live trial (sticky elimination, module
    docstring); they stay eliminated whatever the data say now, and so does their upper-right quadrant."""
    B, J, K = n.shape
    nf, yf = n.reshape(B, J * K), y.reshape(B, J * K)
    m = cell_masks(J, K)
    cur = np.asarray(cur)
    flags = tables.hit[nf, yf]
    down = None
    elim = quadrant_eliminated(n, y, tables.eliminate_ge)
    if eliminated is not None:
        sticky = np.asarray(eliminated, dtype=bool).reshape(B, J * K)
        flags = flags | sticky
        elim = elim | sticky.reshape(B, J, K)
        elim = np.logical_or.accumulate(np.logical_or.accumulate(elim, axis=1), axis=2)
        # an eliminated current cell whose own data do not eliminate it (eliminated earlier, or by another cell
        # after a deviation) de-escalates; in a simulation the current cell is eliminated only by its own data
        rows = np.arange(B)
        down = elim.reshape(B, J * K)[rows, cur] & ~tables.hit[nf[rows, cur], yf[rows, cur]]
    hit = grid_bits(flags, m)
    high = grid_bits(tables.high[nf, yf], m)
    c = decide_cells(nf, yf, cur, hit, high, np.asarray(full), grid=(J, K), tables=tables,
                     earlystop=earlystop, extrasafe=extrasafe, blocking=blocking, tie_uniform=tie_uniform, down=down)
    return GridDecision(c.next_cell, c.code, np.stack([c.c1, c.c2], axis=1), np.stack([c.ok1, c.ok2], axis=1),
                        np.stack([c.s1, c.s2], axis=1), c.tie, elim)
