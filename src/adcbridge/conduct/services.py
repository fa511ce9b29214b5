"""What users do in a live trial, as transactions on the conduct database: each function checks the user's role,
changes the rows and appends the audit event in the same transaction (the caller commits; an error leaves nothing).

* a statistician creates a trial from a registered design spec and activates it (the design is then locked: its
  hash is stored);
* an investigator enrols patients (pseudonymous id, dose level, DLT yes/no/pending, dates) and enters outcomes;
  a correction is a new event with its reason, never an edit of history;
* the decision on the patients so far is the design's own (:func:`adcbridge.dosefinding.next_dose`), stored with
  the design hash, the history hash and the library version, so it can be replayed;
* a safety reviewer confirms or rejects each escalation; a patient cannot be enrolled at a higher dose before the
  escalation to it is confirmed.

Concurrent requests: every function that changes a trial (or stores a decision on it) first locks the trial's row
for the rest of the transaction and reads it again (:func:`lock_trial`: ``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite every transaction holds the database's write lock from its start, :mod:`.db`), so two investigators
entering the last patient of a cohort at the same moment act one after the other: no cohort gets more patients
than the design's cohort size, a patient id is enrolled once, and a history gets one decision (also a unique index
on the decisions).  A write that still collides with another (the same new trial name twice) fails on the database's
unique constraints and is reported as :class:`Conflict` by the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import append_event
from .models import Decision, Patient, Trial, User

__all__ = ["PermissionDenied", "Conflict", "trial_events", "lock_trial", "create_trial", "activate_trial",
           "enrol_patient", "correct_outcome", "history_of", "decide", "confirm_decision"]


#: the message of a write refused by a unique constraint because a concurrent request made the same change first
CONCURRENT = "the request conflicts with a change made at the same time; reload and try again"


class PermissionDenied(PermissionError):
    """The user's role may not do this."""


class Conflict(ValueError):
    """The request conflicts with the trial's state (a repeated patient id, a stale version, an unconfirmed
    escalation)."""


def _require(user: User, *roles: str) -> None:
    if user.role not in roles or not user.active:
        raise PermissionDenied(f"{user.username} ({user.role}) may not do this; it needs the role "
                               f"{' or '.join(roles)}")


def lock_trial(session: Session, trial: Trial) -> Trial:
    """Lock the trial's row until the transaction ends and reload it (``SELECT ... FOR UPDATE``; SQLite ignores the
    clause: its transactions already hold the database's write lock)."""
    session.refresh(trial, with_for_update=True)
    return trial


def _design(trial: Trial):
    from adcbridge.dosefinding.registry import design_class
    return design_class(trial.design_name)(**json.loads(trial.design_spec))


def _canonical_hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


#: registered designs whose patients carry what the app does not record: design -> what is missing.  A trial of
#: one of them could be created and enrolled but never decided, so it is refused when it is created.
NOT_RECORDED = {"boin12": "each patient's efficacy outcome (BOIN12 decides on toxicity and efficacy)",
                "comb-boin": "each patient's levels of agents A and B (the app records one dose per patient)",
                "boin-backfill": "whether a patient was enrolled in a backfill cohort (the app records escalation "
                                 "cohorts only)"}


def create_trial(session: Session, user: User, name: str, design: str, spec: dict) -> Trial:
    """A draft trial of the registered ``design`` with parameters ``spec`` (validated now); a design the app
    cannot record patients for (:data:`NOT_RECORDED`) is refused."""
    from adcbridge.dosefinding.registry import design_class
    _require(user, "statistician")
    if design in NOT_RECORDED:
        raise ValueError(f"the conduct app cannot run a {design} trial: it does not record {NOT_RECORDED[design]}; "
                         f"use `adcbridge next --design {design}` with a history file")
    if getattr(design_class(design), "uses_followup", False) and spec.get("dlt_window") is None:
        raise ValueError(f"a {design} trial needs dlt_window, the length of the DLT window in days: the app counts "
                         f"each pending patient's follow-up in days from the dosing date (the design's default, 1, "
                         f"is a simulation's time unit)")
    built = design_class(design)(**spec)
    canonical = json.loads(built.model_dump_json())
    if session.execute(select(Trial).where(Trial.name == name)).scalar_one_or_none() is not None:
        raise Conflict(f"a trial named {name!r} exists")
    trial = Trial(name=name, design_name=design, design_spec=json.dumps(canonical, sort_keys=True),
                  status="draft", version=1, created_by=user.id)
    session.add(trial)
    session.flush()
    append_event(session, actor=user.username, action="create_trial", entity="trial", entity_id=trial.id,
                 after={"name": name, "design": design, "spec": canonical})
    return trial


