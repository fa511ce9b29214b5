"""Monte Carlo simulation of combination BOIN trials (BOIN 2.7.2 ``get.oc.comb``), all trials of a chunk at once.

Each chunk of :data:`CHUNK` trials (a fixed cut of ``n_trials``) draws its uniforms from its own child of
``numpy.random.SeedSequence(seed)``, so a seed gives the same results bit for bit.  Every cohort draws
``cohort_size`` uniforms per trial of the chunk (stopped trials too), and a patient has a DLT when the uniform is
below the true probability of the combination.  The rules are those of the live decision, in the same array
functions: :func:`.kernel.decide_cells` (one MTD) and :mod:`.waterfall` (MTD contour); the MTDs are selected by
:func:`.selection.select_comb_batch`.

With ``log=True`` the simulator also returns, per trial, every cohort (cell, DLTs) and what was decided after it
(the conformance cases of :mod:`.logs`).
"""

from __future__ import annotations

import numpy as np

from ..boin.selection import SelectionRule
from .kernel import (
    SELECT_STOPS,
    STOP_EARLYSTOP,
    STOP_ELIMINATE,
    cell_masks,
    decide_cells,
)
from .selection import select_comb_batch, select_waterfall, selection_rule
from .tables import comb_tables
from .waterfall import CONTINUE, SUB_END, after_subtrial, subtrial_step

__all__ = ["CHUNK", "TrialRuns", "check_p_true", "run_trials", "simulate_comb"]

CHUNK = 10_000
#: end codes of a trial (besides the kernel's safety stops)
END_SELECT, END_SAFETY = 1, 2


def check_p_true(design, p_true) -> np.ndarray:
    """``p_true`` as a (J, K) array of probabilities (rows = agent A); text ``"0.05,0.1;0.1,0.2"`` is read
    row by row."""
    J, K = design.grid
    if isinstance(p_true, str):
        try:
            p_true = [[float(v) for v in row.split(",")] for row in p_true.strip().split(";")]
        except ValueError:
            raise ValueError(f"The 'p_true' argument of comb-boin must be numbers, rows separated by ';' and "
                             f"values by ','. Got {p_true!r}.") from None
    try:
        p = np.asarray(p_true, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"The 'p_true' argument of comb-boin must be a {J} x {K} grid of probabilities (a list "
                         f"of {J} rows of {K}). Got {p_true!r}.") from None
    if p.shape != (J, K):
        raise ValueError(f"The 'p_true' argument of comb-boin must be a {J} x {K} grid (rows = the {J} levels of "
                         f"agent A, columns = the {K} levels of agent B), as the design's grid. Got shape "
                         f"{'x'.join(map(str, p.shape)) or 'scalar'}.")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"The 'p_true' argument of comb-boin must be probabilities in [0, 1]. Got {p.tolist()}.")
    return p


class TrialRuns:
    """The end of B simulated trials: counts ``n``, ``y`` (B, J, K), ``end`` (END_SELECT / END_SAFETY),
    ``selected`` (B, J, K) flags of the selected MTD cells, ``early`` flags the stops by n_earlystop, and the
    cohort ``log`` when asked for."""

    def __init__(self, n, y, end, selected, early, log=None):
        self.n, self.y, self.end, self.selected, self.early, self.log = n, y, end, selected, early, log


def _single_rule(design, tables) -> SelectionRule:
    return SelectionRule(design.target, tables.lambda_d, design.bound_mtd, False, tables.eliminate_ge,
                         tables.stop_lowest_ge)


def _dlts(rng, p_cell: np.ndarray, size: int, active: np.ndarray) -> np.ndarray:
    u = rng.random((p_cell.size, size))
    d = (u[:, 0] < p_cell).astype(np.int64)
    for k in range(1, size):                        # column by column: faster than a sum over a short axis
        d += u[:, k] < p_cell
    return np.where(active, d, 0)


def titration_step(cur: np.ndarray, step, J: int, K: int, u=None) -> np.ndarray:
    """The next combination of the accelerated titration from ``cur`` (flat cells, not the top one) after its
    ``step``-th patient (0-based): the two agents in turn -- agent B after even steps, agent A after odd ones --
    while both can go up, else the one that can (a zigzag up the diagonal of the grid, deterministic so that a
    live trial can follow it).  ``u`` (uniforms) draws the direction at random when both are open, as the
    reference does (below 0.5: agent A)."""
    a, b = np.divmod(cur, K)
    both = (b < K - 1) & (a < J - 1)
    choose_b = (u >= 0.5) if u is not None else (np.asarray(step) % 2 == 0)
    up_b = (b < K - 1) & (~both | choose_b)
    return np.where(up_b, cur + 1, cur + K)


