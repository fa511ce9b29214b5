"""The course of a TITE-BOIN trial replayed from its times: was each cohort enrolled where the rules said?

TITE-BOIN decides while outcomes are pending, so the decision taken when a cohort was enrolled cannot be
re-derived from today's outcomes.  It can be from the history's times: when a cohort's first patient was dosed
(``dose_time``) at time t, an earlier patient's outcome was known if it was assessed by then (``assess_time`` <=
t, as in the simulator; a DLT's ``assess_time`` is the day of the DLT), and a patient not yet assessed was pending
with follow-up ``min(1, (t - dose_time) / dlt_window)``.  The decision of the same rules (:func:`.decision.decide`)
on that history is compared with what was done:

* the cohort was treated at another dose than the rules gave -> ``dose_deviation`` warning;
* the rules suspended accrual (too many pending) -> ``dose_deviation`` warning (enrolled while suspended);
* the rules had stopped the trial -> ``dose_deviation`` warning (enrolled after a stop).

These are warnings, not errors: the decision goes on from the data as treated, and the times are a
reconstruction (an outcome assessed on the very day of a dosing is taken as known at that dosing).

The replay needs every patient's ``dose_time``, an ``assess_time`` for every known outcome, and the DLT window the
times are in: the history's ``followup_window`` (set by :meth:`History.with_followup`, and by the command line's
``--dlt-window``).  A history without them (follow-up fractions typed in, no times) is not replayed.
"""

from __future__ import annotations

from dataclasses import replace

from adcbridge.results import Issue

from ..history import History

__all__ = ["course_deviations", "replayable"]


def replayable(history: History) -> bool:
    """Whether the history carries what the replay needs (see the module docstring)."""
    if history.followup_window is None:
        return False
    return all(p.dose_time is not None and (p.pending or p.assess_time is not None) for p in history.patients)


def _as_known_at(history: History, end: int, t: float) -> History:
    """The patients of the rows before ``end`` as they stood at time ``t``."""
    window = history.followup_window
    out = []
    for p in history.patients[:end]:
        if not p.pending and p.assess_time <= t:
            out.append(replace(p, followup=None))
        else:
            out.append(replace(p, dlt=None, assess_time=None, followup=min(1.0, max(0.0, (t - p.dose_time) / window))))
    return History(tuple(out), history.source, history.places, history.time_origin, window)


def course_deviations(design, history: History) -> tuple[Issue, ...]:
    """``dose_deviation`` warnings for the cohorts enrolled off the rules, replayed at each cohort's first dosing
    (see the module docstring); none for a history that cannot be replayed."""
    from .decision import decide
    if not replayable(history):
        return ()
    pts = history.patients
    starts = [k for k in range(1, len(pts)) if pts[k].cohort != pts[k - 1].cohort]
    issues = []
    lab = design.dose_label
    for start in starts:
        q = pts[start]
        t = q.dose_time
        before = decide(design, _as_known_at(history, start, t))
        members = [p.patient for p in pts[start:] if p.cohort == q.cohort]
        who = f"cohort {q.cohort} ({', '.join(members)}), dosed {history._at(t)},"
        why = f"{before.rule}: {before.reason}"
        if before.decision == "stop":
            text = f"{who} was enrolled after the rules had stopped the trial on what was known then ({why})"
        elif before.decision == "suspend":
            text = f"{who} was enrolled while the rules suspended accrual on what was known then ({why})"
        elif before.next_dose != q.dose:
            side = "above" if q.dose > before.next_dose else "below"
            text = (f"{who} was treated at level {lab(q.dose)}, {side} level {lab(before.next_dose)} that the rules "
                    f"gave on what was known then ({why})")
        else:
            continue
        issues.append(Issue("dose_deviation", text + "; the decision goes on from the data as treated"))
    return tuple(issues)
