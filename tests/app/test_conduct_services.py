"""A live trial on the conduct database (SQLite and PostgreSQL): roles, the locked design, enrolment, decisions that
replay, confirmed escalations, corrections as events, and the whole audit chain."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from adcbridge.conduct import services as sv
from adcbridge.conduct.audit import verify_chain
from adcbridge.conduct.db import connect, session_factory, upgrade
from adcbridge.conduct.models import Event, Patient
from adcbridge.conduct.users import create_user
from adcbridge.dosefinding import NextDose

BOIN = {"target": 0.3, "n_doses": 5, "dose_levels": [1.0, 2.1, 4.2, 5.2, 6.3], "cohort_size": 3, "n_cohorts": 10}


@pytest.fixture
def trial_db(conduct_url):
    url = conduct_url
    upgrade(url)
    engine = connect(url)
    make = session_factory(engine)
    with make.begin() as s:
        users = {role: create_user(s, role.replace("-", "_"), role, "a long password 123")
                 for role in ("statistician", "investigator", "safety-reviewer", "viewer")}
    yield make, users
    engine.dispose()


def _enrol(make, users, trial_id, ids, dose, dlts):
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        for pid, dlt in zip(ids, dlts):
            sv.enrol_patient(s, users["investigator"], trial, pid, dose, dlt=dlt, dosed_on=dt.date(2026, 1, 5))


def _active_trial(make, users, name: str) -> int:
    """A BOIN trial created and activated by the statistician; its id."""
    with make.begin() as s:
        trial = sv.create_trial(s, users["statistician"], name, "boin", BOIN)
        sv.activate_trial(s, users["statistician"], trial)
        return trial.id


def test_a_cohort_a_decision_a_confirmation(trial_db):
    make, users = trial_db
    with make.begin() as s:
        with pytest.raises(sv.PermissionDenied, match="viewer .viewer. may not do this"):
            sv.create_trial(s, users["viewer"], "JSKN003-101", "boin", BOIN)
    with make.begin() as s:
        trial = sv.create_trial(s, users["statistician"], "JSKN003-101", "boin", BOIN)
        sv.activate_trial(s, users["statistician"], trial)
        trial_id = trial.id
        assert len(trial.design_hash) == 64 and trial.status == "active"
    _enrol(make, users, trial_id, ["P001", "P002", "P003"], 1, [False, False, False])
    with make.begin() as s, pytest.raises(sv.Conflict, match="dose level 2 is not open"):
        sv.enrol_patient(s, users["investigator"], s.get(sv.Trial, trial_id), "P004", 2, dlt=False)
    with make.begin() as s:
        d = sv.decide(s, users["statistician"], s.get(sv.Trial, trial_id))
        record = json.loads(d.record)
        assert (record["decision"], record["next_dose"]) == ("escalate", 2)
        assert NextDose.check_record(record) == []                      # the stored decision replays
        assert sv.decide(s, users["statistician"], s.get(sv.Trial, trial_id)).id == d.id   # once per history
        with pytest.raises(sv.PermissionDenied):
            sv.confirm_decision(s, users["investigator"], d, True)
        sv.confirm_decision(s, users["safety-reviewer"], d, True, "3 patients, no DLT")
        with pytest.raises(sv.Conflict, match="already approved"):
            sv.confirm_decision(s, users["safety-reviewer"], d, True)
    _enrol(make, users, trial_id, ["P004", "P005", "P006"], 2, [False, True, False])
    with make.begin() as s:
        rows = s.query(Patient).order_by(Patient.id).all()
        assert [r.cohort for r in rows] == [1, 1, 1, 2, 2, 2]
        with pytest.raises(sv.Conflict, match="already enrolled"):
            sv.enrol_patient(s, users["investigator"], s.get(sv.Trial, trial_id), "P001", 2, dlt=False)
    with make.begin() as s:
        sv.correct_outcome(s, users["investigator"], s.get(sv.Trial, trial_id), "P005", False,
                           "DLT adjudicated as not treatment-related")
        record = json.loads(sv.decide(s, users["statistician"], s.get(sv.Trial, trial_id)).record)
        assert (record["decision"], record["next_dose"]) == ("escalate", 3)
    with make() as s:
        report = verify_chain(s)
        assert report.ok and report.events == 4 + 2 + 6 + 4               # users, trial, patients, decisions...
        correction = s.query(Event).filter(Event.action == "correct_outcome").one()
        assert json.loads(correction.before)["dlt"] is True and json.loads(correction.after)["dlt"] is False
        assert correction.reason.startswith("DLT adjudicated")


def test_a_failed_request_leaves_no_row_and_no_event(trial_db):
    make, users = trial_db
    with make.begin() as s:
        trial = sv.create_trial(s, users["statistician"], "T", "boin", BOIN)
        sv.activate_trial(s, users["statistician"], trial)
        trial_id = trial.id
    with make() as s:
        before = s.query(Event).count()
    with pytest.raises(ValueError, match="outside 1..5"), make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        sv.enrol_patient(s, users["investigator"], trial, "P001", 1, dlt=False)
        sv.enrol_patient(s, users["investigator"], trial, "P002", 9, dlt=False)
    with make() as s:
        assert s.query(Patient).count() == 0 and s.query(Event).count() == before


def test_a_design_that_is_not_valid_is_refused_before_any_row(trial_db):
    make, users = trial_db
    with pytest.raises(ValueError, match="target"), make.begin() as s:
        sv.create_trial(s, users["statistician"], "bad", "boin", {**BOIN, "target": 0.9})
    with pytest.raises(ValueError, match="registered designs"), make.begin() as s:
        sv.create_trial(s, users["statistician"], "bad", "tite", BOIN)


def test_no_new_cohort_after_the_design_stopped_the_trial(trial_db):
    make, users = trial_db
    trial_id = _active_trial(make, users, "toxic")
    _enrol(make, users, trial_id, ["P1", "P2", "P3"], 1, [True, True, True])
    with make.begin() as s:
        assert json.loads(sv.decide(s, users["viewer"], s.get(sv.Trial, trial_id)).record)["decision"] == "stop"
    with pytest.raises(sv.Conflict, match=r"trial 'toxic' has stopped \(eliminate\): 3/3 DLTs at dose 1"):
        _enrol(make, users, trial_id, ["P4"], 1, [False])
    with make.begin() as s:                       # a DLT adjudicated as unrelated: the trial goes on
        sv.correct_outcome(s, users["investigator"], s.get(sv.Trial, trial_id), "P3", False, "not related")
    _enrol(make, users, trial_id, ["P4"], 1, [False])
    with make() as s:
        assert [p.cohort for p in s.query(Patient).order_by(Patient.id)] == [1, 1, 1, 2]


def test_an_earlier_short_cohort_does_not_block_later_decisions(trial_db):
    """Found: the note about an earlier cohort of 2 (one patient not evaluable, not replaced) was read as "the
    last cohort is incomplete", and every later decision was refused."""
    make, users = trial_db
    trial_id = _active_trial(make, users, "SHORT-1")
    _enrol(make, users, trial_id, ["P1", "P2", "P3"], 1, [False, False, False])
    with make.begin() as s:
        d = sv.decide(s, users["statistician"], s.get(sv.Trial, trial_id))
        sv.confirm_decision(s, users["safety-reviewer"], d, True)
    _enrol(make, users, trial_id, ["P4", "P5"], 2, [True, False])              # P6 never evaluable
    _enrol(make, users, trial_id, ["P7", "P8", "P9"], 1, [False, False, False])  # the next cohort, at dose 1
    with make.begin() as s:
        record = json.loads(sv.decide(s, users["statistician"], s.get(sv.Trial, trial_id)).record)
    assert record["decision"] in ("escalate", "stay", "de-escalate")
    assert [i["code"] for i in record["issues"]] == ["short_cohort"]
