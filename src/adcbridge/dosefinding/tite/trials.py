"""TITE-BOIN trials in time, simulated together as arrays (the engine behind :mod:`.simulate`).

A trial (TITEgBOIN 0.4.0 ``get_oc_TITE_QuasiBOIN``; SPEC 1.6): the first patient of the trial arrives at time 0;
a cohort's first patient is treated at the decision time, the others as they arrive (gaps of :mod:`.times`); the
next decision is taken when the next patient arrives after the cohort, on the data known then -- observed DLTs,
patients whose window is complete, and the follow-up fractions of the pending ones (:func:`.kernel.decide`).
While accrual is suspended the decision is taken again at each later arrival: only an outcome becoming known can
lift the usual suspension (and, at dose 1 with a de-escalation rate, the follow-up passing the point where the
rate drops below lambda_d), so the arrivals in between are skipped -- for Poisson accrual the first arrival after
that time is that time plus a fresh exponential gap (memorylessness), for uniform accrual the gaps are stepped
through.  Patients who arrive while accrual is suspended are not treated.  After the last cohort is enrolled no
decision is taken (as in the reference); the trial ends when every patient's DLT window is complete (or a DLT is
seen), and the MTD is selected on the complete data (:mod:`.selection`).  A safety stop or an ``n_earlystop`` stop
ends enrolment at the decision time; the enrolled patients are still followed.  The trial's duration runs to the
end of the last enrolled patient's DLT window (or to the stop, if later).

Random numbers: per chunk of trials one uniform per patient (outcome and time to DLT, :func:`.times.dlt_times`),
one gap per patient slot, then fresh gaps for the arrivals during suspensions, all from the chunk's own generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import EndReason
from .kernel import STOP_EARLY, STOP_ELIMINATE, STOP_EXTRA_SAFETY, SUSPEND_LOWEST, SUSPENDED, decide, tite_rules
from .selection import select_mtd_tite_batch
from .times import dlt_times, draw_gaps, weibull_parameters

__all__ = ["TrialBatch", "run_chunk"]


@dataclass
class TrialBatch:
    """A chunk of simulated trials: per patient slot (B, N) ``enter``, ``resolve`` (the time its outcome is known:
    the DLT or the end of the window) and ``dlt``; per cohort (B, C) and per slot (B, N) the dose (0-based, -1 not
    enrolled); per trial the patients per dose ``n`` (B, J),
    the current dose, the clock, the end code and the stop time."""

    design: object
    enter: np.ndarray
    resolve: np.ndarray
    dlt: np.ndarray
    cohort_dose: np.ndarray
    slot_dose: np.ndarray
    n: np.ndarray
    current: np.ndarray
    clock: np.ndarray
    active: np.ndarray
    end: np.ndarray
    stop_time: np.ndarray
    cohorts: np.ndarray

    def counts(self, rows: np.ndarray, k: int):
        """At each row's clock, over the first ``k`` cohorts (every row has enrolled exactly k): per-dose patients
        and observed DLTs, and at the current dose the pending patients and their summed follow-up fractions."""
        d = self.design
        J, K = d.n_doses, k * d.cohort_size
        whole = rows.size == self.clock.size            # every trial of the chunk: views, not copies
        pick = (lambda a: a[:, :K]) if whole else (lambda a: a[rows, :K])
        t = (self.clock if whole else self.clock[rows])[:, None]
        dose = pick(self.slot_dose)
        done = pick(self.resolve) <= t
        slot = (np.arange(rows.size)[:, None] * J + dose).ravel()
        y = np.bincount(slot, weights=(pick(self.dlt) & done).ravel(), minlength=rows.size * J)
        here = ~done & (dose == (self.current if whole else self.current[rows])[:, None])
        follow = np.where(here, t - pick(self.enter), 0.0).sum(axis=1) / d.dlt_window
        return self.n[rows], y.reshape(rows.size, J).astype(np.int64), here.sum(axis=1), follow

    def final_counts(self):
        """Per-dose patients and DLTs of every enrolled patient (outcomes complete)."""
        B, J = self.n.shape
        bins = np.arange(B)[:, None] * (J + 1) + np.where(self.slot_dose < 0, J, self.slot_dose)
        y = np.bincount(bins.ravel(), weights=self.dlt.ravel(), minlength=B * (J + 1)).reshape(B, J + 1)
        return self.n.copy(), y[:, :J].astype(np.int64)

    def duration(self) -> np.ndarray:
        """Time from the first patient to the end of the last enrolled patient's DLT window (a DLT does not
        shorten it; as the reference's ``duration``), or to the stop if later."""
        return np.maximum(self.enter.max(axis=1) + self.design.dlt_window, self.stop_time)


