"""The course of a TITE-BOIN trial replayed from its times: was each cohort enrolled where the rules said?

TITE-BOIN decides while outcomes are pending, so the decision taken when a cohort was enrolled cannot be
re-derived from today's outcomes.  It can be from the history's times: when a cohort's first patient was dosed
(``dose_time``) at time t, an earlier patient's outcome was known if it was assessed by then (``assess_time`` <=
t, as in the simulator -- on a tie, a deviation is reported only if it is one with the outcome unknown too; a
DLT's ``assess_time`` is the day of the DLT), and a patient not yet assessed was pending
with follow-up ``min(1, (t - dose_time) / dlt_window)``.  The decision of the same rules (:func:`.decision.decide`)
on that history is compared with what was done:

* the cohort was treated at another dose than the rules gave -> ``dose_deviation`` warning;
* the rules suspended accrual (too many pending) -> ``dose_deviation`` warning (enrolled while suspended);
* the rules had stopped the trial -> ``dose_deviation`` warning (enrolled after a stop).

These are warnings, not errors: the decision goes on from the data as treated, and the times are a
reconstruction (an outcome assessed on the very day of a dosing is taken as known at that dosing).

The replay needs every patient's ``dose_time``, an ``assess_time`` for every known outcome, and the DLT window the
times are in: the history's ``followup_window`` (set by :meth:`History.with_followup`, and by the command line's
``--dlt-window``).  A history without them (follow-up fractions typed in, no times) is not replayed; one with times
in a known window that lacks some (a known outcome without ``assess_time``) gets a ``course_not_replayed`` info
issue naming the patient.
"""

from __future__ import annotations

from dataclasses import replace

from adcbridge.results import Issue

from ..history import History, _row_place, cohort_rows, side_of

__all__ = ["course_deviations", "replayable"]


def replayable(history: History) -> bool:
    """Whether the history carries what the replay needs (see the module docstring)."""
    if history.followup_window is None:
        return False
    return all(p.dose_time is not None and (p.pending or p.assess_time is not None) for p in history.patients)


def _as_known_at(history: History, end: int, t: float, strict: bool = False) -> History:
    """The patients of the rows before ``end`` as they stood at time ``t`` (an outcome assessed at ``t`` itself is
    known, or with ``strict`` not yet)."""
    window = history.followup_window
    out = []
    for p in history.patients[:end]:
        if not p.pending and (p.assess_time < t if strict else p.assess_time <= t):
            out.append(replace(p, followup=None))
        else:
            out.append(replace(p, dlt=None, assess_time=None, followup=min(1.0, max(0.0, (t - p.dose_time) / window))))
    return History(tuple(out), history.source, history.places, history.time_origin, window)


def course_deviations(design, history: History) -> tuple[Issue, ...]:
    """``dose_deviation`` warnings for the cohorts enrolled off the rules, replayed at each cohort's first dosing
    (see the module docstring).  A history with times in a known window that still cannot be replayed (a known
    outcome without ``assess_time``, a patient without ``dose_time``) gets an info issue saying why instead.  An
    earlier cohort smaller than ``cohort_size`` is not noted: TITE-BOIN decides at every arrival (TITEgBOIN's live
    decision knows no cohorts), so a site that suspends accrual as told leaves the cohort short."""
    return _replayed(design, history)


def _replayed(design, history: History) -> tuple[Issue, ...]:
    from .decision import decide
    if not replayable(history):
        return _why_not(history)
    pts = history.patients
    issues = []
    lab = design.dose_label
    for start, end in cohort_rows(history)[1:]:
        q = pts[start]
        t = q.dose_time
        before = decide(design, _as_known_at(history, start, t))
        if _off_rules(before, q) and any(p.assess_time == t for p in pts[:start]):
            # an outcome assessed at the very time of the dosing may not have been known yet: a deviation only if
            # the rules without it are off too
            if not _off_rules(decide(design, _as_known_at(history, start, t, strict=True)), q):
                continue
        who = f"cohort {q.cohort} ({', '.join(p.patient for p in pts[start:end])}), dosed {history._at(t)},"
        why = f"{before.rule}: {before.reason}"
        if before.decision == "stop":
            text = f"{who} was enrolled after the rules had stopped the trial on what was known then ({why})"
        elif before.decision == "suspend":
            text = f"{who} was enrolled while the rules suspended accrual on what was known then ({why})"
        elif before.next_dose != q.dose:
            text = (f"{who} was treated at level {lab(q.dose)}, {side_of(q.dose, before.next_dose)} level "
                    f"{lab(before.next_dose)} that the rules gave on what was known then ({why})")
        else:
            continue
        issues.append(Issue("dose_deviation", text + "; the decision goes on from the data as treated"))
    return tuple(issues)


def _off_rules(decision, q) -> bool:
    """Whether patient ``q``'s cohort, enrolled after ``decision``, went against it (a stop, a suspension, another
    dose)."""
    return decision.decision in ("stop", "suspend") or decision.next_dose != q.dose


def _why_not(history: History) -> tuple[Issue, ...]:
    """The info issue of a history in a known window whose course cannot be replayed (none without a window or
    without any time: such a history says nothing of when cohorts were enrolled)."""
    if history.followup_window is None or all(p.dose_time is None for p in history.patients):
        return ()
    k, p = next((k, p) for k, p in enumerate(history.patients, start=1)
                if p.dose_time is None or (not p.pending and p.assess_time is None))
    lacks = "dose_time" if p.dose_time is None else "assess_time (when his outcome became known)"
    return (Issue("course_not_replayed", f"the course is not checked against the rules as they stood at each "
                                         f"cohort's dosing: patient {p.patient} ({_row_place(history, k)}) has no "
                                         f"{lacks}", "info"),)
