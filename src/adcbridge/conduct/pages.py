"""The server-rendered pages of the conduct app (Jinja2, plain forms, no front-end build step).

Sessions are an HMAC-signed cookie (``user id, expiry, CSRF token``) that is HttpOnly and SameSite=Strict, and
Secure with ``--secure-cookies``; every form carries the session's CSRF token and a POST without the right one is
refused (403).  The login form, before any session, uses a double-submit token (a cookie and the form field must
match).  The pages call the same services as the API (:mod:`.services`), one transaction a request; text is
escaped by Jinja2's autoescaping.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
import time
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import services as sv
from .models import Patient, Trial, User
from .signing import sign, unsign

__all__ = ["add_pages"]

SESSION_HOURS = 8
COOKIE, PRE = "adcbridge_session", "adcbridge_login"


def add_pages(app: FastAPI, make, key: bytes, *, secure_cookies: bool, login_allowed, login_failed) -> None:
    """Register the pages on ``app`` (``make``: the session factory; ``key``: the signing secret;
    ``login_allowed(username, client)`` / ``login_failed(...)``: the shared login rate limit)."""
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
                             autoescape=True)           # every template escapes (their names end in .j2)
    templates = Jinja2Templates(env=env)

    def session_of(request: Request) -> tuple[User, str] | None:
        payload = unsign(key, request.cookies.get(COOKIE))
        if payload is None:
            return None
        user_id, expiry, csrf = payload.split(".")
        if int(expiry) < time.time():
            return None
        with make() as s:
            user = s.get(User, int(user_id))
        return (user, csrf) if user is not None and user.active else None

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def signed_in(request: Request, form_csrf: str | None = None) -> tuple[User, str]:
        found = session_of(request)
        if found is None:
            raise HTTPException(303, headers={"Location": "/login"})
        if request.method == "POST" and not hmac.compare_digest(form_csrf or "", found[1]):
            raise HTTPException(403, "the form's CSRF token is missing or wrong; reload the page")
        return found

    def cookie(response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure_cookies)

    def act(request: Request, user: User, csrf: str, action, back: str):
        """Run ``action(session)`` in one transaction; redirect to ``back``, or show the error on the page."""
        try:
            with make.begin() as s:
                action(s)
        except IntegrityError:                 # a concurrent write got there first (a unique constraint)
            return page(request, "base.html.j2", status=409, title="Not done", user=user, csrf=csrf,
                        error=sv.CONCURRENT)
        except (sv.PermissionDenied, sv.Conflict, LookupError, ValueError) as exc:
            status = 403 if isinstance(exc, sv.PermissionDenied) else 409 if isinstance(exc, sv.Conflict) else 422
            return page(request, "base.html.j2", status=status, title="Not done", user=user, csrf=csrf,
                        error=str(exc).splitlines()[0].strip("'"))
        return RedirectResponse(back, status_code=303)

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/trials", status_code=303)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request):
        token = secrets.token_urlsafe(24)
        response = page(request, "login.html.j2", title="Log in", user=None, csrf=token)
        cookie(response, PRE, token, 600)
        return response

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form(...), password: str = Form(...), csrf: str = Form("")):
        from .users import verify_password
        if not csrf or not hmac.compare_digest(csrf, request.cookies.get(PRE, "")):
            raise HTTPException(403, "the login form's CSRF token is missing or wrong; reload the page")
        client = request.client.host if request.client else "?"
        if not login_allowed(username, client):
            return page(request, "login.html.j2", status=429, title="Log in", user=None, csrf=csrf,
                        error="too many failed logins; wait a minute")
        with make() as s:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            ok = user is not None and user.active and verify_password(user, password)
        if not ok:
            login_failed(username, client)
            return page(request, "login.html.j2", status=401, title="Log in", user=None, csrf=csrf,
                        error="wrong username or password")
        response = RedirectResponse("/trials", status_code=303)
        token = secrets.token_urlsafe(24)
        cookie(response, COOKIE, sign(key, f"{user.id}.{int(time.time()) + SESSION_HOURS * 3600}.{token}"),
               SESSION_HOURS * 3600)
        response.delete_cookie(PRE)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form("")):
        signed_in(request, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/trials", response_class=HTMLResponse, include_in_schema=False)
    def trials(request: Request):
        user, csrf = signed_in(request)
        with make() as s:
            rows = s.execute(select(Trial).order_by(Trial.id)).scalars().all()
        return page(request, "trials.html.j2", title="Trials", user=user, csrf=csrf, trials=rows)

    @app.post("/trials", include_in_schema=False)
    def create_trial(request: Request, name: str = Form(...), design: str = Form(...), target: str = Form(""),
                     doses: str = Form(...), dose_unit: str = Form("mg/kg"), cohort_size: str = Form(""),
                     cohorts: str = Form(""), csrf: str = Form("")):
        user, token = signed_in(request, csrf)

        def action(s):
            try:
                levels = [float(v) for v in doses.split(",")]
                spec = {"n_doses": len(levels), "dose_levels": levels, "dose_unit": dose_unit}
                for key_, value, kind in (("target", target, float), ("cohort_size", cohort_size, int),
                                          ("n_cohorts", cohorts, int)):
                    if value.strip():
                        spec[key_] = kind(value)
            except ValueError:
                raise ValueError(f"the doses, target, cohort size and cohorts must be numbers; got doses {doses!r}") \
                    from None
            sv.create_trial(s, user, name, design, spec)
        return act(request, user, token, action, "/trials")

    def _trial(s, trial_id: int) -> Trial:
        trial = s.get(Trial, trial_id)
        if trial is None:
            raise HTTPException(404, f"no trial {trial_id}")
        return trial

    @app.get("/trials/{trial_id}", response_class=HTMLResponse, include_in_schema=False)
    def trial_page(request: Request, trial_id: int):
        user, csrf = signed_in(request)
        decision, problem = None, None
        with make.begin() as s:
            trial = _trial(s, trial_id)
            patients = s.execute(select(Patient).where(Patient.trial_id == trial_id).order_by(Patient.id)
                                 ).scalars().all()
            if trial.status == "active" and patients:
                try:
                    d = sv.decide(s, user, trial)
                    decision = {**json.loads(d.record), "decision_id": d.id, "approved": d.approved}
                except (sv.Conflict, ValueError) as exc:
                    problem = str(exc).splitlines()[0]
        return page(request, "trial.html.j2", title=trial.name, user=user, csrf=csrf, trial=trial,
                    patients=patients, decision=decision, decision_error=problem,
                    can_audit=user.role in ("admin", "statistician", "safety-reviewer"))

    @app.post("/trials/{trial_id}/activate", include_in_schema=False)
    def activate(request: Request, trial_id: int, csrf: str = Form("")):
        user, token = signed_in(request, csrf)
        return act(request, user, token, lambda s: sv.activate_trial(s, user, _trial(s, trial_id)),
                   f"/trials/{trial_id}")

    @app.post("/trials/{trial_id}/patients", include_in_schema=False)
    def enrol(request: Request, trial_id: int, patient: str = Form(...), dose: str = Form(...), dlt: str = Form(""),
              dosed_on: str = Form(""), csrf: str = Form("")):
        user, token = signed_in(request, csrf)

        def action(s):
            if not dose.strip().isdigit():
                raise ValueError(f"the dose level is a whole number; got {dose!r}")
            outcome = {"": None, "no": False, "yes": True}.get(dlt)
            if dlt not in ("", "no", "yes"):
                raise ValueError(f"the DLT is pending, no or yes; got {dlt!r}")
            date = dt.date.fromisoformat(dosed_on) if dosed_on else None
            sv.enrol_patient(s, user, _trial(s, trial_id), patient, int(dose), dlt=outcome, dosed_on=date)
        return act(request, user, token, action, f"/trials/{trial_id}")

    @app.post("/trials/{trial_id}/decisions/{decision_id}/confirm", include_in_schema=False)
    def confirm(request: Request, trial_id: int, decision_id: int, approve: str = Form(...), comment: str = Form(""),
                csrf: str = Form("")):
        user, token = signed_in(request, csrf)

        def action(s):
            from .models import Decision
            d = s.get(Decision, decision_id)
            if d is None or d.trial_id != trial_id:
                raise LookupError(f"no decision {decision_id} in trial {trial_id}")
            sv.confirm_decision(s, user, d, approve == "yes", comment or None)
        return act(request, user, token, action, f"/trials/{trial_id}")

    @app.get("/trials/{trial_id}/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, trial_id: int):
        user, csrf = signed_in(request)
        if user.role not in ("admin", "statistician", "safety-reviewer"):
            raise HTTPException(403, f"{user.username} ({user.role}) may not read the audit trail")
        with make() as s:
            trial = _trial(s, trial_id)
            events = sv.trial_events(s, trial_id)
        return page(request, "audit.html.j2", title=f"Audit trail: {trial.name}", user=user, csrf=csrf, trial=trial,
                    events=events)
