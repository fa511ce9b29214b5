"""The conduct app and the history columns a design does not use (SQLite; PostgreSQL where the server is set).

A trial's dates (``dosed_on``, ``assessed_on``) are its records for every design; they become the history's
``dose_time`` / ``assess_time`` only for a design that uses times (TITE-BOIN, BOIN with backfill), so a BOIN
decision is taken -- and hashed -- on the outcomes BOIN reads.  The decision goes through ``next_dose``, which
refuses a history column its design would ignore: the API answers 422 naming the column.  Fields the app does not
record (``efficacy``, ``followup``) are refused with 422 naming them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from adcbridge.conduct import services as sv
from adcbridge.conduct.db import connect, session_factory
from adcbridge.conduct.models import Patient
from adcbridge.dosefinding import History, NextDose
from tests.app.conduct_setup import PASSWORD, new_database

pytest.importorskip("httpx")                      # TestClient needs it (the test extra)



SPEC = {"target": 0.3, "n_doses": 5, "dose_levels": [1.0, 2.1, 4.2, 5.2, 6.3], "cohort_size": 3, "n_cohorts": 10}
DESIGN = {"name": "boin", "target": 0.3, "doses": [1.0, 2.1, 4.2, 5.2, 6.3], "cohort_size": 3, "cohorts": 10}


@pytest.fixture
def db(conduct_url):
    url = new_database(conduct_url)
    engine = connect(url)
    make = session_factory(engine)
    with make() as s:
        users = {u.role: u for u in s.query(sv.User).all()}
    yield make, users
    engine.dispose()


def _auth(client, username):
    r = client.post("/api/token", data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _trial(make, users, design: str, patients) -> int:
    """An active trial of ``design`` with ``patients`` (id, dose, dlt, dosed_on day, assessed_on day) enrolled."""
    with make.begin() as s:
        spec = {**SPEC, "dlt_window": 28} if design == "tite-boin" else SPEC
        trial = sv.create_trial(s, users["statistician"], f"T-{design}", design, spec)
        sv.activate_trial(s, users["statistician"], trial)
        for pid, dose, dlt, dosed, assessed in patients:
            sv.enrol_patient(s, users["investigator"], trial, pid, dose, dlt=dlt,
                             dosed_on=dt.date(2026, 1, dosed) if dosed else None,
                             assessed_on=dt.date(2026, 1, assessed) if assessed else None)
        return trial.id


COHORT = [("P001", 1, False, 5, 30), ("P002", 1, False, 6, 30), ("P003", 1, False, 8, 31)]


def test_a_boin_decision_is_taken_on_the_outcomes_boin_reads(db):
    make, users = db
    trial_id = _trial(make, users, "boin", COHORT)
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        record = json.loads(sv.decide(s, users["statistician"], trial).record)
        assert (record["decision"], record["next_dose"]) == ("escalate", 2)
        assert [(p["dose_time"], p["assess_time"]) for p in record["history"]] == [(None, None)] * 3
        assert NextDose.check_record(record) == []
        dates = [(r.dosed_on.day, r.assessed_on.day) for r in s.query(Patient).order_by(Patient.id)]
        assert dates == [(5, 30), (6, 30), (8, 31)]                   # the dates stay the trial's records


def test_the_dates_are_still_checked_for_a_design_without_times(db):
    make, users = db
    with pytest.raises(ValueError, match=r"column 'assess_time', patient row 1 \(patient 'P001'\): a DLT marked "
                                         r"before dosing"):
        _trial(make, users, "boin", [("P001", 1, True, 10, 5)])


def test_a_design_that_uses_times_gets_the_dates_as_times(db):
    make, users = db
    trial_id = _trial(make, users, "tite-boin", COHORT)
    with make() as s:
        history = sv.history_of(s, s.get(sv.Trial, trial_id))
    assert [(p.dose_time, p.assess_time) for p in history.patients] == [(0.0, 25.0), (1.0, 25.0), (3.0, 26.0)]


def test_the_decision_refuses_a_column_its_design_does_not_use(client, monkeypatch):
    stat, inv = _auth(client, "statistician"), _auth(client, "investigator")
    tid = client.post("/api/trials", json={"name": "T", "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    for k in range(1, 4):
        r = client.post(f"/api/trials/{tid}/patients", json={"patient": f"P00{k}", "dose": 1, "dlt": False,
                                                              "dosed_on": "2026-01-05"}, headers=inv)
        assert r.status_code == 201
    history_of = sv.history_of

    def with_efficacy(session, trial, today=None):                # a history that carries a column BOIN ignores
        h = history_of(session, trial)
        return History((h.patients[0], replace(h.patients[1], efficacy=True)) + h.patients[2:])
    monkeypatch.setattr(sv, "history_of", with_efficacy)
    r = client.get(f"/api/trials/{tid}/decision", headers=inv)
    assert r.status_code == 422
    assert r.json()["detail"] == ("column 'efficacy', patient row 2 (patient 'P002'): boin does not use efficacy "
                                  "outcomes (boin-backfill or boin12 do): remove the column or leave it empty")


@pytest.mark.parametrize("field,value", [("efficacy", True), ("followup", 0.5), ("dose_time", 3)])
def test_the_api_refuses_outcome_fields_it_does_not_record(client, field, value):
    stat, inv = _auth(client, "statistician"), _auth(client, "investigator")
    tid = client.post("/api/trials", json={"name": "T", "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    r = client.post(f"/api/trials/{tid}/patients", json={"patient": "P001", "dose": 1, "dlt": None, field: value},
                    headers=inv)
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", field]]
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": "P001", "dose": 1, "dlt": None},
                       headers=inv).status_code == 201
    r = client.patch(f"/api/trials/{tid}/patients/P001", json={"dlt": False, "reason": "assessed", field: value},
                     headers=inv)
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["body", field]]


CANNOT_RECORD = pytest.mark.parametrize("design, spec, words", [
    ("boin12", {"target": 0.3, "efficacy_min": 0.25, "n_doses": 4}, "efficacy outcome"),
    ("comb-boin", {"target": 0.3, "grid": [2, 3]}, "agents A and B"),
    ("boin-backfill", {"target": 0.3, "n_doses": 4}, "backfill cohort"),
])


@CANNOT_RECORD
def test_a_design_whose_patients_the_app_cannot_record_is_refused_when_created(db, design, spec, words):
    """BOIN12 needs each patient's efficacy and comb-BOIN two dose levels, which the app does not record: such a
    trial used to be created, activated and enrolled, and then every decision failed.  It is refused at once, and
    nothing is written."""
    make, users = db
    with make.begin() as s, pytest.raises(ValueError, match=f"cannot run a {design} trial: .*{words}"):
        sv.create_trial(s, users["statistician"], "T-x", design, spec)
    with make() as s:
        assert s.query(sv.Trial).count() == 0


@CANNOT_RECORD
def test_the_api_refuses_such_a_trial_with_422(client, design, spec, words):
    r = client.post("/api/trials", headers=_auth(client, "statistician"),
                    json={"name": "T-y", "design": {"name": design, "target": 0.3, "doses": [1, 2, 3], "options": {}}})
    assert r.status_code == 422 and f"cannot run a {design} trial" in r.json()["detail"] and words in \
        r.json()["detail"]


TITE = {**SPEC, "dlt_window": 28}
PENDING = [("P001", 1, False, 2, 30), ("P002", 1, None, 10, None), ("P003", 1, None, 24, None)]


def test_a_tite_boin_decision_counts_the_pending_patients_follow_up_to_the_decision_date(db):
    """Pending patients enter TITE-BOIN through the fraction of the 28-day window completed by the decision date
    (days from each dosing date): on 2026-02-01, dosed 2026-01-10 and 2026-01-24, that is 22/28 and 8/28; the
    stored decision replays, and another date is another history (and decision)."""
    make, users = db
    trial_id = _tite_trial(make, users, PENDING)
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        first = sv.decide(s, users["statistician"], trial, today=dt.date(2026, 2, 1))
        record = json.loads(first.record)
        assert [p.get("followup") for p in record["history"]] == [None, pytest.approx(22 / 28), pytest.approx(8 / 28)]
        assert NextDose.check_record(record) == []
        later = sv.decide(s, users["statistician"], trial, today=dt.date(2026, 2, 5))
        assert later.id != first.id and later.history_hash != first.history_hash
        assert [p.get("followup") for p in json.loads(later.record)["history"]][1:] == [pytest.approx(26 / 28),
                                                                                      pytest.approx(12 / 28)]
        with pytest.raises(ValueError, match=r"patient 'P001'\): assessed on 2026-01-30, after the decision date "
                                             r"2026-01-20"):
            sv.decide(s, users["statistician"], trial, today=dt.date(2026, 1, 20))


def test_a_tite_boin_trial_must_state_its_dlt_window_in_days(db):
    make, users = db
    with make.begin() as s, pytest.raises(ValueError, match="needs dlt_window, the length of the DLT window in days"):
        sv.create_trial(s, users["statistician"], "T-tite", "tite-boin", SPEC)


def _tite_trial(make, users, patients):
    with make.begin() as s:
        trial = sv.create_trial(s, users["statistician"], "T-tite", "tite-boin", TITE)
        sv.activate_trial(s, users["statistician"], trial)
        for pid, dose, dlt, dosed, assessed in patients:
            sv.enrol_patient(s, users["investigator"], trial, pid, dose, dlt=dlt, dosed_on=dt.date(2026, 1, dosed),
                             assessed_on=dt.date(2026, 1, assessed) if assessed else None)
        return trial.id


def test_a_tite_boin_trial_enrols_the_next_cohort_while_patients_are_pending(db):
    """The check that the design goes on before a new cohort counts the pending patients' follow-up to the new
    patient's dosing date (it used to refuse, asking for a follow-up fraction the app cannot hold)."""
    make, users = db
    cohort = [("P001", 1, False, 1, 29), ("P002", 1, False, 2, 30), ("P003", 1, None, 4, None)]
    trial_id = _tite_trial(make, users, cohort)
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        row = sv.enrol_patient(s, users["investigator"], trial, "P004", 1, dosed_on=dt.date(2026, 1, 31))
        assert row.cohort == 2


