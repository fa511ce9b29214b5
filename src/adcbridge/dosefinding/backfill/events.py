"""The BF-BOIN event loop in time, vectorised over trials (the reference's ``sim.one.trial``, SPEC 8.4-8.7).

All trials of a batch advance together, one arriving patient per trial per step.  At each arrival ("now"):

1. backfill patients whose DLT assessment ended before now join the counts;
2. a free slot in the current cohort -> the patient joins the cohort at the current dose;
3. else, when every patient of the cohort finished his DLT assessment before now, the cohort is evaluated
   (:func:`~.rules.evaluate`); unless the trial ends there (the patient is then not treated), the patient is
   the first of the next cohort at the new dose;
4. else, above the lowest dose and with a response seen at a lower dose, the backfill rule
   (:func:`~.rules.open_doses`) backfills him at an open dose, or refers him away;
5. else he is referred away.

The trial ends at the ``n_cohorts``-th evaluation, at a toxicity stop or at an early stop.  Its final counts are
the escalation patients plus the backfill patients whose assessment ended before the end of the last escalation
cohort's assessment (the reference drops the later ones), its duration is that end time, and its MTD BOIN's
``select_mtd`` on the final counts (none after a toxicity stop).

Trials that have ended are dropped from the arrays as they thin out, so the cost follows the live trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..boin.selection import select_mtd_batch, selection_rule
from .rules import evaluate, open_doses, pick_backfill, plus_next, tables_for

__all__ = ["ROLES", "TrialOutcomes", "run_trials"]

#: what happened to an arriving patient (codes of the event log)
ROLES = ("cohort", "evaluation; first patient of next cohort", "evaluation; last cohort done",
         "evaluation; trial ends", "backfill", "referred away (cohort pending, backfill not possible)",
         "referred away (no open backfill dose)")
COHORT, EVAL_NEXT, EVAL_END, EVAL_STOP, BACKFILL, REFERRED, CLOSED = range(len(ROLES))


@dataclass
class TrialOutcomes:
    """Per-trial results of a batch: final counts ``n``, ``y`` (B, J), ``mtd`` (0-based, -1 none), ``stop``
    (toxicity), ``early`` (n_earlystop), ``duration``, ``backfill`` (backfill patients treated per dose),
    ``backfill_counted`` (those in the final counts), ``referred`` and ``arrivals`` per trial."""

    n: np.ndarray
    y: np.ndarray
    mtd: np.ndarray
    stop: np.ndarray
    early: np.ndarray
    duration: np.ndarray
    backfill: np.ndarray
    backfill_counted: np.ndarray
    referred: np.ndarray
    arrivals: np.ndarray


class _Batch:
    """The live trials' arrays (rows = trials still running; ``ids`` = their numbers in the batch)."""

    def __init__(self, B: int, J: int, c: int, M: int, start: int):
        self.ids = np.arange(B)
        self.clock = np.zeros(B)
        self.d = np.full(B, start, dtype=np.int64)
        self.elim = np.full(B, J, dtype=np.int64)
        self.n_eval = np.zeros(B, dtype=np.int64)
        self.coh_n = np.zeros(B, dtype=np.int64)
        self.coh_end = np.full((B, c), np.inf)
        self.coh_dlt = np.zeros((B, c), dtype=bool)
        self.n_esc = np.zeros((B, J), dtype=np.int64)
        self.y_esc = np.zeros((B, J), dtype=np.int64)
        self.bf_dose = np.zeros((B, M), dtype=np.int64)
        self.bf_end = np.full((B, M), np.inf)
        self.bf_dlt = np.zeros((B, M), dtype=bool)
        self.bf_pend = np.zeros((B, M), dtype=bool)
        self.bf_cnt = np.zeros(B, dtype=np.int64)
        self.bfN = np.zeros((B, J), dtype=np.int64)
        self.bfY = np.zeros((B, J), dtype=np.int64)
        self.bf_rec = np.zeros((B, J), dtype=np.int64)
        self.resp_first = np.full((B, J), np.inf)
        self.referred = np.zeros(B, dtype=np.int64)

    def keep(self, rows: np.ndarray) -> None:
        for name, a in vars(self).items():
            setattr(self, name, a[rows])