def activate_trial(session: Session, user: User, trial: Trial) -> Trial:
    """Lock the design (its hash stored) and open enrolment."""
    _require(user, "statistician")
    lock_trial(session, trial)
    if trial.status != "draft":
        raise Conflict(f"trial {trial.name!r} is {trial.status}, not a draft")
    trial.design_hash = _canonical_hash(json.loads(trial.design_spec))
    trial.status, trial.version = "active", trial.version + 1
    append_event(session, actor=user.username, action="activate_trial", entity="trial", entity_id=trial.id,
                 before={"status": "draft"}, after={"status": "active", "design_hash": trial.design_hash})
    return trial


def history_of(session: Session, trial: Trial, today: dt.date | None = None):
    """The trial's patients as the :class:`~adcbridge.dosefinding.History` its design decides on (enrolment
    order), or None.

    The dates (``dosed_on``, ``assessed_on``) are the trial's records, kept for every design, and checked as times
    (days from the first dosing: no assessment before dosing); they are the history's ``dose_time`` and
    ``assess_time`` only for a design that uses times (``uses_times``: TITE-BOIN, BOIN with backfill).  For the
    others the decision's history has no times: :func:`~adcbridge.dosefinding.next_dose` refuses a history column
    its design would ignore, and the decision and its history hash are those of the outcomes the design reads.

    ``today`` (the date of the decision) gives each pending patient of a design with follow-up (TITE-BOIN) the
    fraction of the DLT window completed by then (``History.with_followup``; a date before a dosing or an
    assessment is refused); the history, its hash and the stored decision then depend on that date."""
    from dataclasses import replace

    from adcbridge.dosefinding.history import History
    from adcbridge.dosefinding.history import Patient as HPatient
    rows = session.execute(select(Patient).where(Patient.trial_id == trial.id).order_by(Patient.id)).scalars().all()
    if not rows:
        return None
    start = min((r.dosed_on for r in rows if r.dosed_on), default=None)

    def days(d):
        return None if d is None or start is None else float((d - start).days)
    history = History(tuple(HPatient(r.patient, r.cohort, r.dose, r.dlt, days(r.dosed_on), days(r.assessed_on))
                            for r in rows), time_origin=start.isoformat() if start else None)
    design = _design(trial)
    if getattr(type(design), "uses_times", False):
        if today is not None and getattr(type(design), "uses_followup", False) and \
                any(p.pending for p in history.patients):
            if start is None:
                raise ValueError("the pending patients have no dosing date (dosed_on): the follow-up of the DLT "
                                 "window counts from it")
            history = history.with_followup(days(today), design.dlt_window, now_name=f"the decision date {today}")
        elif getattr(type(design), "uses_followup", False) and start is not None:
            # no one pending: the times are still in the design's window (TITE-BOIN replays its course from them)
            history = replace(history, followup_window=float(design.dlt_window))
        return history
    return History(tuple(replace(p, dose_time=None, assess_time=None) for p in history.patients))


def _confirmed_highest(session: Session, trial: Trial) -> int:
    """The highest dose level an approved decision has opened (the start dose before any decision)."""
    design = _design(trial)
    highest = design.first_dose
    for d in session.execute(select(Decision).where(Decision.trial_id == trial.id, Decision.approved.is_(True))
                             ).scalars():
        nxt = json.loads(d.record).get("next_dose")
        if nxt:
            highest = max(highest, nxt)
    return highest


