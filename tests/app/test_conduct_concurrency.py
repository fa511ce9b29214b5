"""Concurrent requests on the conduct database, SQLite and PostgreSQL: investigators entering the last patient of a
cohort at the same moment get one cohort of the design's size, one decision per history, no patient lost or
duplicated and one audit chain; two enrolments of the same patient id give one success and one refusal (201 and 409
over HTTP); an error in the middle of a request leaves no row.  The threads start together at a barrier, each with
its own session (services) or its own HTTP connection to a real uvicorn server on loopback."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from adcbridge.conduct import services as sv
from adcbridge.conduct.audit import verify_chain
from adcbridge.conduct.db import connect, session_factory
from adcbridge.conduct.models import Decision, Event, Patient, Trial, User
from tests.app.conduct_setup import PASSWORD, new_database

BOIN = {"target": 0.3, "n_doses": 5, "dose_levels": [1.0, 2.1, 4.2, 5.2, 6.3], "cohort_size": 3, "n_cohorts": 20}


def together(jobs):
    """Run the callables in threads started at one barrier; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(jobs))
    out = [None] * len(jobs)

    def work(k):
        barrier.wait()
        try:
            out[k] = jobs[k]()
        except Exception as exc:  # noqa: BLE001 - the outcome is checked by the test
            out[k] = exc
    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for k, t in enumerate(threads):
        t.join(timeout=120)
        if t.is_alive():
            out[k] = TimeoutError(f"job {k} still running after 120 s")
    return out


@pytest.fixture
def live(conduct_url):
    """A migrated database with a user per role and an active BOIN trial; yields (session factory, users, trial
    id)."""
    url = new_database(conduct_url)
    engine = connect(url)
    make = session_factory(engine)
    with make.begin() as s:
        users = {u.role: u for u in s.query(User)}
        trial = sv.create_trial(s, users["statistician"], "race", "boin", BOIN)
        sv.activate_trial(s, users["statistician"], trial)
        trial_id = trial.id
    yield make, users, trial_id
    engine.dispose()


def _enrol(make, user, trial_id, patient, dose=1, dlt=False):
    def job():
        with make.begin() as s:
            return sv.enrol_patient(s, user, s.get(Trial, trial_id), patient, dose, dlt=dlt).id
    return job


def _decide(make, user, trial_id):
    def job():
        with make.begin() as s:
            return sv.decide(s, user, s.get(Trial, trial_id)).id
    return job


def _check_trial(make, trial_id, cohort_size=3):
    """Cohorts never over the design's size and numbered in order; one decision per history, each on whole
    cohorts; one enrolment event per patient; the audit chain whole."""
    with make() as s:
        rows = s.query(Patient).filter(Patient.trial_id == trial_id).order_by(Patient.id).all()
        sizes = Counter(r.cohort for r in rows)
        assert max(sizes.values()) <= cohort_size and sorted(sizes) == list(range(1, len(sizes) + 1))
        assert [r.cohort for r in rows] == sorted(r.cohort for r in rows)
        assert all(sizes[c] == cohort_size for c in sorted(sizes)[:-1])
        decisions = s.query(Decision).filter(Decision.trial_id == trial_id).all()
        assert len({d.history_hash for d in decisions}) == len(decisions)
        for d in decisions:
            history = json.loads(d.record)["history"]
            assert Counter(p["cohort"] for p in history)[history[-1]["cohort"]] == cohort_size
        enrolled = [json.loads(e.after)["patient"] for e in s.query(Event).filter(Event.action == "enrol_patient")
                    if json.loads(e.after)["trial"] == trial_id]
        assert sorted(enrolled) == sorted(r.patient for r in rows)
        report = verify_chain(s)
        assert report.ok, report
    return rows, decisions


def test_the_last_patient_of_a_cohort_entered_at_the_same_moment(live):
    make, users, trial_id = live
    inv = users["investigator"]
    for r in range(3):                                 # three cohorts, each raced at its last place
        out = together([_enrol(make, inv, trial_id, f"C{r}-{k}") for k in (1, 2)])
        assert all(isinstance(x, int) for x in out), out
        out = together([_enrol(make, inv, trial_id, f"C{r}-last-{k}") for k in range(4)]
                       + [_decide(make, users[role], trial_id) for role in ("viewer", "safety-reviewer")] * 2)
        assert all(isinstance(x, int) for x in out[:4]), out[:4]       # every enrolment went through
        assert all(isinstance(x, (int, sv.Conflict)) for x in out[4:]), out[4:]
    rows, decisions = _check_trial(make, trial_id)
    assert len(rows) == 18                             # 3 x (2 + 4): none lost, none duplicated
    assert 1 <= len(decisions) <= 6


