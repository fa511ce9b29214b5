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
     (a, b - 1) inside the grid; the higher score; at (1, 1) stay (``stay_lowest``);
   * otherwise stay.
   **Ties** (equal scores -- in practice two candidates with the same data, e.g. both untreated) are broken
   deterministically towards the **lower level of agent A**: escalate agent B, de-escalate agent A (the reference
   draws a uniform number).  The record says so (``tie_break``);
5. ``n_earlystop`` -- the decision is to stay and the current combination has n >= n_earlystop: stop and
   select the MTD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tables import CombTables

__all__ = [
    "RULES",
    "SAFETY_STOPS",
    "SELECT_STOPS",
    "TIE_BREAK_RULE",
    "GridDecision",
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


def decide_grid(n: np.ndarray, y: np.ndarray, cur: np.ndarray, full: np.ndarray, *, tables: CombTables,
                earlystop: int, extrasafe: bool, blocking: bool = True, tie_uniform=None) -> GridDecision:
    """The decisions after the latest cohort of B trials with counts ``n``, ``y`` (B, J, K) at current cells
    ``cur`` (B,); ``full`` (B,) flags trials whose maximum sample size is reached (see the module docstring).

    ``blocking=False`` and ``tie_uniform`` (B uniforms: a tie goes to the first candidate when below 0.5) give
    the rules of the reference's *simulator* (``get.oc.comb`` has no blocking rule and draws ties at random);
    they exist only to check the simulator against it (tests/reference/test_comb_boin.py)."""
    B, J, K = n.shape
    rows = np.arange(B)
    a, b = cur // K, cur % K
    nf, yf = n.reshape(B, J * K), y.reshape(B, J * K)
    nc, yc = nf[rows, cur], yf[rows, cur]
    elim = quadrant_eliminated(n, y, tables.eliminate_ge)
    with np.errstate(divide="ignore", invalid="ignore"):
        high = np.where(n > 0, y / np.maximum(n, 1), 0.0) >= tables.lambda_d
    high_left = np.logical_or.accumulate(high, axis=2)      # any at (row, 1..col)
    high_below = np.logical_or.accumulate(high, axis=1)     # any at (1..row, col)

    esc = yc <= tables.escalate_le[nc]
    de = yc >= tables.deescalate_ge[nc]
    # candidates: escalation (a+1, b), (a, b+1); de-escalation (a-1, b), (a, b-1)
    ca = np.where(esc, a + 1, a - 1)
    cb = np.where(esc, b + 1, b - 1)
    in1 = (ca >= 0) & (ca < J)
    in2 = (cb >= 0) & (cb < K)
    c1 = np.where(in1, np.clip(ca, 0, J - 1) * K + b, -1)
    c2 = np.where(in2, a * K + np.clip(cb, 0, K - 1), -1)
    e = elim.reshape(B, J * K)
    ok1, ok2 = in1.copy(), in2.copy()
    up1 = esc & in1
    up2 = esc & in2
    ok1[up1] &= ~e[rows[up1], c1[up1]]
    ok2[up2] &= ~e[rows[up2], c2[up2]]
    if blocking:
        ok1[up1] &= ~high_left[rows[up1], ca[up1], b[up1]]
        ok2[up2] &= ~high_below[rows[up2], a[up2], cb[up2]]
    s1 = np.where(ok1, tables.score[nf[rows, np.maximum(c1, 0)], yf[rows, np.maximum(c1, 0)]], 0.0)
    s2 = np.where(ok2, tables.score[nf[rows, np.maximum(c2, 0)], yf[rows, np.maximum(c2, 0)]], 0.0)
    tie = ok1 & ok2 & (s1 == s2)
    # on a tie: the lower level of A -- (a, b+1) when escalating, (a-1, b) when de-escalating
    first = ok1 & (~ok2 | (s1 > s2) | (tie & ~esc))
    if tie_uniform is not None:
        first = ok1 & (~ok2 | (s1 > s2) | (tie & (tie_uniform < 0.5)))
    move = np.where(first, c1, np.where(ok2, c2, -1))
    moving = (esc | de) & (move >= 0)

    code = np.full(B, STAY)
    code = np.where(esc & moving, ESCALATE, code)
    code = np.where(esc & ~moving, STAY_NO_CANDIDATE, code)
    code = np.where(de & moving, np.where(e[rows, cur], ELIMINATE_CURRENT, DEESCALATE), code)
    code = np.where(de & ~moving, STAY_LOWEST, code)
    nxt = np.where(moving, move, cur)
    code = np.where(~moving & (nc >= earlystop), STOP_EARLYSTOP, code)
    code = np.where(full, STOP_MAX, code)
    if extrasafe:
        code = np.where(y[:, 0, 0] >= tables.stop_lowest_ge[n[:, 0, 0]], STOP_EXTRA, code)
    code = np.where(elim[:, 0, 0], STOP_ELIMINATE, code)
    nxt = np.where(code >= STOP_ELIMINATE, -1, nxt)
    tie &= moving & (code < STOP_ELIMINATE)
    return GridDecision(nxt, code, np.stack([c1, c2], axis=1), np.stack([ok1 & (esc | de), ok2 & (esc | de)], 1),
                        np.stack([s1, s2], axis=1), tie, elim)
