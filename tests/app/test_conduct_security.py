"""Security of the conduct app, on SQLite and PostgreSQL: SQL-injection and script strings in every text field the
API and the forms accept are stored as data and shown escaped in every page and export; passwords are never logged
(the app's, SQLAlchemy's and uvicorn's logs, access log included, captured at DEBUG) nor returned by any route;
every form refuses a missing or wrong CSRF token; `adcbridge serve` refuses a non-loopback address without
--secure-cookies, and the session cookie is Secure with it."""

from __future__ import annotations

import csv
import io
import logging
import re

import pytest

pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from adcbridge.conduct.api import create_app  # noqa: E402
from adcbridge.conduct.db import connect  # noqa: E402
from tests.app.conduct_setup import PASSWORD, new_database  # noqa: E402
from tests.clirun import run  # noqa: E402

DESIGN = {"name": "boin", "target": 0.3, "doses": [1.0, 2.1, 4.2], "cohort_size": 3, "cohorts": 10}


def evil(tag: str) -> str:
    """A script and an SQL injection in one string, marked by ``tag`` (at most 64 characters)."""
    return f"{tag}<script>alert(1)</script>'; DROP TABLE events; --\"{{{{7*7}}}}"


def escaped(tag: str) -> str:
    return f"{tag}&lt;script&gt;alert(1)&lt;/script&gt;"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _page_login(app, username):
    c = TestClient(app, follow_redirects=False)
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf": token})
    assert r.status_code == 303, r.text
    return c


