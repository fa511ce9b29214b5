"""The conduct API (FastAPI TestClient on a fresh database per test, SQLite and PostgreSQL): the contract of issue 15
on a BOIN trial, and the error statuses (401, 403, 404, 409, 422, 429)."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx")                      # TestClient needs it (the test extra)


from tests.app.conduct_setup import PASSWORD, new_database  # noqa: E402

DESIGN = {"name": "boin", "target": 0.3, "doses": [1.0, 2.1, 4.2, 5.2, 6.3], "cohort_size": 3, "cohorts": 10}


def _auth(client, username):
    r = client.post("/api/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_the_contract_on_a_boin_trial(client):
    stat, inv, rev = _auth(client, "statistician"), _auth(client, "investigator"), _auth(client, "safety_reviewer")
    r = client.post("/api/trials", json={"name": "JSKN003-101", "design": DESIGN}, headers=stat)
    assert r.status_code == 201
    tid = r.json()["id"]
    assert client.post(f"/api/trials/{tid}/activate", headers=stat).json()["status"] == "active"
    for k in range(1, 4):
        if k > 1:                                  # no decision on part of a cohort
            r = client.get(f"/api/trials/{tid}/decision", headers=inv)
            assert r.status_code == 409 and "has 1 of 3 patients" in r.json()["detail"] or k == 3
        r = client.post(f"/api/trials/{tid}/patients", json={"patient": f"P00{k}", "dose": 1, "dlt": False,
                                                              "dosed_on": "2026-01-05"}, headers=inv)
        assert r.status_code == 201
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": "P001", "dose": 1, "dlt": False},
                       headers=inv).status_code == 409                              # a repeated patient id
    d = client.get(f"/api/trials/{tid}/decision", headers=inv).json()
    assert (d["design"], d["decision"], d["next_dose"]) == ("boin", "escalate", 2) and d["decision_id"] >= 1
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": "P004", "dose": 2, "dlt": False},
                       headers=inv).status_code == 409                              # not confirmed yet
    r = client.post(f"/api/trials/{tid}/decisions/{d['decision_id']}/confirm",
                    json={"approve": True, "comment": "0/3"}, headers=rev)
    assert r.status_code == 200 and r.json()["approved"] is True
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": "P004", "dose": 2, "dlt": True},
                       headers=inv).status_code == 201
    r = client.patch(f"/api/trials/{tid}/patients/P004", json={"dlt": False, "reason": "not related"}, headers=inv)
    assert r.status_code == 200
    patients = client.get(f"/api/trials/{tid}/patients", headers=rev).json()
    assert [p["patient"] for p in patients] == ["P001", "P002", "P003", "P004"] and patients[3]["dlt"] is False
    audit = client.get(f"/api/trials/{tid}/audit", headers=stat).json()
    assert [e["action"] for e in audit][:2] == ["create_trial", "activate_trial"]
    assert any(e["action"] == "correct_outcome" and e["reason"] == "not related" for e in audit)


def test_error_statuses(client):
    stat, inv, viewer = _auth(client, "statistician"), _auth(client, "investigator"), _auth(client, "viewer")
    assert client.post("/api/trials", json={"name": "x", "design": DESIGN}).status_code == 401
    assert client.post("/api/trials", json={"name": "x", "design": DESIGN},
                       headers={"Authorization": "Bearer forged"}).status_code == 401
    assert client.post("/api/trials", json={"name": "x", "design": DESIGN}, headers=inv).status_code == 403
    r = client.post("/api/trials", json={"name": "x", "design": {**DESIGN, "target": 0.9}}, headers=stat)
    assert r.status_code == 422 and "target" in r.json()["detail"]
    r = client.post("/api/trials", json={"name": "x", "design": DESIGN, "colour": "red"}, headers=stat)
    assert r.status_code == 422 and "colour" in str(r.json()["detail"])
    assert client.get("/api/trials/999/patients", headers=viewer).status_code == 404
    tid = client.post("/api/trials", json={"name": "x", "design": DESIGN}, headers=stat).json()["id"]
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": "P1", "dose": 1},
                       headers=inv).status_code == 409                              # a draft trial
    assert client.get(f"/api/trials/{tid}/audit", headers=viewer).status_code == 403
    for _ in range(5):
        assert client.post("/api/token", data={"username": "viewer", "password": "wrong"}).status_code == 401
    assert client.post("/api/token", data={"username": "viewer", "password": PASSWORD}).status_code == 429


def test_script_strings_are_stored_as_given_and_returned_as_data(client):
    stat, inv = _auth(client, "statistician"), _auth(client, "investigator")
    name = "<script>alert(1)</script>'; DROP TABLE patients; --"
    tid = client.post("/api/trials", json={"name": name, "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    assert client.post(f"/api/trials/{tid}/patients", json={"patient": name[:60], "dose": 1, "dlt": False},
                       headers=inv).status_code == 201
    assert client.get(f"/api/trials/{tid}/patients", headers=inv).json()[0]["patient"] == name[:60]


def test_serve_refuses_a_public_address_without_secure_cookies(capsys):
    from tests.clirun import run
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and "not a loopback address" in err and "--secure-cookies" in err


def test_serve_answers_on_loopback(conduct_url):
    """The real server: `adcbridge serve` in a process, a login over HTTP on loopback."""
    import socket
    import subprocess
    import sys
    import time

    import httpx
    url = new_database(conduct_url, roles=("viewer",))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "adcbridge", "serve", "--db", url, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/api/token", data={"username": "viewer", "password": PASSWORD})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer")
        assert r.status_code == 200 and r.json()["token_type"] == "bearer"
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"].startswith("adcbridge")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_exports_csv_and_decision_log(client):
    stat, inv, rev = _auth(client, "statistician"), _auth(client, "investigator"), _auth(client, "safety_reviewer")
    tid = client.post("/api/trials", json={"name": "T<1>", "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    for k, dlt in enumerate([False, True, None], start=1):
        client.post(f"/api/trials/{tid}/patients", json={"patient": f"P{k}", "dose": 1, "dlt": dlt,
                                                         "dosed_on": "2026-01-05"}, headers=inv)
    text = client.get(f"/api/trials/{tid}/export.csv", headers=rev).text
    lines = text.splitlines()
    assert lines[0] == "STUDYID,USUBJID,COHORT,DOSELVL,DOSE,DOSEU,DLTFL,EXSTDTC,DLTASDTC"
    assert lines[1:] == ["T<1>,P1,1,1,1,mg/kg,N,2026-01-05,", "T<1>,P2,1,1,1,mg/kg,Y,2026-01-05,",
                         "T<1>,P3,1,1,1,mg/kg,,2026-01-05,"]
    client.patch(f"/api/trials/{tid}/patients/P3", json={"dlt": False, "reason": "assessed"}, headers=inv)
    d = client.get(f"/api/trials/{tid}/decision", headers=inv).json()
    client.post(f"/api/trials/{tid}/decisions/{d['decision_id']}/confirm", json={"approve": True}, headers=rev)
    page = client.get(f"/api/trials/{tid}/decisions.html", headers=rev).text
    assert "Decision log: T&lt;1&gt;" in page and "approved safety_reviewer" in page and d["rule"] in page


def test_the_decision_log_as_pdf(client):
    import io

    from pypdf import PdfReader
    stat, inv, rev = _auth(client, "statistician"), _auth(client, "investigator"), _auth(client, "safety_reviewer")
    tid = client.post("/api/trials", json={"name": "JSKN003-101 <b>", "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    r = client.get(f"/api/trials/{tid}/decisions.pdf", headers=rev)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "No decision has been made yet" in PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    decisions = []
    for cohort, (dose, dlts) in enumerate([(1, [False] * 3), (2, [False, True, False])]):
        for k, dlt in enumerate(dlts):
            client.post(f"/api/trials/{tid}/patients", json={"patient": f"P{cohort}{k}", "dose": dose, "dlt": dlt},
                        headers=inv)
        decisions.append(client.get(f"/api/trials/{tid}/decision", headers=inv).json())
        client.post(f"/api/trials/{tid}/decisions/{decisions[-1]['decision_id']}/confirm",
                    json={"approve": cohort == 0, "comment": f"meeting {cohort + 1}"}, headers=rev)
    r = client.get(f"/api/trials/{tid}/decisions.pdf", headers=inv)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert reader.metadata.title == "Decision log: JSKN003-101 <b>" and "Decision log: JSKN003-101 <b>" in text
    assert "2 decisions" in text and "approved" in text and "rejected" in text and "meeting 2" in text
    for d in decisions:
        assert d["rule"] in text and " ".join(d["reason"].split()[:4]) in " ".join(text.split())
    assert client.get(f"/api/trials/{tid}/decisions.pdf", headers=inv).content == r.content     # the same bytes
    assert client.get(f"/api/trials/{tid}/decisions.pdf").status_code == 401
    assert client.get("/api/trials/999/decisions.pdf", headers=inv).status_code == 404


def test_backup_is_a_consistent_copy(tmp_path, capsys):
    import sqlite3

    from tests.clirun import run
    url = new_database(tmp_path / "live.db", roles=("admin",))
    code, out, err = run(capsys, "backup", "--db", url, "--out", tmp_path / "copy.db")
    assert code == 0, err
    assert sqlite3.connect(tmp_path / "copy.db").execute("select username from users").fetchall() == [("admin",)]
    code, _, err = run(capsys, "backup", "--db", url, "--out", tmp_path / "copy.db")
    assert code == 2 and "exists" in err
    code, _, err = run(capsys, "audit", "verify", "--db", f"sqlite:///{tmp_path / 'copy.db'}")
    assert code == 0


ROUTES = [  # (method, path, body, roles allowed)
    ("post", "/api/trials", {"name": "R", "design": DESIGN}, {"statistician"}),
    ("post", "/api/trials/{tid}/activate", None, {"statistician"}),
    ("post", "/api/trials/{tid}/patients", {"patient": "Z1", "dose": 1, "dlt": False}, {"investigator"}),
    ("patch", "/api/trials/{tid}/patients/P1", {"dlt": True, "reason": "r"}, {"investigator"}),
    ("post", "/api/trials/{tid}/decisions/{did}/confirm", {"approve": True}, {"safety-reviewer"}),
    ("get", "/api/trials/{tid}/audit", None, {"admin", "statistician", "safety-reviewer"}),
]


def test_every_route_refuses_no_token_and_each_wrong_role(client):
    """Every write route and the audit trail: 401 without a token, 403 for each role that may not (nothing
    changes), and the allowed roles get through."""
    stat, inv = _auth(client, "statistician"), _auth(client, "investigator")
    tid = client.post("/api/trials", json={"name": "T", "design": DESIGN}, headers=stat).json()["id"]
    draft = client.post("/api/trials", json={"name": "D", "design": DESIGN}, headers=stat).json()["id"]
    client.post(f"/api/trials/{tid}/activate", headers=stat)
    for k in (1, 2, 3):
        client.post(f"/api/trials/{tid}/patients", json={"patient": f"P{k}", "dose": 1, "dlt": False}, headers=inv)
    did = client.get(f"/api/trials/{tid}/decision", headers=inv).json()["decision_id"]
    tokens = {role: _auth(client, role.replace("-", "_")) for role in
              ("admin", "statistician", "investigator", "safety-reviewer", "viewer")}
    for method, path, body, allowed in ROUTES:
        url = path.format(tid=draft if path.endswith("/activate") else tid, did=did)
        call = getattr(client, method)
        kwargs = {"json": body} if body is not None else {}
        assert call(url, **kwargs).status_code == 401, (method, path)
        for role, headers in tokens.items():
            status = call(url, headers=headers, **kwargs).status_code
            if role in allowed:
                assert status in (200, 201), (method, path, role, status)
            else:
                assert status == 403, (method, path, role, status)
    for path in ("/api/trials/{tid}/patients", "/api/trials/{tid}/decision", "/api/trials/{tid}/export.csv",
                 "/api/trials/{tid}/decisions.html", "/api/trials/{tid}/decisions.pdf"):
        assert client.get(path.format(tid=tid)).status_code == 401