#: log codes of the titration's steps (the kernel's codes are >= 0)
TITRATION_STEP, TITRATION_FILL = -1, -2


def _titration(design, p_flat, rng, nf, yf, cur, reference, log=None):
    """The accelerated titration of every trial (the one-MTD design, ``uses_titration``): one patient at a time
    from the start combination (:func:`titration_step`) until a DLT or the top combination; each step draws one
    uniform per trial for the outcome (and, ``reference``, one for the direction), whether or not the trial is
    still titrating.  Returns the combination where each trial's titration ended.  ``log``: each step's
    (trials, cell, DLT, next cell, TITRATION_STEP or TITRATION_FILL, 1) is appended."""
    J, K = design.grid
    B = cur.size
    n_flat, y_flat = nf.ravel(), yf.ravel()
    base = np.arange(B) * J * K
    going = np.ones(B, dtype=bool)
    top = J * K - 1
    step = 0
    while going.any():
        dlt = rng.random(B) < p_flat[cur]
        u = rng.random(B) if reference else None
        n_flat[base + cur] += going
        y_flat[base + cur] += going & dlt
        live = np.flatnonzero(going)
        before = cur[live]
        going &= ~dlt & (cur != top)
        cur = np.where(going, titration_step(cur, step, J, K, u), cur)
        if log is not None:
            log.append((live, before, dlt[live].astype(np.int64), cur[live],
                        np.where(going[live], TITRATION_STEP, TITRATION_FILL), 1))
        step += 1
    return cur


def _run_standard(design, p_flat, B, rng, tables, log, reference=False):
    """The one-MTD design: all B trials advance together, cohort by cohort; stopped trials keep drawing their
    uniforms (so a trial's stream does not depend on the others) but no longer change.  Each trial carries the
    bit masks of its cells with y >= X(n) and with an observed rate >= lambda_d, updated at the treated cell
    only (the only cell whose counts change), for :func:`.kernel.decide_cells`."""
    J, K = design.grid
    JK = J * K
    cs = design.cohort_size
    masks = cell_masks(J, K)
    M = tables.score.shape[1]
    hit_ny, high_ny = tables.hit.ravel(), tables.high.ravel()
    nf = np.zeros((B, JK), dtype=np.int64)
    yf = np.zeros((B, JK), dtype=np.int64)
    n_flat, y_flat = nf.ravel(), yf.ravel()
    hit = np.zeros(B, dtype=np.uint64)
    high = np.zeros(B, dtype=np.uint64)
    cur = np.full(B, (design.start_dose[0] - 1) * K + design.start_dose[1] - 1)
    active = np.ones(B, dtype=bool)
    code = np.zeros(B, dtype=np.int64)
    base = np.arange(B) * JK
    if design.uses_titration:
        # the titration leaves 0/1 everywhere but at its last combination (updated below with its cohort)
        cur = _titration(design, p_flat, rng, nf, yf, cur, reference, log)
    for step in range(design.n_cohorts):
        size = cs - 1 if design.uses_titration and step == 0 else cs     # titration: cohort 1 is completed
        d = _dlts(rng, p_flat[cur], size, active)
        at = base + cur
        n_flat[at] += size * active
        y_flat[at] += d
        ny = n_flat[at] * M + y_flat[at]
        bit = masks.bit[cur]
        hit = np.where(hit_ny[ny], hit | bit, hit & ~bit)
        high = np.where(high_ny[ny], high | bit, high & ~bit)
        opts = {"blocking": False, "tie_uniform": rng.random(B)} if reference else {}
        g = decide_cells(nf, yf, cur, hit, high, step + 1 >= design.n_cohorts, grid=(J, K), tables=tables,
                         earlystop=design.earlystop, extrasafe=design.extrasafe, **opts)
        if log is not None:
            live = np.flatnonzero(active)
            log.append((live, cur[live].copy(), d[live], g.next_cell[live], g.code[live], size))
        stop = active & (g.code >= STOP_ELIMINATE)
        code[stop] = g.code[stop]
        active &= ~stop
        cur = np.where(active, g.next_cell, cur)
        if not active.any():
            break
    n, y = nf.reshape(B, J, K), yf.reshape(B, J, K)
    end = np.where(np.isin(code, SELECT_STOPS), END_SELECT, END_SAFETY)
    selected = np.zeros((B, JK), dtype=bool)
    pick = end == END_SELECT
    if pick.any():
        mtd, _, _ = select_comb_batch(n[pick], y[pick], selection_rule(design, tables.n_max))
        sel = np.zeros((int(pick.sum()), JK), dtype=bool)
        ok = mtd >= 0
        sel[np.flatnonzero(ok), mtd[ok]] = True
        selected[pick] = sel
    return TrialRuns(n, y, end, selected.reshape(B, J, K), code == STOP_EARLYSTOP, log)