def run_chunk(design, p_true: np.ndarray, size: int, rng: np.random.Generator, rate: float, late_onset: float,
              late_window: float, accrual: str, log=None) -> tuple[TrialBatch, np.ndarray]:
    """Simulate ``size`` trials; returns the batch and each trial's MTD (0-based, -1 for none).  ``log(batch,
    rows, k, decisions)`` is called after every evaluation of the rules (conformance logging)."""
    cs, C, W = design.cohort_size, design.n_cohorts, design.dlt_window
    N = C * cs
    rules = tite_rules(design)
    shape, scale = weibull_parameters(p_true, W, late_onset, late_window)
    u = rng.random((size, N))
    gaps = draw_gaps(rng, (size, C, cs), rate, accrual)
    b = TrialBatch(design, np.zeros((size, N)), np.zeros((size, N)), np.zeros((size, N), dtype=bool),
                   np.full((size, C), -1, dtype=np.int64), np.full((size, N), -1, dtype=np.int64),
                   np.zeros((size, design.n_doses), dtype=np.int64),
                   np.full(size, design.start_dose - 1, dtype=np.int64),
                   np.zeros(size), np.ones(size, dtype=bool), np.full(size, EndReason.RUNNING, dtype=np.int8),
                   np.zeros(size), np.zeros(size, dtype=np.int64))
    offsets = np.concatenate([np.zeros((size, C, 1)), np.cumsum(gaps[:, :, :-1], axis=2)], axis=2)
    for c in range(C):
        rows = np.flatnonzero(b.active)
        if not rows.size:
            break
        cols = slice(c * cs, (c + 1) * cs)
        d = b.current[rows]
        b.cohort_dose[rows, c] = d
        b.slot_dose[rows, cols] = d[:, None]
        b.n[rows, d] += cs
        b.cohorts[rows] += 1
        enter = b.clock[rows, None] + offsets[rows, c]
        uu = u[rows, cols]
        dlt = uu < p_true[d][:, None]
        when = dlt_times(uu, shape[d][:, None], scale[d][:, None], W)
        b.enter[rows, cols] = enter
        b.dlt[rows, cols] = dlt
        b.resolve[rows, cols] = enter + np.where(dlt, when, W)
        if c == C - 1:
            break
        b.clock[rows] = enter[:, -1] + gaps[rows, c, -1]
        _decide_until_enrolling(b, rows, c + 1, rules, rng, rate, accrual, log)
    b.end[b.active] = EndReason.COMPLETED
    n, y = b.final_counts()
    mtd = select_mtd_tite_batch(design, n, y)
    mtd[b.end == EndReason.SAFETY_STOP] = -1
    return b, mtd


def _decide_until_enrolling(b: TrialBatch, rows: np.ndarray, k: int, rules, rng, rate: float, accrual: str,
                            log) -> None:
    """Take the decision after cohort ``k`` for ``rows``, again at later arrivals while accrual is suspended;
    apply moves and stops."""
    enrolled = np.full(rows.size, k * b.design.cohort_size)
    while rows.size:
        n, y, pending, follow = b.counts(rows, k)
        out = decide(rules, n, y, pending, follow, b.current[rows], enrolled[: rows.size])
        if log is not None:
            log(b, rows, k, out)
        suspended = (out.code == SUSPENDED[0]) | (out.code == SUSPENDED[1])
        go, code, nxt = rows[~suspended], out.code[~suspended], out.next_dose[~suspended]
        safety = (code == STOP_ELIMINATE) | (code == STOP_EXTRA_SAFETY)
        early = code == STOP_EARLY
        stop = safety | early
        b.end[go[safety]] = EndReason.SAFETY_STOP
        b.end[go[early]] = EndReason.EARLY_STOP
        b.active[go[stop]] = False
        b.stop_time[go[stop]] = b.clock[go[stop]]
        b.current[go[~stop]] = nxt[~stop]
        if not suspended.any():
            return
        rows = rows[suspended]
        lowest = out.code[suspended] == SUSPEND_LOWEST
        change = _next_change(b, rows, k, lowest, n[suspended], pending[suspended], y[suspended], rules)
        b.clock[rows] = _first_arrival_after(rng, b.clock[rows], change, rate, accrual)


def _next_change(b: TrialBatch, rows, k: int, lowest, n, pending, y, rules) -> np.ndarray:
    """The earliest time after each row's clock at which its decision can change: the next outcome to become known
    (any dose), and for a suspension at dose 1 the time its rate falls below lambda_d."""
    K = k * b.design.cohort_size
    t = b.clock[rows]
    res = b.resolve[rows, :K]
    nxt = np.where(res > t[:, None], res, np.inf).min(axis=1)
    if lowest.any():
        r = rows[lowest]
        W = b.design.dlt_window
        at_one = (b.slot_dose[r, :K] == 0) & (b.resolve[r, :K] > b.clock[r, None])
        sum_enter = np.where(at_one, b.enter[r, :K], 0.0).sum(axis=1)
        m = pending[lowest]
        cross = (W * (y[lowest, 0] / rules.lambda_d - (n[lowest, 0] - m)) + sum_enter) / m
        nxt[lowest] = np.minimum(nxt[lowest], np.maximum(cross, t[lowest]))
    return nxt


def _first_arrival_after(rng, clock: np.ndarray, change: np.ndarray, rate: float, accrual: str) -> np.ndarray:
    """The first arrival after ``clock`` that comes later than ``change``."""
    arrival = clock + draw_gaps(rng, clock.size, rate, accrual)
    early = arrival <= change
    if accrual == "poisson":
        arrival[early] = change[early] + draw_gaps(rng, int(early.sum()), rate, accrual)
        return arrival
    while early.any():
        arrival[early] += draw_gaps(rng, int(early.sum()), rate, accrual)
        early = arrival <= change
    return arrival