def _bearer(c, username):
    r = c.post("/api/token", data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _count(url, table):
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(f"select count(*) from {table}").scalar_one()
    finally:
        engine.dispose()


def test_injection_and_script_strings_are_data_everywhere(conduct_url):
    url = new_database(conduct_url)
    app = create_app(url, secret="security")
    api = TestClient(app)
    stat, inv, rev = (_bearer(api, u) for u in ("statistician", "investigator", "safety_reviewer"))
    # -- through the JSON API: trial name, dose unit, patient id, correction reason, review comment ------------
    tid = api.post("/api/trials", json={"name": evil("N1"), "design": {**DESIGN, "dose_unit": evil("U1")}},
                   headers=stat).json()["id"]
    api.post(f"/api/trials/{tid}/activate", headers=stat)
    for k, patient in enumerate([evil("P1"), "P2", "P3"]):
        assert api.post(f"/api/trials/{tid}/patients", json={"patient": patient, "dose": 1, "dlt": k == 1},
                        headers=inv).status_code == 201
    from urllib.parse import quote
    r = api.patch(f"/api/trials/{tid}/patients/{quote(evil('P1'), safe='')}", json={"dlt": False,
                  "reason": evil("R1")}, headers=inv)
    assert r.status_code == 200, r.text
    did = api.get(f"/api/trials/{tid}/decision", headers=rev).json()["decision_id"]
    assert api.post(f"/api/trials/{tid}/decisions/{did}/confirm", json={"approve": True, "comment": evil("C1")},
                    headers=rev).status_code == 200
    # bad input naming itself: a design name, a design option, a repeated patient -> errors as data
    for body, needle in ((({"name": evil("X1"), "design": {**DESIGN, "name": evil("D1")}}), "D1"),
                         ({"name": "x", "design": {**DESIGN, "options": {evil("O1"): 1}}}, "O1")):
        r = api.post("/api/trials", json=body, headers=stat)           # (quotes may come back as in repr())
        assert r.status_code == 422 and f"{needle}<script>alert(1)</script>" in r.json()["detail"], r.text
    r = api.post(f"/api/trials/{tid}/patients", json={"patient": evil("P1"), "dose": 1}, headers=inv)
    assert r.status_code == 409 and "P1<script>alert(1)</script>" in r.json()["detail"]
    # -- through the forms: trial name, dose unit, patient id, comment; bad values echoed in the error page ------
    stat_page, inv_page, rev_page = (_page_login(app, u) for u in ("statistician", "investigator", "safety_reviewer"))
    token = _csrf(stat_page.get("/trials").text)
    form = {"name": evil("N2"), "design": "boin", "target": "0.3", "doses": "1,2.1,4.2", "dose_unit": evil("U2"),
            "cohort_size": "3", "cohorts": "10", "csrf": token}
    assert stat_page.post("/trials", data=form).status_code == 303
    errors = [stat_page.post("/trials", data={**form, "name": "y", "design": evil("D2")}),
              stat_page.post("/trials", data={**form, "name": "z", "doses": evil("Q2")})]
    tid2 = int(re.search(r'href="/trials/(\d+)">N2&lt;', stat_page.get("/trials").text).group(1))
    stat_page.post(f"/trials/{tid2}/activate", data={"csrf": token})
    token = _csrf(inv_page.get(f"/trials/{tid2}").text)
    for patient in (evil("P2"), "Q2", "Q3"):
        r = inv_page.post(f"/trials/{tid2}/patients", data={"patient": patient, "dose": "1", "dlt": "no",
                                                             "csrf": token})
        assert r.status_code == 303, r.text
    errors += [inv_page.post(f"/trials/{tid2}/patients", data={"patient": "E1", "dose": evil("V2"), "csrf": token}),
               inv_page.post(f"/trials/{tid2}/patients", data={"patient": "E2", "dose": "1", "dlt": evil("L2"),
                                                                "csrf": token}),
               inv_page.post(f"/trials/{tid2}/patients", data={"patient": "E3", "dose": "1", "dosed_on": evil("T2"),
                                                                "csrf": token}),
               inv_page.post(f"/trials/{tid2}/patients", data={"patient": evil("P2"), "dose": "1", "csrf": token})]
    page = rev_page.get(f"/trials/{tid2}").text
    did2 = re.search(r"/decisions/(\d+)/confirm", page).group(1)
    assert rev_page.post(f"/trials/{tid2}/decisions/{did2}/confirm",
                         data={"approve": "no", "comment": evil("C2"), "csrf": _csrf(page)}).status_code == 303
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("adcbridge_login", "t")
    r = c.post("/login", data={"username": evil("L3"), "password": "x", "csrf": "t"})
    errors.append(r)
    assert r.status_code == 401
    for r in errors:                                   # refused, the value shown escaped (or not at all)
        assert r.status_code in (401, 409, 422) and "<script" not in r.text, r.text
    for tag in ("D2", "Q2", "V2", "L2", "T2", "P2"):
        assert escaped(tag) in "".join(r.text for r in errors), tag
    # -- stored as data ------------------------------------------------------------------------------------------
    assert api.get(f"/api/trials/{tid}/patients", headers=rev).json()[0]["patient"] == evil("P1")
    audit = api.get(f"/api/trials/{tid}/audit", headers=rev).json()
    assert {evil("R1"), evil("C1")} <= {e["reason"] for e in audit}
    assert _count(url, "events") > 10 and _count(url, "patients") == 6        # nothing dropped
    assert run_verify(url)
    # -- shown escaped in every page and export ------------------------------------------------------------------
    shown = {"/trials": ["N1", "N2"], f"/trials/{tid}": ["N1", "P1"], f"/trials/{tid2}": ["N2", "P2"],
             f"/trials/{tid}/audit": ["N1", "U1", "P1", "R1", "C1"], f"/trials/{tid2}/audit": ["N2", "U2", "P2", "C2"]}
    for path, tags in shown.items():
        html = rev_page.get(path).text
        assert "<script" not in html, path
        for tag in tags:
            assert escaped(tag) in html, (path, tag)
    for trial, tags in ((tid, ["N1", "C1"]), (tid2, ["N2", "C2"])):
        html = api.get(f"/api/trials/{trial}/decisions.html", headers=rev).text
        assert "<script" not in html and all(escaped(t) in html for t in tags)
        pdf = api.get(f"/api/trials/{trial}/decisions.pdf", headers=rev).content
        text = "".join(_pdf_text(pdf).split())
        assert all("".join(evil(t).split()) in text for t in tags), text
    rows = list(csv.reader(io.StringIO(api.get(f"/api/trials/{tid}/export.csv", headers=rev).text)))
    assert rows[1][:2] == [evil("N1"), evil("P1")] and rows[1][5] == evil("U1")
    rows = list(csv.reader(io.StringIO(api.get(f"/api/trials/{tid2}/export.csv", headers=rev).text)))
    assert rows[1][:2] == [evil("N2"), evil("P2")] and rows[1][5] == evil("U2")
    app.state.engine.dispose()


def run_verify(url) -> bool:
    from adcbridge.conduct.audit import verify_chain
    from adcbridge.conduct.db import session_factory
    engine = connect(url)
    try:
        with session_factory(engine)() as s:
            return verify_chain(s).ok
    finally:
        engine.dispose()


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_username_with_markup_or_sql_is_refused(conduct_url, capsys, monkeypatch):
    assert run(capsys, "db", "upgrade", "--db", conduct_url)[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = run(capsys, "users", "create", "--username", evil("U"), "--role", "viewer", "--password-stdin",
                       "--db", conduct_url)
    assert code == 2 and "the username must start with a letter" in err and _count(conduct_url, "users") == 0


UVICORN_TO_ROOT = {"version": 1, "disable_existing_loggers": False,
                   "loggers": {name: {"level": "DEBUG", "handlers": [], "propagate": True}
                               for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}}


def test_passwords_are_never_logged_nor_returned(conduct_url, caplog, capfd, monkeypatch):
    """Every log record (the app's, SQLAlchemy's statements with their parameters, uvicorn's and its access log),
    everything printed, and every response of every route, after users are made and log in right and wrong."""
    import httpx

    from tests.app.conduct_server import serve
    secret = "Never-Log-This-Password-7f3a"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")          # its statements and their parameters too
    url = new_database(conduct_url, roles=("statistician", "investigator", "safety-reviewer"))
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    assert run(capfd, "users", "create", "--username", "alice", "--role", "viewer", "--password-stdin", "--db",
               url)[0] == 0
    for username, password in (("alice", secret), ("bob", secret[:8])):           # taken; too short
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        assert run(capfd, "users", "create", "--username", username, "--role", "viewer", "--password-stdin",
                   "--db", url)[0] == 2
    responses = []
    with serve(url, log_config=UVICORN_TO_ROOT) as base, httpx.Client(base_url=base) as http:
        for form in ({"username": "alice", "password": secret}, {"username": "alice", "password": secret + "x"},
                     {"password": secret}, {"username": "alice", "password": secret, "grant_type": "bad"}):
            responses.append(http.post("/api/token", data=form))
        assert [r.status_code for r in responses] == [200, 401, 422, 422]
        bearer = {"Authorization": f"Bearer {responses[0].json()['access_token']}"}
        pages = httpx.Client(base_url=base, follow_redirects=False)
        token = _csrf(pages.get("/login").text)
        for form in ({"username": "alice", "password": secret + "y", "csrf": token}, {"password": secret,
                     "csrf": token}, {"username": "alice", "password": secret, "csrf": "forged"},
                     {"username": "alice", "password": secret, "csrf": token}):
            responses.append(pages.post("/login", data=form))
        assert [r.status_code for r in responses[4:]] == [401, 422, 403, 303]
        stat = {"Authorization": f"Bearer {http.post('/api/token', data={'username': 'statistician', 'password': PASSWORD}).json()['access_token']}"}  # noqa: E501
        tid = http.post("/api/trials", json={"name": "T", "design": DESIGN}, headers=stat).json()["id"]
        for route in http.get("/openapi.json").json()["paths"]:                    # every GET route of the API
            if "{" in route and "{trial_id}" not in route:
                continue
            responses.append(http.get(route.replace("{trial_id}", str(tid)), headers=bearer))
        for path in ("/", "/trials", f"/trials/{tid}", f"/trials/{tid}/audit", "/docs", "/openapi.json"):
            responses.append(pages.get(path))
        pages.close()
    logged = caplog.text + " ".join(str(rec.args) for rec in caplog.records)
    printed = "".join(capfd.readouterr())
    returned = " ".join(r.text + str(r.headers) for r in responses)
    assert "uvicorn" in " ".join(rec.name for rec in caplog.records) and '"POST /api/token' in logged
    assert "INSERT INTO users" in logged                       # SQLAlchemy's statements were captured too
    for where, text in (("logs", logged), ("output", printed), ("responses", returned)):
        assert secret not in text and secret[:8] not in text, where
    assert "$argon2" not in returned


def test_every_form_refuses_a_missing_or_a_wrong_csrf_token(conduct_url):
    """Every POST page route (listed from the app, so a new form cannot be missed): refused (403) without the token
    and with a wrong one, nothing changed; accepted with the right one."""
    url = new_database(conduct_url)
    app = create_app(url, secret="csrf")
    api = TestClient(app)
    stat, inv = _bearer(api, "statistician"), _bearer(api, "investigator")
    draft = api.post("/api/trials", json={"name": "draft", "design": DESIGN}, headers=stat).json()["id"]
    tid = api.post("/api/trials", json={"name": "live", "design": DESIGN}, headers=stat).json()["id"]
    api.post(f"/api/trials/{tid}/activate", headers=stat)
    for k in range(3):
        api.post(f"/api/trials/{tid}/patients", json={"patient": f"P{k}", "dose": 1, "dlt": False}, headers=inv)
    did = api.get(f"/api/trials/{tid}/decision", headers=inv).json()["decision_id"]
    forms = {  # path -> (who, fields)
        "/trials": ("statistician", {"name": "new", "design": "boin", "target": "0.3", "doses": "1,2",
                                     "dose_unit": "mg/kg", "cohort_size": "3", "cohorts": "10"}),
        "/trials/{trial_id}/activate": ("statistician", {}),
        "/trials/{trial_id}/patients": ("investigator", {"patient": "P9", "dose": "1", "dlt": "no"}),
        "/trials/{trial_id}/decisions/{decision_id}/confirm": ("safety_reviewer", {"approve": "yes",
                                                                                   "comment": "ok"}),
        "/logout": ("viewer", {}),
    }
    posted = {r.path for r in app.routes if "POST" in getattr(r, "methods", ()) and not r.path.startswith("/api")}
    assert posted == set(forms) | {"/login"}, posted
    for path, (who, fields) in forms.items():
        c = _page_login(app, who)
        target = path.format(trial_id=draft if path.endswith("activate") else tid, decision_id=did)
        token = _csrf(c.get("/trials").text)
        before = _count(url, "events")
        for bad in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": token[:-1]}):
            assert c.post(target, data={**fields, **bad}).status_code == 403, (path, bad)
        assert _count(url, "events") == before and c.get("/trials").status_code == 200, path
        r = c.post(target, data={**fields, "csrf": token})
        assert r.status_code == 303, (path, r.text)
    c = TestClient(app, follow_redirects=False)                 # the login form: its double-submit token
    token = _csrf(c.get("/login").text)
    login = {"username": "viewer", "password": PASSWORD}
    assert c.post("/login", data=login).status_code == 403
    assert c.post("/login", data={**login, "csrf": "forged"}).status_code == 403
    assert TestClient(app, follow_redirects=False).post("/login", data={**login, "csrf": token}).status_code == 403
    assert c.post("/login", data={**login, "csrf": token}).status_code == 303
    app.state.engine.dispose()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.org"])
def test_serve_refuses_a_non_loopback_address_without_secure_cookies(capsys, host):
    code, _, err = run(capsys, "serve", "--host", host)
    assert code == 2 and f"{host} is not a loopback address" in err and "--secure-cookies" in err
    assert err.count("\n") == 1


def test_the_session_cookie_is_secure_with_secure_cookies(tmp_path):
    url = new_database(tmp_path / "secure.db", roles=("viewer",))
    for secure in (False, True):
        c = TestClient(create_app(url, secret="s", secure_cookies=secure), follow_redirects=False)
        page = c.get("/login")
        assert ("secure" in page.headers["set-cookie"].lower()) is secure
        c.cookies.set("adcbridge_login", _csrf(page.text))
        r = c.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": _csrf(page.text)})
        cookie = r.headers["set-cookie"].lower()
        assert r.status_code == 303 and "adcbridge_session=" in cookie and "httponly" in cookie
        assert "samesite=strict" in cookie and ("; secure" in cookie) is secure