def _run_waterfall(design, p_flat, B, rng, tables, log):
    J, K = design.grid
    cs = design.cohort_size
    budgets = np.array(design.cohorts_per_subtrial)
    rule = _single_rule(design, tables)
    n = np.zeros((B, J, K), dtype=np.int64)
    y = np.zeros((B, J, K), dtype=np.int64)
    nf, yf = n.reshape(B, J * K), y.reshape(B, J * K)
    cur = np.zeros(B, dtype=np.int64)
    sub = np.zeros(B, dtype=np.int64)
    used = np.zeros(B, dtype=np.int64)
    order = np.zeros(B, dtype=np.int64)
    rows_elim = np.full(B, J)
    active = np.ones(B, dtype=bool)
    end = np.full(B, END_SELECT)
    rows = np.arange(B)
    for _ in range(int(budgets.sum())):
        d = _dlts(rng, p_flat[cur], cs, active)
        live = rows[active]
        nf[live, cur[live]] += cs
        yf[live, cur[live]] += d[live]
        used[live] += 1
        st = subtrial_step(n[live], y[live], cur[live], used[live], budgets[order[live]], tables=tables,
                           earlystop=design.earlystop, extrasafe=design.extrasafe)
        nxt = st.next_cell.copy()
        status = st.status.copy()
        fin = st.status == SUB_END
        if fin.any():
            who = live[fin]
            ns = after_subtrial(n[who], y[who], sub[who], tables=tables, rule=rule)
            rows_elim[who] = np.where(sub[who] == 0, ns.rows_eliminated_from, rows_elim[who])
            order[who] += 1
            go = (ns.next_sub >= 0) & (order[who] < budgets.size)
            sub[who[go]] = ns.next_sub[go]
            used[who[go]] = 0
            nxt[fin] = np.where(go, ns.start, -1)
            status[fin] = np.where(go, CONTINUE, SUB_END)
        if log is not None:
            log.append((live, cur[live].copy(), d[live], nxt, status, cs))
        stop = status != CONTINUE
        end[live[stop & (status != SUB_END)]] = END_SAFETY
        active[live[stop]] = False
        cur[live[~stop]] = nxt[~stop]
        if not active.any():
            break
    selected = np.zeros((B, J, K), dtype=bool)
    pick = end == END_SELECT
    if pick.any():
        mtd, _, _ = select_waterfall(n[pick], y[pick], selection_rule(design, tables.n_max), rows_elim[pick])
        sel = np.zeros((int(pick.sum()), J, K), dtype=bool)
        r, i = np.nonzero(mtd >= 0)
        sel[r, i, mtd[r, i]] = True
        selected[pick] = sel
    return TrialRuns(n, y, end, selected, np.zeros(B, dtype=bool), log)


def run_trials(design, p_true: np.ndarray, n_trials: int, seed: int, log: bool = False,
               reference: bool = False) -> list[TrialRuns]:
    """Simulate ``n_trials`` trials in chunks (see the module docstring); one :class:`TrialRuns` per chunk.
    ``reference=True`` follows the reference's simulator instead of the design (one MTD: no blocking rule, ties
    drawn at random), for the reference tests only."""
    tables = comb_tables(design, design.max_sample_size + design.cohort_size)
    p_flat = np.asarray(p_true, dtype=float).ravel()
    run = _run_waterfall if design.mtd_contour else _run_standard
    n_chunks = -(-n_trials // CHUNK)
    out = []
    for c, ss in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        size = min(CHUNK, n_trials - c * CHUNK)
        extra = {"reference": True} if reference and not design.mtd_contour else {}
        out.append(run(design, p_flat, size, np.random.default_rng(ss), tables, [] if log else None, **extra))
    return out


def simulate_comb(design, p_true, *, n_trials: int, seed: int, target: float | None = None,
                  reference: bool = False):
    """Operating characteristics of ``design`` when the true DLT probabilities are ``p_true`` (J x K)."""
    from .ocs import comb_oc
    p = check_p_true(design, p_true)
    runs = run_trials(design, p, int(n_trials), int(seed), reference=reference)
    return comb_oc(design, p, runs, n_trials=int(n_trials), seed=int(seed),
                   target=design.target if target is None else float(target))