def enrol_patient(session: Session, user: User, trial: Trial, patient: str, dose: int, *, dlt: bool | None = None,
                  dosed_on: dt.date | None = None, assessed_on: dt.date | None = None,
                  cohort: int | None = None) -> Patient:
    """Enrol a patient at ``dose`` (1-based).  The cohort is the current one while it is not full and at the same
    dose, else the next; a dose above those opened by confirmed escalations, and a new cohort after the design has
    stopped the trial (every dose eliminated, the maximum sample size reached, ...) or while it suspends accrual
    (TITE-BOIN; the pending patients' follow-up counts to the new patient's dosing date, else today's UTC date),
    are refused (:class:`Conflict`)."""
    _require(user, "investigator")
    lock_trial(session, trial)
    if trial.status != "active":
        raise Conflict(f"trial {trial.name!r} is {trial.status}: patients are enrolled in an active trial")
    design = _design(trial)
    if not 1 <= dose <= design.n_doses:
        raise ValueError(f"dose level {dose} is outside 1..{design.n_doses}")
    taken = session.execute(select(Patient).where(Patient.trial_id == trial.id, Patient.patient == patient)
                            ).scalar_one_or_none()
    if taken is not None:
        raise Conflict(f"patient {patient!r} is already enrolled in trial {trial.name!r}")
    opened = _confirmed_highest(session, trial)
    if dose > opened:
        raise Conflict(f"dose level {dose} is not open: the highest dose opened by a confirmed decision is {opened}")
    last = session.execute(select(Patient).where(Patient.trial_id == trial.id).order_by(Patient.id.desc())
                           .limit(1)).scalar_one_or_none()
    if cohort is None:
        size = getattr(design, "cohort_size", 3)
        n_last = 0 if last is None else session.execute(
            select(func.count()).select_from(Patient).where(Patient.trial_id == trial.id,
                                                            Patient.cohort == last.cohort)).scalar_one()
        cohort = 1 if last is None else (last.cohort if (last.dose == dose and n_last < size) else last.cohort + 1)
    if last is not None and cohort > last.cohort:          # a new cohort: only while the design goes on
        from adcbridge.dosefinding import next_dose
        when = dosed_on or dt.datetime.now(dt.UTC).date()  # pending follow-up (TITE-BOIN) counts to this date
        verdict = next_dose(design, history_of(session, trial, when))
        if verdict.decision == "stop":
            raise Conflict(f"trial {trial.name!r} has stopped ({verdict.rule}): {verdict.reason}")
        if (verdict.extra or {}).get("suspend_accrual"):
            raise Conflict(f"trial {trial.name!r}: accrual is suspended on {when.isoformat()} ({verdict.rule}): "
                           f"{verdict.reason}")
    row = Patient(trial_id=trial.id, patient=patient, cohort=cohort, dose=dose, dlt=dlt, dosed_on=dosed_on,
                  assessed_on=assessed_on)
    session.add(row)
    session.flush()
    history_of(session, trial)                 # the patients must still make a valid history (types, order)
    append_event(session, actor=user.username, action="enrol_patient", entity="patient", entity_id=row.id,
                 after={"trial": trial.id, "patient": patient, "cohort": cohort, "dose": dose, "dlt": dlt,
                        "dosed_on": dosed_on, "assessed_on": assessed_on})
    return row