def run_trials(design, p_true, draws, n_trials: int, log=None) -> TrialOutcomes:
    """Run ``n_trials`` trials of ``design`` with the draws of ``draws`` (see the module docstring)."""
    J, c, W = design.n_doses, design.cohort_size, design.dlt_window
    t = tables_for(design)
    rule = selection_rule(design, design.max_patients_per_dose)
    M = J * (design.n_cap + 1) + 1
    s = _Batch(n_trials, J, c, M, design.start_dose - 1)
    out = TrialOutcomes(np.zeros((n_trials, J), dtype=np.int64), np.zeros((n_trials, J), dtype=np.int64),
                        np.full(n_trials, -1, dtype=np.int64), np.zeros(n_trials, dtype=bool),
                        np.zeros(n_trials, dtype=bool), np.zeros(n_trials), np.zeros((n_trials, J), dtype=np.int64),
                        np.zeros((n_trials, J), dtype=np.int64), np.zeros(n_trials, dtype=np.int64),
                        np.zeros(n_trials, dtype=np.int64))
    jj = np.arange(J)
    step = 0
    while s.ids.size:
        B = s.ids.size
        now = draws.arrival(step, s.ids, s.clock)
        s.clock = now
        newly = s.bf_pend & (s.bf_end < now[:, None])
        if newly.any():
            r, m = np.nonzero(newly)
            flat = r * J + s.bf_dose[r, m]
            s.bfN += np.bincount(flat, minlength=B * J).reshape(B, J)
            s.bfY += np.bincount(flat, weights=s.bf_dlt[r, m], minlength=B * J).reshape(B, J).astype(np.int64)
            s.bf_pend &= ~newly
        full = s.coh_n >= c
        done = full & (s.coh_end.max(axis=1) < now)
        ended = np.zeros(B, dtype=bool)
        role = np.where(full, REFERRED, COHORT)

        ev = np.flatnonzero(done)
        if ev.size:
            d = s.d[ev]
            s.n_esc[ev, d] += c
            s.y_esc[ev, d] += s.coh_dlt[ev].sum(axis=1)
            N, Y = s.n_esc[ev] + s.bfN[ev], s.y_esc[ev] + s.bfY[ev]
            next_d, stop, early, elim, path, dec = evaluate(N, Y, d, s.elim[ev], s.n_esc[ev, 0], s.y_esc[ev, 0], t)
            s.n_eval[ev] += 1
            last = s.n_eval[ev] >= design.n_cohorts
            fin = stop | early | last
            s.elim[ev] = elim
            s.d[ev] = np.where(fin, d, next_d)
            s.coh_n[ev[~fin]] = 0
            role[ev] = np.where(fin, np.where(stop | early, EVAL_STOP, EVAL_END), EVAL_NEXT)
            if log is not None:
                log.evaluation(s.ids[ev], step, now[ev], d, N, Y, dec, path, next_d, elim, stop, early, fin)
            if fin.any():
                _finish(s, ev[fin], stop[fin], early[fin], out, rule, step, jj)
                ended[ev[fin]] = True

        join = ~ended & (s.coh_n < c)
        jr = np.flatnonzero(join)
        if jr.size:
            d = s.d[jr]
            T = draws.dlt_time(step, s.ids[jr], d)
            resp = draws.response(step, s.ids[jr], d)
            slot = s.coh_n[jr]
            s.coh_end[jr, slot] = now[jr] + np.minimum(T, W)
            s.coh_dlt[jr, slot] = T < W
            s.coh_n[jr] += 1
            rr = jr[resp]
            s.resp_first[rr, d[resp]] = np.minimum(s.resp_first[rr, d[resp]], now[rr] + W)
            if log is not None:
                log.patients(s.ids[jr], step, now[jr], role[jr], d, T, resp)

        below = jj[None, :] < s.d[:, None]
        seen = s.resp_first < now[:, None]
        bk = np.flatnonzero(full & ~done & (s.d > 0) & (seen & below).any(axis=1))
        if bk.size:
            d = s.d[bk]
            N, Y = s.n_esc[bk] + s.bfN[bk], s.y_esc[bk] + s.bfY[bk]
            assessed = s.coh_end[bk] < now[bk, None]
            n_cur = s.n_esc[bk, d] + assessed.sum(axis=1)
            y_cur = s.y_esc[bk, d] + (assessed & s.coh_dlt[bk]).sum(axis=1)
            Np, Yp = plus_next(N, Y, d, n_cur, y_cur)
            opened = open_doses(N, Y, Np, Yp, seen[bk], s.bf_rec[bk] + s.n_esc[bk], d, t)[0]
            u = draws.pick(step, s.ids[bk], opened) if design.backfill_assign == "random" else None
            k = pick_backfill(opened, design.backfill_assign, u)
            go = k >= 0
            role[bk] = np.where(go, BACKFILL, CLOSED)
            g, kg = bk[go], k[go]
            if g.size:
                T = draws.dlt_time(step, s.ids[g], kg)
                slot = s.bf_cnt[g]
                s.bf_dose[g, slot] = kg
                s.bf_end[g, slot] = now[g] + np.minimum(T, W)
                s.bf_dlt[g, slot] = T < W
                s.bf_pend[g, slot] = True
                s.bf_cnt[g] += 1
                s.bf_rec[g, kg] += 1
            if log is not None:
                log.backfill(s.ids[bk], step, now[bk], d, opened, k)
                if g.size:
                    log.patients(s.ids[g], step, now[g], role[g], kg, T, np.zeros(g.size, dtype=bool))
        s.referred += (role == REFERRED) | (role == CLOSED)
        if log is not None:
            gone = np.flatnonzero((role == REFERRED) | (role == CLOSED) | ended)
            log.others(s.ids[gone], step, now[gone], role[gone])
        step += 1
        if ended.any():
            s.keep(np.flatnonzero(~ended))
    return out


def _finish(s: _Batch, rows, stop, early, out: TrialOutcomes, rule, step: int, jj) -> None:
    """Record the trials in ``rows`` as ended (final counts, MTD, duration)."""
    ids = s.ids[rows]
    max_t = s.coh_end[rows].max(axis=1)
    valid = np.arange(s.bf_dose.shape[1])[None, :] < s.bf_cnt[rows, None]
    counted = valid & (s.bf_end[rows] < max_t[:, None])
    dose = s.bf_dose[rows]
    at = dose[:, :, None] == jj[None, None, :]
    bf_n = (counted[:, :, None] & at).sum(axis=1)
    bf_y = ((counted & s.bf_dlt[rows])[:, :, None] & at).sum(axis=1)
    n = s.n_esc[rows] + bf_n
    y = s.y_esc[rows] + bf_y
    mtd = select_mtd_batch(n, y, rule)
    out.n[ids], out.y[ids] = n, y
    out.mtd[ids] = np.where(stop, -1, mtd)
    out.stop[ids], out.early[ids] = stop, early
    out.duration[ids] = max_t
    out.backfill[ids] = (valid[:, :, None] & at).sum(axis=1)
    out.backfill_counted[ids] = bf_n
    out.referred[ids] = s.referred[rows]
    out.arrivals[ids] = step + 1