def test_the_same_patient_twice_at_the_same_moment(live):
    make, users, trial_id = live
    for k in range(4):
        out = together([_enrol(make, users["investigator"], trial_id, f"P{k}")] * 3)
        assert sum(isinstance(x, int) for x in out) == 1, out
        assert all(isinstance(x, (sv.Conflict,)) for x in out if not isinstance(x, int)), out
    rows, _ = _check_trial(make, trial_id)
    assert [r.patient for r in rows] == ["P0", "P1", "P2", "P3"]


def test_one_decision_per_history_when_many_ask_at_once(live):
    make, users, trial_id = live
    for k in range(3):
        _enrol(make, users["investigator"], trial_id, f"P{k}")()
    out = together([_decide(make, users["viewer"], trial_id) for _ in range(6)])
    assert len(set(out)) == 1 and isinstance(out[0], int), out
    with make() as s:
        assert s.query(Decision).count() == 1 and s.query(Event).filter(Event.action == "decide").count() == 1


def test_one_audit_chain_under_writes_to_different_trials(live):
    """Writes to different trials do not wait for each other's trial lock, yet their events make one chain."""
    make, users, trial_id = live
    with make.begin() as s:
        others = [sv.create_trial(s, users["statistician"], f"other {k}", "boin", BOIN) for k in range(3)]
        for trial in others:
            sv.activate_trial(s, users["statistician"], trial)
        ids = [trial_id] + [t.id for t in others]
    for r in range(3):
        out = together([_enrol(make, users["investigator"], tid, f"P{r}") for tid in ids])
        assert all(isinstance(x, int) for x in out), out
    with make() as s:
        report = verify_chain(s)
        assert report.ok and report.events == 5 + 2 + 6 + 12, report


def test_an_error_in_the_middle_of_a_request_leaves_no_row(live):
    make, users, trial_id = live
    with make() as s:
        events = s.query(Event).count()
    with pytest.raises(ValueError, match="outside 1..5"), make.begin() as s:
        trial = s.get(Trial, trial_id)
        sv.enrol_patient(s, users["investigator"], trial, "P1", 1, dlt=False)
        sv.enrol_patient(s, users["investigator"], trial, "P2", 9, dlt=False)
    with make() as s:
        assert s.query(Patient).count() == 0 and s.query(Event).count() == events
        assert verify_chain(s).ok


# -- over HTTP: a real uvicorn server on loopback ------------------------------------------------------------------

@pytest.fixture
def server(conduct_url):
    """`create_app` served by uvicorn in a thread on a free loopback port; yields (base URL, database URL)."""
    from tests.app.conduct_server import serve
    url = new_database(conduct_url)
    with serve(url) as base:
        yield base, url


def _token(http, base, username):
    r = http.post(f"{base}/api/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_racing_requests_over_http(server):
    import httpx
    base, url = server
    with httpx.Client(timeout=60) as http:
        stat, inv, rev = (_token(http, base, u) for u in ("statistician", "investigator", "safety_reviewer"))
        design = {"name": "boin", "target": 0.3, "doses": BOIN["dose_levels"], "cohort_size": 3, "cohorts": 20}
        tid = http.post(f"{base}/api/trials", json={"name": "race", "design": design}, headers=stat).json()["id"]
        assert http.post(f"{base}/api/trials/{tid}/activate", headers=stat).status_code == 200
        for k in (1, 2):
            assert http.post(f"{base}/api/trials/{tid}/patients", json={"patient": f"P{k}", "dose": 1, "dlt": False},
                             headers=inv).status_code == 201

    def call(method, path, headers, body=None):
        def job():
            with httpx.Client(timeout=60) as c:
                return c.request(method, f"{base}{path}", json=body, headers=headers).status_code
        return job
    enrol = [call("POST", f"/api/trials/{tid}/patients", inv, {"patient": f"L{k}", "dose": 1, "dlt": False})
             for k in range(3)]
    same = [call("POST", f"/api/trials/{tid}/patients", inv, {"patient": "SAME", "dose": 1, "dlt": False})] * 2
    ask = [call("GET", f"/api/trials/{tid}/decision", rev)] * 3
    out = together(enrol + same + ask)
    assert out[:3] == [201, 201, 201], out
    assert sorted(out[3:5]) == [201, 409], out
    assert all(status in (200, 409) for status in out[5:]), out
    engine = connect(url)
    try:
        rows, _ = _check_trial(session_factory(engine), tid)
        assert sorted(r.patient for r in rows) == ["L0", "L1", "L2", "P1", "P2", "SAME"]
    finally:
        engine.dispose()