def correct_outcome(session: Session, user: User, trial: Trial, patient: str, dlt: bool | None, reason: str,
                    assessed_on: dt.date | None = None) -> Patient:
    """Enter or correct a patient's DLT outcome; the audit event keeps the value before and the reason."""
    _require(user, "investigator")
    if not reason or not reason.strip():
        raise ValueError("a correction needs its reason")
    lock_trial(session, trial)
    row = session.execute(select(Patient).where(Patient.trial_id == trial.id, Patient.patient == patient)
                          ).scalar_one_or_none()
    if row is None:
        raise LookupError(f"no patient {patient!r} in trial {trial.name!r}")
    before = {"dlt": row.dlt, "assessed_on": row.assessed_on}
    row.dlt, row.assessed_on = dlt, assessed_on or row.assessed_on
    append_event(session, actor=user.username, action="correct_outcome", entity="patient", entity_id=row.id,
                 before=before, after={"dlt": dlt, "assessed_on": row.assessed_on}, reason=reason)
    return row


def decide(session: Session, user: User, trial: Trial, today: dt.date | None = None) -> Decision:
    """The design's decision on the patients so far, stored once per history (asking again on the same patients
    returns the stored decision).  While the last cohort is incomplete there is no decision (:class:`Conflict`):
    a reviewer must not confirm an escalation on part of a cohort.  ``today``: the date of the decision, which sets
    the follow-up of pending patients for a design with follow-up (TITE-BOIN); default the current UTC date."""
    from adcbridge import __version__
    from adcbridge.dosefinding import next_dose
    lock_trial(session, trial)
    if trial.status != "active":
        raise Conflict(f"trial {trial.name!r} is {trial.status}: decisions are made in an active trial")
    today = today or dt.datetime.now(dt.UTC).date()
    history = history_of(session, trial, today)
    if history is None:
        raise Conflict(f"trial {trial.name!r} has no patient yet")
    result = next_dose(_design(trial), history)
    partial = next((i for i in result.issues if i.code == "partial_cohort"), None)
    if partial is not None:                    # a decision is stored (and can be confirmed) for a whole cohort only
        raise Conflict(f"no decision yet: {partial.message.split(':')[0]}; the design decides when the cohort is "
                       f"complete")
    record = result.to_record()
    record.get("provenance", {}).pop("created", None)
    existing = session.execute(select(Decision).where(Decision.trial_id == trial.id,
                                                      Decision.history_hash == history.digest())).scalar_one_or_none()
    if existing is not None:
        return existing
    row = Decision(trial_id=trial.id, record=json.dumps(record, sort_keys=True), design_hash=trial.design_hash,
                   history_hash=history.digest(), library_version=__version__)
    session.add(row)
    session.flush()
    append_event(session, actor=user.username, action="decide", entity="decision", entity_id=row.id,
                 after={"trial": trial.id, "next_dose": record["next_dose"], "decision": record["decision"],
                        "rule": record["rule"], "history_hash": row.history_hash})
    return row


def confirm_decision(session: Session, user: User, decision: Decision, approve: bool, comment: str | None = None
                     ) -> Decision:
    """A safety reviewer confirms (or rejects) a decision; each decision is reviewed once."""
    _require(user, "safety-reviewer")
    lock_trial(session, session.get(Trial, decision.trial_id))
    session.refresh(decision)
    if decision.approved is not None:
        raise Conflict(f"decision {decision.id} was already {'approved' if decision.approved else 'rejected'}")
    decision.approved, decision.reviewed_by = bool(approve), user.id
    append_event(session, actor=user.username, action="confirm_decision" if approve else "reject_decision",
                 entity="decision", entity_id=decision.id, before={"approved": None},
                 after={"approved": bool(approve)}, reason=comment)
    return decision


def trial_events(session: Session, trial_id: int) -> list:
    """The audit events of one trial (its own, its patients' and its decisions'), in order."""
    from .models import Event
    mine = {("trial", str(trial_id))}
    mine |= {("patient", str(i)) for i in session.execute(select(Patient.id).where(Patient.trial_id == trial_id))
             .scalars()}
    mine |= {("decision", str(i)) for i in
             session.execute(select(Decision.id).where(Decision.trial_id == trial_id)).scalars()}
    return [e for e in session.execute(select(Event).order_by(Event.id)).scalars() if (e.entity, e.entity_id) in mine]