def test_a_tite_boin_trial_refuses_a_new_cohort_while_accrual_is_suspended(db):
    """TITE-BOIN suspends accrual while more than max_pending (half) of the patients at the current dose are
    pending: with 1 of 3 known (a DLT), a fourth patient on 2026-01-06 is refused (409), naming the rule; once the
    outcomes are in, the same patient is enrolled."""
    make, users = db
    cohort = [("P001", 1, True, 2, 5), ("P002", 1, None, 3, None), ("P003", 1, None, 4, None)]
    trial_id = _tite_trial(make, users, cohort)
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        with pytest.raises(sv.Conflict, match=r"accrual is suspended on 2026-01-06 \(suspend_accrual\): .*more than "
                                              r"0.5 x 3 patients are pending"):
            sv.enrol_patient(s, users["investigator"], trial, "P004", 1, dosed_on=dt.date(2026, 1, 6))
    with make.begin() as s:
        trial = s.get(sv.Trial, trial_id)
        for pid in ("P002", "P003"):
            sv.correct_outcome(s, users["investigator"], trial, pid, False, "outcome entered",
                               assessed_on=dt.date(2026, 2, 1))
        row = sv.enrol_patient(s, users["investigator"], trial, "P004", 1, dosed_on=dt.date(2026, 2, 2))
        assert row.cohort == 2


def test_a_tite_boin_history_without_pending_patients_keeps_its_window(db):
    """The course is replayed from the dates only with the window they are in: found set only while someone was
    pending, so a trial with every outcome in was never checked."""
    make, users = db
    trial_id = _tite_trial(make, users, [("P001", 1, False, 1, 29), ("P002", 1, False, 2, 30)])
    with make() as s:
        trial = s.get(sv.Trial, trial_id)
        assert sv.history_of(s, trial, dt.date(2026, 2, 1)).followup_window == 28
        assert sv.history_of(s, trial, None).followup_window == 28
