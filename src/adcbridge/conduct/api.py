"""The JSON API of the conduct app (FastAPI), under ``/api`` and described by OpenAPI at ``/docs``.

Routes are thin: they authenticate, parse the request (pydantic, unknown fields refused) and call
:mod:`adcbridge.conduct.services` in one transaction.  Bearer tokens come from ``POST /api/token`` (OAuth2
password flow): an HMAC-SHA256-signed ``user id, expiry`` with the app's secret (``ADCBRIDGE_SECRET``, else one made
at start, so tokens end with the process).  Failed logins are rate-limited per username and client (5 a minute,
then 429).  Errors: 401 without a valid token, 403 for a role that may not, 404 for an unknown trial, patient or
decision (or one of another trial), 409 for a conflict with the trial's state, 422 for bad input with the field
named.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
from collections import defaultdict, deque

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import services as sv
from .db import connect, session_factory
from .models import Decision, Patient, Trial, User
from .signing import sign, unsign

__all__ = ["create_app"]

TOKEN_HOURS = 8
LOGIN_LIMIT = 5            # failed logins per username and client per minute


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DesignIn(_Strict):
    name: str
    target: float | None = None
    doses: list[float] = Field(min_length=1)
    dose_unit: str = "mg/kg"
    cohort_size: int | None = None
    cohorts: int | None = None
    options: dict = Field(default_factory=dict)


class TrialIn(_Strict):
    name: str = Field(min_length=1, max_length=200)
    design: DesignIn


class PatientIn(_Strict):
    patient: str = Field(min_length=1, max_length=64)
    dose: int = Field(ge=1)
    dlt: bool | None = None
    dosed_on: dt.date | None = None
    assessed_on: dt.date | None = None


class CorrectionIn(_Strict):
    dlt: bool | None
    reason: str = Field(min_length=1)
    assessed_on: dt.date | None = None


class ConfirmIn(_Strict):
    approve: bool
    comment: str | None = None


def _spec(design: DesignIn) -> dict:
    spec = {"n_doses": len(design.doses), "dose_levels": design.doses, "dose_unit": design.dose_unit,
            **design.options}
    for key, value in (("target", design.target), ("cohort_size", design.cohort_size),
                       ("n_cohorts", design.cohorts)):
        if value is not None:
            spec[key] = value
    return spec


def create_app(db_url: str | None = None, secret: str | None = None, *, secure_cookies: bool = False) -> FastAPI:
    """The app on the database at ``db_url`` (migrated: ``adcbridge db upgrade``): the JSON API and the pages
    (:mod:`.pages`); ``secure_cookies`` marks the session cookie Secure (behind TLS)."""
    engine = connect(db_url)
    make = session_factory(engine)
    key = (secret or os.environ.get("ADCBRIDGE_SECRET") or secrets.token_hex(32)).encode()
    failures: dict[tuple[str, str], deque] = defaultdict(deque)
    app = FastAPI(title="adcbridge trial conduct", description=__doc__)
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token")

    def current_user(token: str = Depends(oauth2)) -> User:
        invalid = HTTPException(401, "invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
        payload = unsign(key, token)
        if payload is None:
            raise invalid
        user_id, expiry = (int(x) for x in payload.split("."))
        if expiry < time.time():
            raise invalid
        with make() as s:
            user = s.get(User, user_id)
        if user is None or not user.active:
            raise invalid
        return user

    def trial_or_404(s, trial_id: int) -> Trial:
        trial = s.get(Trial, trial_id)
        if trial is None:
            raise HTTPException(404, f"no trial {trial_id}")
        return trial

    def run(action):
        """Run ``action(session)`` in one transaction, mapping the services' errors to HTTP statuses."""
        try:
            with make.begin() as s:
                return action(s)
        except sv.PermissionDenied as exc:
            raise HTTPException(403, str(exc)) from None
        except sv.Conflict as exc:
            raise HTTPException(409, str(exc)) from None
        except IntegrityError:                 # a concurrent write got there first (a unique constraint)
            raise HTTPException(409, sv.CONCURRENT) from None
        except LookupError as exc:
            raise HTTPException(404, str(exc).strip("'")) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc).splitlines()[0]) from None

    def login_allowed(username: str, client: str) -> bool:
        window = failures[(username, client)]
        while window and window[0] < time.time() - 60:
            window.popleft()
        return len(window) < LOGIN_LIMIT

    def login_failed(username: str, client: str) -> None:
        failures[(username, client)].append(time.time())

    @app.post("/api/token")
    def token(request: Request, form: OAuth2PasswordRequestForm = Depends()):
        from .users import verify_password
        client = request.client.host if request.client else "?"
        if not login_allowed(form.username, client):
            raise HTTPException(429, "too many failed logins; wait a minute")
        with make() as s:
            user = s.execute(select(User).where(User.username == form.username)).scalar_one_or_none()
            ok = user is not None and user.active and verify_password(user, form.password)
        if not ok:
            login_failed(form.username, client)
            raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        expiry = int(time.time()) + TOKEN_HOURS * 3600
        return {"access_token": sign(key, f"{user.id}.{expiry}"), "token_type": "bearer"}

    @app.post("/api/trials", status_code=201)
    def create_trial(body: TrialIn, user: User = Depends(current_user)):
        return run(lambda s: {"id": sv.create_trial(s, user, body.name, body.design.name, _spec(body.design)).id})

    @app.post("/api/trials/{trial_id}/activate")
    def activate(trial_id: int, user: User = Depends(current_user)):
        def act(s):
            trial = sv.activate_trial(s, user, trial_or_404(s, trial_id))
            return {"id": trial.id, "status": trial.status, "design_hash": trial.design_hash}
        return run(act)

    @app.post("/api/trials/{trial_id}/patients", status_code=201)
    def enrol(trial_id: int, body: PatientIn, user: User = Depends(current_user)):
        return run(lambda s: {"id": sv.enrol_patient(s, user, trial_or_404(s, trial_id), body.patient, body.dose,
                                                     dlt=body.dlt, dosed_on=body.dosed_on,
                                                     assessed_on=body.assessed_on).id})

    @app.patch("/api/trials/{trial_id}/patients/{patient:path}")     # a patient id may hold a '/'
    def correct(trial_id: int, patient: str, body: CorrectionIn, user: User = Depends(current_user)):
        return run(lambda s: {"id": sv.correct_outcome(s, user, trial_or_404(s, trial_id), patient, body.dlt,
                                                       body.reason, body.assessed_on).id})

    @app.get("/api/trials/{trial_id}/patients")
    def patients(trial_id: int, user: User = Depends(current_user)):
        def read(s):
            trial_or_404(s, trial_id)
            rows = s.execute(select(Patient).where(Patient.trial_id == trial_id).order_by(Patient.id)).scalars()
            return [{"patient": r.patient, "cohort": r.cohort, "dose": r.dose, "dlt": r.dlt,
                     "dosed_on": r.dosed_on, "assessed_on": r.assessed_on} for r in rows]
        return run(read)

    @app.get("/api/trials/{trial_id}/decision")
    def decision(trial_id: int, user: User = Depends(current_user)):
        def act(s):
            d = sv.decide(s, user, trial_or_404(s, trial_id))
            return {**json.loads(d.record), "decision_id": d.id, "approved": d.approved}
        return run(act)

    @app.post("/api/trials/{trial_id}/decisions/{decision_id}/confirm")
    def confirm(trial_id: int, decision_id: int, body: ConfirmIn, user: User = Depends(current_user)):
        def act(s):
            d = s.get(Decision, decision_id)
            if d is None or d.trial_id != trial_id:
                raise LookupError(f"no decision {decision_id} in trial {trial_id}")
            d = sv.confirm_decision(s, user, d, body.approve, body.comment)
            return {"decision_id": d.id, "approved": d.approved}
        return run(act)

    @app.get("/api/trials/{trial_id}/audit")
    def audit(trial_id: int, user: User = Depends(current_user)):
        if user.role not in ("admin", "statistician", "safety-reviewer"):
            raise HTTPException(403, f"{user.username} ({user.role}) may not read the audit trail")
        def read(s):
            trial_or_404(s, trial_id)
            return [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
                     "entity_id": e.entity_id, "before": json.loads(e.before) if e.before else None,
                     "after": json.loads(e.after) if e.after else None, "reason": e.reason, "hash": e.hash}
                    for e in sv.trial_events(s, trial_id)]
        return run(read)

    @app.get("/api/trials/{trial_id}/export.csv")
    def export_csv(trial_id: int, user: User = Depends(current_user)):
        from fastapi.responses import PlainTextResponse

        from .exports import patients_csv
        text = run(lambda s: patients_csv(s, trial_or_404(s, trial_id)))
        return PlainTextResponse(text, media_type="text/csv")

    @app.get("/api/trials/{trial_id}/decisions.html")
    def decision_log(trial_id: int, user: User = Depends(current_user)):
        from fastapi.responses import HTMLResponse

        from .exports import decision_log_html
        return HTMLResponse(run(lambda s: decision_log_html(s, trial_or_404(s, trial_id))))

    @app.get("/api/trials/{trial_id}/decisions.pdf")
    def decision_log_pdf(trial_id: int, user: User = Depends(current_user)):
        from fastapi.responses import Response

        from .exports import decision_log_pdf as pdf
        return Response(run(lambda s: pdf(s, trial_or_404(s, trial_id))), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="decision-log-{trial_id}.pdf"'})

    from .pages import add_pages
    add_pages(app, make, key, secure_cookies=secure_cookies, login_allowed=login_allowed, login_failed=login_failed)
    app.state.engine = engine
    return app
