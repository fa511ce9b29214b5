"""The conduct app's pages (TestClient): log in with the double-submit CSRF token, create and activate a trial,
enrol a cohort, see the decision and confirm it, open the audit trail; every form refuses a missing or wrong CSRF
token; script strings are shown escaped; cookies are HttpOnly and SameSite=Strict."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from adcbridge.conduct.api import create_app  # noqa: E402
from tests.app.conduct_setup import PASSWORD, new_database  # noqa: E402


@pytest.fixture
def app_url(conduct_url):
    return new_database(conduct_url, roles=("statistician", "investigator", "safety-reviewer", "viewer"))


def _client(url):
    return TestClient(create_app(url, secret="pages-secret"), follow_redirects=False)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(url, username):
    c = _client(url)
    page = c.get("/login")
    assert "httponly" in page.headers["set-cookie"].lower() and "samesite=strict" in page.headers["set-cookie"].lower()
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/trials"
    return c


def test_a_trial_through_the_pages(app_url):
    stat = _login(app_url, "statistician")
    page = stat.get("/trials")
    name = "<script>alert('x')</script> JSKN003"
    r = stat.post("/trials", data={"name": name, "design": "boin", "target": "0.3", "doses": "1,2.1,4.2",
                                   "dose_unit": "mg/kg", "cohort_size": "3", "cohorts": "10", "csrf": _csrf(page.text)})
    assert r.status_code == 303
    listing = stat.get("/trials").text
    assert "&lt;script&gt;alert(" in listing and "<script>alert(" not in listing
    page = stat.get("/trials/1").text
    assert stat.post("/trials/1/activate", data={"csrf": _csrf(page)}).status_code == 303
    inv = _login(app_url, "investigator")
    for k in range(1, 4):
        page = inv.get("/trials/1").text
        r = inv.post("/trials/1/patients", data={"patient": f"P{k}", "dose": "1", "dlt": "no",
                                                 "dosed_on": "2026-01-05", "csrf": _csrf(page)})
        assert r.status_code == 303
    page = inv.get("/trials/1").text
    assert "escalate" in page and "awaiting review" in page
    r = inv.post("/trials/1/patients", data={"patient": "P4", "dose": "2", "dlt": "no", "csrf": _csrf(page)})
    assert r.status_code == 409 and "not open" in r.text                       # escalation not yet confirmed
    rev = _login(app_url, "safety_reviewer")
    page = rev.get("/trials/1").text
    decision = re.search(r'/decisions/(\d+)/confirm', page).group(1)
    r = rev.post(f"/trials/1/decisions/{decision}/confirm", data={"approve": "yes", "comment": "0/3",
                                                                  "csrf": _csrf(page)})
    assert r.status_code == 303 and "approved" in rev.get("/trials/1").text
    audit = rev.get("/trials/1/audit").text
    for action in ("create_trial", "activate_trial", "enrol_patient", "decide", "confirm_decision"):
        assert action in audit
    assert _login(app_url, "viewer").get("/trials/1/audit").status_code == 403


def test_every_form_refuses_a_missing_or_wrong_csrf_token(app_url):
    stat = _login(app_url, "statistician")
    data = {"name": "T", "design": "boin", "target": "0.3", "doses": "1,2", "dose_unit": "mg/kg"}
    assert stat.post("/trials", data=data).status_code == 403
    assert stat.post("/trials", data={**data, "csrf": "forged"}).status_code == 403
    assert stat.post("/logout", data={"csrf": "forged"}).status_code == 403
    c = _client(app_url)
    c.get("/login")
    assert c.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": "forged"}).status_code == 403
    anonymous = _client(app_url)
    assert anonymous.get("/trials").status_code == 303                          # to the login page


def test_wrong_password_and_rate_limit_on_the_login_page(app_url):
    c = _client(app_url)
    token = _csrf(c.get("/login").text)
    for _ in range(5):
        r = c.post("/login", data={"username": "viewer", "password": "wrong", "csrf": token})
        assert r.status_code == 401 and "wrong username or password" in r.text
    r = c.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429
