"""Next-dose decision for a live TITE-BOIN trial.

The history's pending patients (``dlt`` None) carry ``followup``, the fraction of the DLT window completed
(:meth:`~adcbridge.dosefinding.history.History.with_followup` computes it from ``dose_time`` and the date of the
decision).  The per-dose counts go through the same rules as the simulator (:func:`.kernel.decide`, a batch of
one): see :mod:`.kernel` for the rules and their order.

**Suspended accrual.**  When the rules suspend accrual the decision is ``"suspend"``: no new patient is enrolled
until more follow-up has accrued (or outcomes are known); ``next_dose`` is the current dose -- where the next
cohort goes if accrual reopened now -- and the record's ``suspend_accrual`` is true.  Decide again when a patient
arrives or an outcome is known.

**Pending past the window.**  A pending patient whose follow-up is the whole window (``followup`` 1, or a dosing
more than one DLT window before the decision date, which :meth:`History.with_followup` caps at 1) counts as a
whole window without a DLT in the effective sample size, as in TITEgBOIN; the record carries a
``pending_past_window`` warning naming the patients, since an outcome overdue is usually an outcome not yet
entered.  He still counts as pending in the suspension rule, as every patient without an outcome does in
TITEgBOIN's decision: accrual stays suspended until his outcome is recorded (more follow-up cannot complete him),
and the reason says so.

**Stops with pending patients.**  ``n_earlystop`` and the maximum sample size stop enrolment; the MTD in the record
is selected from the outcomes known so far, and an issue says that it is final only once every pending patient's
DLT window is complete (TITEgBOIN selects on complete data).
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..nextdose import NextDose
from .kernel import (
    DEESCALATE,
    ELIMINATE,
    ESCALATE,
    RULES,
    STAY,
    STAY_ELIM_ABOVE,
    STAY_LOWEST,
    STAY_TOP,
    STOP_EARLY,
    STOP_ELIMINATE,
    STOP_EXTRA_SAFETY,
    STOP_MAX_N,
    SUSPEND,
    SUSPEND_LOWEST,
    tite_rules,
)
from .kernel import decide as decide_batch
from .selection import select_mtd_tite

__all__ = ["decide", "check_tite_history", "tite_counts"]


def check_tite_history(design, history):
    """TITE-BOIN's own checks: dosing times in enrolment order and no assessment of a pending patient
    (:meth:`History.check_enrolment_times`), a pending patient needs its follow-up fraction, a cohort at most
    ``cohort_size`` patients; the error names the patient row."""
    from ..history import _row_error, cohort_size_error
    history.check_enrolment_times(design.spec_name)
    window = history.followup_window
    if window is not None and not np.isclose(window, design.dlt_window, rtol=1e-9, atol=0.0):
        raise ValueError(f"The history's follow-up fractions were computed with a DLT window of {window:g}, but the "
                         f"design's dlt_window is {design.dlt_window:g}: compute them with the design's window "
                         f"(history.with_followup(now, design.dlt_window)).")
    size, counts = design.cohort_size, {}
    for k, p in enumerate(history.patients, start=1):
        if p.pending and p.followup is None:
            raise _row_error(history, k, p, "followup",
                             "the patient is pending: give the fraction of the DLT window completed (followup), or "
                             "the dosing time (dose_time) with the DLT window and the date of the decision")
        counts[p.cohort] = counts.get(p.cohort, 0) + 1
        if counts[p.cohort] > size:
            raise cohort_size_error(design, history, k)
    return history


def tite_counts(history, n_doses: int):
    """Per-dose patients (pending included), pending patients, observed DLTs and summed follow-up fractions of the
    pending patients, in enrolment order."""
    n, pending, y = (np.zeros(n_doses, dtype=np.int64) for _ in range(3))
    followup = np.zeros(n_doses)
    for p in history.patients:
        j = p.dose - 1
        n[j] += 1
        if p.pending:
            pending[j] += 1
            followup[j] += p.followup
        else:
            y[j] += bool(p.dlt)
    return n, pending, y, followup


def decide(design, history, issues_before: tuple = ()) -> NextDose:
    """The decision on ``history`` (already checked); see the module docstring.  ``issues_before`` come first in
    the record's issues (the course's deviations, :mod:`.course`)."""
    J, cs = design.n_doses, design.cohort_size
    n, pending, y, followup = tite_counts(history, J)
    cur = history.current_dose - 1
    enrolled = len(history)
    rules = tite_rules(design, int(n.max()))
    d = decide_batch(rules, n[None], y[None], pending[cur:cur + 1], followup[cur:cur + 1], np.array([cur]),
                     np.array([enrolled]))
    code, nxt, first = int(d.code[0]), int(d.next_dose[0]), int(d.first_eliminated[0])
    ess, rate = float(d.ess[0]), float(d.rate[0])
    rule, word = RULES[code]
    known = n - pending
    issues: list[Issue] = list(issues_before)
    eliminated = tuple(range(1, J + 1)) if code == STOP_EXTRA_SAFETY else tuple(range(first + 1, J + 1))
    select = code in (STOP_EARLY, STOP_MAX_N)
    mtd = select_mtd_tite(design, known, y) if select else None
    overdue = [(k, p) for k, p in enumerate(history.patients, start=1) if p.pending and p.followup >= 1]
    if overdue:
        from ..history import patients_text
        issues.append(Issue("pending_past_window", f"{len(overdue)} pending patient(s) have completed the DLT "
                                                   f"window without an outcome: {patients_text(history, overdue)}; "
                                                   f"each counts as a whole window without a DLT (follow-up 1, as "
                                                   f"TITEgBOIN does): record the outcomes", "warning"))
    if select and pending.any():
        issues.append(Issue("pending_at_stop", f"{int(pending.sum())} patient(s) still pending: the MTD is selected "
                                               f"from the outcomes known so far; select it again once every DLT "
                                               f"window is complete", "warning"))
    overdue_here = sum(p.dose == cur + 1 for _, p in overdue)
    lab = design.dose_label
    here = (f"{y[cur]} DLT(s) in {n[cur]} patients at dose {lab(cur + 1)} ({pending[cur]} pending, effective "
            f"sample size {ess:.3g}, rate {rate:.3f})")
    t = rules
    reasons = {
        STOP_ELIMINATE: f"{y[0]} DLT(s) in {n[0]} patients at dose {lab(1)}: Pr(DLT rate > {design.target:g}) > "
                        f"{design.cutoff_eli:g}, so every dose is eliminated: stop the trial, no MTD",
        STOP_EXTRA_SAFETY: f"{y[0]} DLT(s) in {n[0]} patients at the lowest dose: Pr(DLT rate > {design.target:g}) > "
                           f"{design.cutoff_eli - design.offset:g} (extra safety rule): stop the trial, no MTD",
        STOP_MAX_N: f"the maximum sample size ({design.max_sample_size}) is enrolled: stop and select the MTD",
        ELIMINATE: f"dose {first + 1} and above are eliminated (Pr(DLT rate > {design.target:g}) > "
                   f"{design.cutoff_eli:g}); go to dose {lab(first)}",
        SUSPEND: f"{here}: more than {design.max_pending:g} x {n[cur]} patients are pending: suspend accrual until "
                 + ("more follow-up or outcomes accrue" if not overdue_here else
                    f"outcomes are known ({overdue_here} of them {'has' if overdue_here == 1 else 'have'} completed "
                    f"the DLT window: record their outcomes)"),
        SUSPEND_LOWEST: f"{here}: rate >= lambda_d = {t.lambda_d:.4f} at the lowest dose with patients pending: "
                        f"suspend accrual until their outcomes are known",
        STOP_EARLY: f"{n[cur]} patients at dose {lab(cur + 1)} (n_earlystop = {design.n_earlystop}) and the decision "
                    f"is to stay: stop and select the MTD",
        STAY_TOP: f"{here}: rate <= lambda_e = {t.lambda_e:.4f} (escalate), but this is the highest dose",
        STAY_ELIM_ABOVE: f"{here}: rate <= lambda_e = {t.lambda_e:.4f} (escalate), but dose {cur + 2} is "
                         f"eliminated",
        ESCALATE: f"{here}: rate <= lambda_e = {t.lambda_e:.4f}; escalate to dose {lab(cur + 2)}",
        STAY_LOWEST: f"{here}: rate >= lambda_d = {t.lambda_d:.4f} (de-escalate), but this is the lowest dose",
        DEESCALATE: f"{here}: rate >= lambda_d = {t.lambda_d:.4f}; de-escalate to dose {lab(cur)}",
        STAY: f"{here}: lambda_e = {t.lambda_e:.4f} < rate < lambda_d = {t.lambda_d:.4f}; stay at dose "
              f"{lab(cur + 1)}",
    }
    ess_j = known + followup
    table = ColumnTable({
        "dose": np.arange(1, J + 1), "n": known, "dlt": y, "pending": pending,
        "p_hat": [y[j] / known[j] if known[j] else None for j in range(J)],
        "followup": followup, "ess": ess_j,
        "p_tite": [y[j] / ess_j[j] if ess_j[j] > 0 else None for j in range(J)],
        "eliminated": np.isin(np.arange(1, J + 1), eliminated),
    })
    next_dose = None if nxt < 0 else nxt + 1
    size = None if next_dose is None else min(cs, design.max_sample_size - enrolled)
    return NextDose(spec=design, table=table, issues=tuple(issues),
                    provenance=make_provenance(design, n, pending, y, followup, cur),
                    next_dose=next_dose, next_cohort_size=size, current_dose=cur + 1, decision=word, rule=rule,
                    reason=reasons[code], eliminated=eliminated, select_mtd=select, mtd=mtd, design=design.spec_name,
                    extra={"suspend_accrual": code in (SUSPEND, SUSPEND_LOWEST)})

