"""MTD selection at the end of a combination BOIN trial (BOIN 2.7.2 ``select.mtd.comb``), for one trial or many.

1. **Elimination.**  A combination with n >= 3 patients and ``Pr(p > phi | Beta(y + 1, n - y + 1)) > cutoff_eli``
   is too toxic, and so is every combination with at least as much of both agents: its upper-right *quadrant* is
   eliminated (the rule of the trial's conduct).  With the extra safety rule everything is eliminated when (1, 1)
   has n >= 3 and ``Pr(p > phi | ...) > cutoff_eli - offset``.  When (1, 1) is eliminated there is no MTD.
2. **Estimates.**  ``(y + 0.05) / (n + 0.1)`` at every cell (untreated cells included: 0.5 with weight 0.1), made
   non-decreasing in both agents by bivariate isotonic regression (:func:`.biviso.biviso`) with weights
   ``n + 0.1``, rounded to 2 decimals (``p_est``).
3. **Choice.**  The admissible cells are the treated, non-eliminated ones (with ``bound_mtd``: also ``p_est <=
   lambda_d``).  Each admissible cell's distance to the target is ``|p_est + 1e-5 (a + b) - phi|`` (the small
   term breaks ties of the rounded estimates towards lower combinations).  One MTD: the closest admissible cell,
   the first in column-major order on exact ties.  MTD contour (``mtd_contour``): row by row from the highest
   level of agent A down to the lowest, the closest admissible cell of the row; rows without an admissible cell
   get none.  (``select.mtd.comb`` also gives no MTD to a row when the row above it picked its last column, while
   the reference's waterfall simulator -- whose design tests that row at its last column -- does not:
   ``last_column_rule=True`` reproduces the former; the design follows the latter.)
4. **Waterfall** (:func:`select_waterfall`): the eliminated cells are those the trial eliminated (each
   subtrial's path from its first too-toxic combination on, ``elimination="path"``, and the rows above a
   first-subtrial MTD in column 1), set to 1.1 *before* the fit (``get.oc.comb(mtd.contour = TRUE)``).
5. **Sticky elimination** (live trials): the cells the trial eliminated earlier -- by its data at the end of an
   earlier cohort -- are given to the selection (``also_eliminated``, ``eliminated``) and stay eliminated whatever
   the data say now (they differ only after an eliminated combination was treated again, a deviation).

**Deliberate differences from the reference** (tests/reference/test_comb_boin.py shows both):

* the reference's selection eliminates a *cross* -- in each row, the first cell that qualifies removes the rest
  of its row and the rest of its column -- while its conduct eliminates quadrants.  adcbridge uses the quadrant
  everywhere (a combination with more of both agents than a too-toxic one is too toxic); ``elimination="cross"``
  reproduces the reference for the reference tests;
* the reference stops with an error (``phat.out.noCI`` not found) when (1, 1) is eliminated or the extra safety
  rule fires; adcbridge returns no MTD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .biviso import ratio_levels, unique_rows
from .tables import comb_tables

__all__ = [
    "ELIMINATED_VALUE",
    "PRIOR",
    "TIE_BREAK",
    "UNTREATED_VALUE",
    "CombSelectionRule",
    "eliminated_cells",
    "select_comb_batch",
    "select_waterfall",
    "selection_rule",
]

PRIOR = 0.05              # Beta(0.05, 0.05) prior of the estimates
ELIMINATED_VALUE = 1.1    # estimate given to eliminated cells before the choice
UNTREATED_VALUE = 10.0    # and to untreated cells
TIE_BREAK = 1e-5          # added (a + b) * TIE_BREAK
SCALE = 20                # 1 / PRIOR: the estimates are (SCALE y + 1) / (SCALE n + 2), integers over integers


@dataclass(frozen=True)
class CombSelectionRule:
    """What the selection needs from a design, with its count tables (index n = 0..n_max)."""

    target: float
    lambda_d: float
    bound_mtd: bool
    extrasafe: bool
    eliminate_ge: np.ndarray
    stop_ge: np.ndarray


def selection_rule(design, n_max: int) -> CombSelectionRule:
    t = comb_tables(design, n_max)
    return CombSelectionRule(design.target, t.lambda_d, design.bound_mtd, design.extrasafe, t.eliminate_ge,
                             t.stop_lowest_ge)


def eliminated_cells(n: np.ndarray, y: np.ndarray, eliminate_ge: np.ndarray, shape: str = "quadrant") -> np.ndarray:
    """(B, J, K) flags of the cells eliminated by the data ``n``, ``y`` (B, J, K): each cell with
    ``y >= X(n)`` eliminates its upper-right quadrant (``shape="quadrant"``), or -- the reference's selection --
    the first such cell of each row eliminates the rest of its row and of its column (``shape="cross"``), or --
    the waterfall's single-agent subtrials -- the first such cell of each subtrial's path eliminates the rest of
    that path (``shape="path"``; :func:`.waterfall.subtrial_paths`)."""
    hit = y >= eliminate_ge[n]
    if shape == "quadrant":
        return np.logical_or.accumulate(np.logical_or.accumulate(hit, axis=1), axis=2)
    if shape == "path":
        from .waterfall import subtrial_paths
        B, J, K = n.shape
        paths, _ = subtrial_paths(J, K)
        flat = np.concatenate([hit.reshape(B, J * K), np.zeros((B, 1), dtype=bool)], axis=1)
        on_path = np.logical_or.accumulate(flat[:, paths], axis=2)          # (B, path, position); -1 -> pad
        out = np.zeros((B, J * K + 1), dtype=bool)
        for s in range(J):
            out[:, paths[s]] |= on_path[:, s]
        return out[:, :J * K].reshape(B, J, K)
    if shape != "cross":
        raise ValueError(f"elimination shape must be 'quadrant', 'cross' or 'path', got {shape!r}")
    _B, J, K = n.shape
    any_hit = hit.any(axis=2)
    first = np.where(any_hit, hit.argmax(axis=2), K)                     # (B, J)
    cols, rows = np.arange(K), np.arange(J)
    elim = cols[None, None, :] >= first[:, :, None]                      # rest of the row
    for i in range(J):                                                   # rest of the column, from row i up
        below = (rows[None, :, None] >= i) & (cols[None, None, :] == first[:, i][:, None, None])
        elim |= below
    return elim


def round2(x: np.ndarray) -> np.ndarray:
    """Rounded to 2 decimals (as R's ``round(x, 2)``)."""
    return np.round(x, 2)


def estimates(n: np.ndarray, y: np.ndarray, *, distinct: bool = False, fixed=None) -> np.ndarray:
    """``p_est``: the rounded bivariate isotonic estimates (B, J, K); trials with the same counts (many, in a
    simulation) are fitted once.  The fit's value on each of its level sets is the pooled estimate
    ``sum(y + 0.05) / sum(n + 0.1)`` of the set, computed exactly as ``(20 Y + m) / (20 N + 2 m)`` from the
    integer totals Y, N of its m cells (one correctly rounded division), and the level sets are found from
    integer sums (:func:`.biviso.ratio_levels`): a value such as 0.125 is exactly 0.125 and rounds the same way
    whatever the summation order or the other trials of the batch.  ``distinct=True``: the caller has
    already grouped identical trials.  ``fixed`` (B, J, K): cells whose estimate is set to
    :data:`ELIMINATED_VALUE` (1.1) *before* the fit (the waterfall's eliminated cells), with the same weight."""
    B, J, K = n.shape
    if distinct:
        first = inverse = np.arange(B)
    else:
        key = [n.reshape(B, -1), y.reshape(B, -1)] + ([] if fixed is None else [fixed.reshape(B, -1)])
        first, inverse = unique_rows(np.concatenate(key, axis=1))
    nu, yu = n[first].reshape(-1, J * K), y[first].reshape(-1, J * K)
    num, den = SCALE * yu + 1, SCALE * nu + 2                                      # (y + 0.05) / (n + 0.1), x 20
    if fixed is not None:                                                           # 1.1 = 11 den / 10 den
        fx = np.asarray(fixed, dtype=bool)[first].reshape(-1, J * K)
        num, den = np.where(fx, 11 * den, 10 * num), 10 * den
    level = ratio_levels(num.reshape(-1, J, K), den.reshape(-1, J, K)).reshape(-1, J * K)
    U = nu.shape[0]
    at = (level + np.arange(U)[:, None] * (J * K)).ravel()                         # (grid, level), flat
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.bincount(at, num.ravel(), U * J * K) / np.bincount(at, den.ravel(), U * J * K)
    return round2(value[at].reshape(U, J * K))[inverse].reshape(B, J, K) if U else np.zeros((B, J, K))


def select_comb_batch(n, y, rule: CombSelectionRule, *, contour: bool = False, elimination: str = "quadrant",
                      also_eliminated=None, last_column_rule: bool = False, eliminated_before_fit: bool = False):
    """Select from the counts ``n``, ``y`` (B, J, K) of B trials (see the module docstring).

    Returns ``(mtd, p_est, eliminated)``: ``mtd`` is (B,) row-major flat cell indices (-1: none) for one MTD, or
    (B, J) column indices per row (-1: none) for a contour; ``also_eliminated`` (B, J, K) adds cells the design
    eliminated besides the data (the waterfall's rows above a first-subtrial MTD); ``last_column_rule`` gives
    no MTD to a row when the row above picked its last column (``select.mtd.comb``'s contour rule).  Trials
    with the same data are selected once (many, in a simulation)."""
    n = np.asarray(n, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    B = n.shape[0]
    key = [n.reshape(B, -1), y.reshape(B, -1)]
    if also_eliminated is not None:
        also_eliminated = np.asarray(also_eliminated, dtype=bool)
        key.append(also_eliminated.reshape(B, -1))
    first, inverse = unique_rows(np.concatenate(key, axis=1))
    mtd, p_est, elim = _select_distinct(n[first], y[first], rule, contour, elimination,
                                        None if also_eliminated is None else also_eliminated[first],
                                        last_column_rule, eliminated_before_fit)
    return mtd[inverse], p_est[inverse], elim[inverse]


def select_waterfall(n, y, rule: CombSelectionRule, rows_eliminated_from=None, eliminated=None):
    """The waterfall's MTD contour from the counts ``n``, ``y`` (B, J, K) of B trials (``get.oc.comb(mtd.contour
    = TRUE)``'s final selection, SPEC 1.7): the eliminated combinations are those the trial eliminated -- in each
    subtrial, the path from its first combination with y >= X(n) on (single-agent BOIN elimination), and the
    levels of agent A from ``rows_eliminated_from`` (B,) on (0-based; J or None: none) after a first-subtrial MTD
    in column 1 -- and are set to 1.1 *before* the bivariate isotonic regression; then one MTD per row.  Returns
    ``(mtd, p_est, eliminated)`` as :func:`select_comb_batch` (contour).  ``eliminated`` (B, J, K): cells a live
    trial eliminated earlier (sticky elimination), eliminated whatever the data say now."""
    n = np.asarray(n, dtype=np.int64)
    B, J, K = n.shape
    rows = np.full(B, J) if rows_eliminated_from is None else np.broadcast_to(rows_eliminated_from, (B,))
    above = np.broadcast_to(np.arange(J)[None, :, None] >= np.asarray(rows)[:, None, None], (B, J, K))
    if eliminated is not None:
        above = above | np.asarray(eliminated, dtype=bool).reshape(B, J, K)
    return select_comb_batch(n, y, rule, contour=True, elimination="path", also_eliminated=above,
                             eliminated_before_fit=True)


def _select_distinct(n, y, rule, contour, elimination, also_eliminated, last_column_rule, before_fit):
    B, J, K = n.shape
    elim = eliminated_cells(n, y, rule.eliminate_ge, elimination)
    if also_eliminated is not None:
        elim = elim | also_eliminated
    if rule.extrasafe:
        elim |= (y[:, 0, 0] >= rule.stop_ge[n[:, 0, 0]])[:, None, None]
    p_est = estimates(n, y, distinct=True, fixed=elim if before_fit else None)
    ab = np.add.outer(np.arange(1, J + 1), np.arange(1, K + 1))
    value = np.where(elim, ELIMINATED_VALUE, p_est) + TIE_BREAK * ab
    value = np.where(n == 0, UNTREATED_VALUE, value)
    ok = (n > 0) & ~elim & ~elim[:, :1, :1]
    if rule.bound_mtd:
        ok &= value <= rule.lambda_d
    dist = np.where(ok, np.abs(value - rule.target), np.inf)
    if not contour:
        flat = dist.transpose(0, 2, 1).reshape(B, J * K)                 # column-major: first on ties
        k = flat.argmin(axis=1)
        mtd = (k % J) * K + k // J
        return np.where(np.isfinite(flat.min(axis=1)), mtd, -1), p_est, elim
    mtd = np.full((B, J), -1, dtype=np.int64)
    above_last = np.zeros(B, dtype=bool)
    for i in range(J - 1, -1, -1):
        row = dist[:, i, :]
        pick = np.where(np.isfinite(row.min(axis=1)) & ~above_last, row.argmin(axis=1), -1)
        mtd[:, i] = pick
        above_last = (pick == K - 1) & last_column_rule
    return mtd, p_est, elim
