"""BF-BOIN (``boin-backfill``) against bfboin 0.1.1 ``get.oc.bf`` (with BOIN 2.7.2).

Reference data: ``data/boin/backfill.json``, copied unchanged from the project reference set
``shared/reference/boin/backfill.json`` (generated 2026-12-04 with R 4.2.2, bfboin 0.1.1 = github
openpharma/bfboin @ 03a1b83, BOIN 2.7.2 = github cran/BOIN @ 6c3a0c2, on the project's machine kind).

* the decision table and the Weibull parameters of each scenario (``helpers``), exactly (rel. 1e-12);
* the 6 logged trials, replayed from their recorded draws (arrival clocks, latent DLT times, responses, the
  random backfill dose): every patient's role and dose, every cohort evaluation (totals, per-dose decisions,
  path, next dose, eliminated doses), every backfill check (the open doses, the chosen one), the final counts,
  the MTD and the duration;
* the 3 Monte Carlo scenarios (10,000 trials each in R) by z-scores with the combined SE, as ``how_to_compare``
  says: |z| < 4 for every reported number, equality where both SEs are 0.
"""

import math

import numpy as np
import pytest

from adcbridge.dosefinding import simulate
from adcbridge.dosefinding.backfill.design import BackfillBoinDesign
from adcbridge.dosefinding.backfill.events import ROLES, run_trials
from adcbridge.dosefinding.backfill.log import EventLog
from adcbridge.dosefinding.backfill.rules import DECISION_WORDS, PATHS, tables_for
from adcbridge.dosefinding.backfill.timing import ReplayDraws, weibull_parameters
from tests.refdata import load_reference

REF = load_reference("boin", "backfill.json")
CASES = REF["get_oc_bf"]
HELPERS = {h["id"]: h for h in REF["helpers"]}
IDS = [c["id"] for c in CASES]
TRIALS = [(c["id"], k) for c in CASES for k in range(len(HELPERS[c["id"]]["logged_trials"]))]

#: the reference log's names of the evaluation paths that occur in it
PATH_NAMES = {"escalate": "escalate", "stay": "stay", "deescalate": "de-escalate",
              "escalate_blocked": "escalate blocked -> stay", "stay_lowest": "de-escalate at dose 1 -> stay",
              "eliminate": "eliminate d and above, de-escalate",
              "pooled_escalate": "conflict: pooled data say escalate -> d+1",
              "pooled_escalate_blocked": "conflict: pooled data say escalate, blocked -> stay"}


def design_of(args) -> BackfillBoinDesign:
    return BackfillBoinDesign(
        target=args["target"], n_doses=len(args["p.true"]), cohort_size=args["cohortsize"],
        n_cohorts=args["ncohort"], n_earlystop=args["n.earlystop"], start_dose=args["startdose"],
        titration=args["titration"], p_saf=args["p.saf"], p_tox=args["p.tox"], cutoff_eli=args["cutoff.eli"],
        extrasafe=args["extrasafe"], offset=args["offset"], bound_mtd=args["boundMTD"], n_cap=args["n.cap"],
        end_backfill=args["end.backfill"], dlt_window=args["dlt.window"],
        three_plus_three=args["three.plus.three"], backfill_assign=args["backfill.assign"])


def _case(case_id):
    return next(c for c in CASES if c["id"] == case_id)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decision_table_and_weibull_parameters(case):
    args, helper = case["args"], HELPERS[case["id"]]
    t = tables_for(design_of(args))
    tab = helper["decision_table"]
    n = np.array(tab["n"])
    assert n.tolist() == list(range(1, len(n) + 1))
    assert t.E[n].tolist() == tab["escalate_if_ntox_le"]
    assert t.D[n].tolist() == tab["deescalate_if_ntox_ge"]
    assert [None if x >= 10 ** 6 else int(x) for x in t.X[n]] == tab["eliminate_if_ntox_ge"]
    shape, scale = weibull_parameters(args["p.true"], args["dlt.window"])
    np.testing.assert_allclose(shape, helper["weibull_shape"], rtol=1e-12)
    np.testing.assert_allclose(scale, helper["weibull_scale"], rtol=1e-12)


def _replay(case_id, k):
    case = _case(case_id)
    args, trial = case["args"], HELPERS[case_id]["logged_trials"][k]
    P = trial["patients"]
    clock = np.array([P["clock"]], dtype=float)
    tstar = np.array([[np.nan if v is None else v for v in P["tstar"]]])
    response = np.array([[0 if v is None else v for v in P["response"]]])
    chosen = np.array([[d - 1 if r == "backfill" else -1 for r, d in zip(P["role"], P["dose"])]])
    design = design_of(args)
    log = EventLog(design.dlt_window)
    out = run_trials(design, args["p.true"], ReplayDraws(clock, tstar, response, chosen), 1, log=log)
    return design, trial, out, log


