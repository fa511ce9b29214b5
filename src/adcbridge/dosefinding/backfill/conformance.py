"""The simulator's decision points as (history, expected decision) pairs, for the conformance test.

A few trials are simulated with the event log on (:class:`~.log.EventLog`).  At each arrival where the simulator
decided something -- a cohort evaluation, a backfill check, a patient referred away while the cohort is pending,
a patient joining a cohort -- the history is rebuilt *as it was then*: the patients enrolled before, each with his
arrival (``dose_time``), his DLT outcome only if his assessment had ended (else pending; no ``followup``: the
design does not use follow-up fractions, and :func:`~adcbridge.dosefinding.next_dose` refuses them), his
``assess_time``, and his response (``efficacy``) only if it was known (escalation patients, one window after
arrival).  The expected record keys are what the simulator did.
"""

from __future__ import annotations

import numpy as np

from ..history import History, Patient
from .events import BACKFILL, CLOSED, COHORT, EVAL_NEXT, REFERRED, run_trials
from .log import EventLog
from .simulate import check_scenario
from .timing import RandomDraws

__all__ = ["SCENARIO", "history_at", "logged_cases"]

#: the scenario of the logged trials: doses from safe to toxic, responses at every dose, fast accrual (so that
#: backfill happens often)
SCENARIO = {"accrual": "uniform", "accrual_rate": 4.0}


def history_at(design, patients, upto: int, now: float) -> History:
    """The history of the first ``upto`` logged arrivals as known at time ``now`` (treated patients only)."""
    W = design.dlt_window
    out, cohort, last_key = [], 0, None
    for i, p in enumerate(patients[:upto]):
        if p.dose is None:
            continue
        backfill = p.role == BACKFILL
        key = (backfill, p.dose)
        if cohort == 0 or p.role == EVAL_NEXT or (backfill and key != last_key):
            cohort += 1
        last_key = key
        known = p.assessed < now
        efficacy = None if backfill or p.clock + W >= now else bool(p.response)
        out.append(Patient(f"P{i + 1}", cohort, p.dose + 1, bool(p.dlt) if known else None, dose_time=p.clock,
                           assess_time=p.assessed if known else None, efficacy=efficacy, backfill=backfill))
    return History(tuple(out))


def logged_cases(design, n_trials: int = 40, seed: int = 1):
    """Yield ``(history, expected)`` at the decision points of ``n_trials`` logged trials: half in a scenario
    rising from safe to toxic doses, half in one where every dose is toxic (toxicity stops)."""
    J = design.n_doses
    scenarios = (np.linspace(0.05, 0.5, J), np.linspace(0.35, 0.6, J))
    for k, p_true in enumerate(scenarios):
        yield from _cases(design, p_true, np.full(J, 0.5), n_trials // 2 + (n_trials % 2) * (k == 0), seed + k)


def _cases(design, p_true, q_true, n_trials: int, seed: int):
    J = design.n_doses
    p, q, accrual, rate = check_scenario(design, p_true, q_true, **SCENARIO)
    log = EventLog(design.dlt_window)
    draws = RandomDraws(np.random.default_rng(np.random.SeedSequence(seed)), p, q, design.dlt_window, accrual, rate)
    out = run_trials(design, p, draws, n_trials, log=log)
    for t in range(n_trials):
        patients = log.arrivals.get(t, [])
        evaluations = {e["step"]: e for e in log.evaluations.get(t, [])}
        checks = {b["step"]: b for b in log.backfill_checks.get(t, [])}
        current = design.start_dose - 1
        referred = False
        for i, p in enumerate(patients):
            if i == 0:
                continue
            if p.step in evaluations:
                e = evaluations[p.step]
                ends = e["ends"]
                expected = {"next_dose": None if ends else e["next_dose"] + 1,
                            "eliminated": list(range(e["elim"] + 1, J + 1))}
                if ends:
                    expected["decision"] = "stop"
                    expected["mtd"] = None if out.mtd[t] < 0 else int(out.mtd[t]) + 1
                else:
                    current = e["next_dose"]
                referred = False
            elif p.role in (BACKFILL, CLOSED) or (p.role == REFERRED and not referred):
                referred = referred or p.role == REFERRED
                b = checks.get(p.step)
                expected = {"next_dose": current + 1, "awaiting_outcomes": True,
                            "backfill_open": [] if b is None else [k + 1 for k in b["open"]]}
                if design.backfill_assign != "random":
                    expected["backfill_dose"] = None if p.role != BACKFILL else p.dose + 1
            elif p.role == COHORT and i + 1 < len(patients) and patients[i + 1].role != COHORT:
                expected = {"next_dose": current + 1, "awaiting_outcomes": False, "backfill_open": []}
            else:
                continue
            yield history_at(design, patients, i, p.clock), expected