@pytest.mark.parametrize("case_id,k", TRIALS, ids=[f"{c}-{k + 1}" for c, k in TRIALS])
def test_logged_trial_is_replayed_exactly(case_id, k):
    _, trial, out, log = _replay(case_id, k)
    P = trial["patients"]
    ours = log.arrivals[0]
    assert len(ours) == len(P["patient"])
    for i, p in enumerate(ours):
        assert ROLES[p.role] == P["role"][i], f"patient {i + 1}"
        if p.dose is not None:
            assert p.dose + 1 == P["dose"][i], f"patient {i + 1}"
            assert p.dlt == P["dlt"][i], f"patient {i + 1}"
            assert math.isclose(p.assessed, P["dlt_assessed_at"][i], rel_tol=1e-12), f"patient {i + 1}"
    assert out.n[0].tolist() == trial["n"]
    assert out.y[0].tolist() == trial["y"]
    assert int(out.mtd[0]) + 1 == trial["dselect"]
    assert math.isclose(out.duration[0], trial["max.t"], rel_tol=1e-12)
    assert out.backfill[0].tolist() == trial["backfill_treated"]
    assert out.backfill_counted[0].tolist() == trial["backfill_counted"]


@pytest.mark.parametrize("case_id,k", TRIALS, ids=[f"{c}-{k + 1}" for c, k in TRIALS])
def test_logged_evaluations_and_backfill_checks(case_id, k):
    design, trial, _, log = _replay(case_id, k)
    J = design.n_doses
    evaluations = log.evaluations[0]
    assert len(evaluations) == len(trial["evaluations"])
    for ours, ref in zip(evaluations, trial["evaluations"]):
        where = f"cohort {ref['cohort']}"
        assert ours["step"] + 1 == ref["patient"], where
        assert ours["dose"] + 1 == ref["dose"], where
        assert ours["n_total"] == ref["n_total"] and ours["y_total"] == ref["y_total"], where
        assert [DECISION_WORDS[v].replace("-", "") for v in ours["decisions"]] == ref["decisions"], where
        assert PATH_NAMES[PATHS[ours["path"]]] == ref["path"], where
        assert ours["next_dose"] + 1 == ref["next_dose"], where
        assert [int(j >= ours["elim"]) for j in range(J)] == ref["eliminated"], where
        assert ours["stop"] == ref["trial_stops"], where
        assert ours["early"] == ref["trial_ends"], where          # the log's "trial ends" is the early stop
    checks = log.backfill_checks.get(0, [])
    assert len(checks) == len(trial["backfill_checks"])
    for ours, ref in zip(checks, trial["backfill_checks"]):
        assert ours["step"] + 1 == ref["patient"]
        assert ours["dose"] + 1 == ref["current_dose"]
        assert ours["open"] == [j for j, v in enumerate(ref["open"]) if v], f"patient {ref['patient']}"
        assert (None if ours["chosen"] is None else ours["chosen"] + 1) == ref["chosen"]


def _z(ours, se_ours, ref, se_ref):
    ours, se_ours, ref, se_ref = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (ours, se_ours, ref, se_ref))
    se = np.sqrt(se_ours ** 2 + se_ref ** 2)
    both_zero = se == 0
    assert np.all(ours[both_zero] == ref[both_zero])
    return np.where(both_zero, 0.0, (ours - ref) / np.where(both_zero, 1.0, se))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_operating_characteristics_agree_with_the_reference(case):
    args = case["args"]
    design = design_of(args)
    oc = simulate(design, args["p.true"], n_trials=10_000, seed=20261204, q_true=args["p.response.true"],
                  accrual=args["accrual"], accrual_rate=args["n.per.month"])
    ref, se_ref = case["result"], case["mc_standard_error"]
    ours = {"selpercent": (oc.selection_pct, oc.se["selection_pct"]),
            "npatients": (oc.patients_mean, oc.se["patients_mean"]),
            "percentpatients": (oc.extra["patients_pct"], oc.se["patients_pct"]),
            "ntox": (oc.dlt_mean, oc.se["dlt_mean"]), "totaltox": (oc.dlt_total_mean, oc.se["dlt_total_mean"]),
            "totaln": (oc.n_mean, oc.se["n_mean"]), "percentstop": (oc.no_mtd_pct, oc.se["no_mtd_pct"]),
            "duration": (oc.duration_mean, oc.se["duration_mean"])}
    for key, (value, se) in ours.items():
        z = _z(value, se, ref[key], se_ref[key])
        assert np.all(np.abs(z) < 4), f"{key}: z = {np.round(z, 2).tolist()}"
