"""TITE-BOIN against TITEgBOIN 0.4.0 (the reference of SPEC 1.6 and 9).

Source: ``tests/reference/data/boin/tite.json`` is an unchanged copy of ``../shared/reference/boin/tite.json``
(generated with R 4.2.2, TITEgBOIN 0.4.0 from the CRAN snapshot cran/TITEgBOIN, BOIN 2.7.2; each case records the
R call's arguments; see that folder's README.md).

* ``next_TITE_QuasiBOIN`` (14 cases): every field -- next dose, suspension (``pending``), pending patients at the
  current dose (``n.pend``), toxicity stop (``earlystop``), n_earlystop stop (``stop``), elimination flags -- from
  the rules kernel with the reference's ``ft / maxt``, and from the live decision on a patient history;
* ``select_mtd_TITE_QuasiBOIN`` (319 cases): the MTD exactly, and BOIN's own selection where the two disagree
  (the Beta(0.005, 0.005) estimation prior is what differs);
* ``get_oc_TITE_QuasiBOIN`` (the 4 TITE cases, 2,000 reference trials): 10,000 trials here, every reported mean
  within |z| < 4 with the combined SE.  The reference records no Monte Carlo SEs: its SE is taken as ours scaled
  to 2,000 trials (percentages: binomial at the reference's value); ``duration`` uses the recorded SD.

Deliberate choices (docs/tite_boin.md): the case with ``TITE = FALSE`` is plain BOIN run by TITEgBOIN's own
code and is not compared (adcbridge's ``boin`` design is checked against BOIN 2.7.2); ``dose1_deescalate_with_pending``
pins the reference's suspension at dose 1 (a de-escalation rate with patients pending suspends accrual).
"""

import numpy as np
import pytest

from adcbridge.dosefinding import History, Patient, next_dose, select_mtd, simulate, tite_boin
from adcbridge.dosefinding.tite.kernel import RULES, decide, tite_rules
from adcbridge.dosefinding.tite.selection import select_mtd_tite
from tests.refdata import load_reference

REF = load_reference("boin", "tite.json")
NEXT = REF["next_TITE_QuasiBOIN"]
SELECT = REF["select_mtd_TITE_QuasiBOIN"]
OC = [c for c in REF["get_oc_TITE_QuasiBOIN"] if c["args"]["TITE"]]
R_TRIALS = 2000
N_TRIALS = 10_000
Z_MAX = 4.0


def _design(a: dict, n_doses: int):
    return tite_boin(a["target"], n_doses, extrasafe=a.get("extrasafe", False), offset=a.get("offset", 0.05),
                     cutoff_eli=a.get("cutoff.eli", 0.95), n_earlystop=a.get("n.earlystop", 100),
                     max_pending=a.get("maxpen") or 0.5, dlt_window=a.get("maxt") or 1.0)


def _expected(result: dict) -> dict:
    return {"pending": result["pending"], "n.pend": result["n.pend"], "earlystop": result["earlystop"],
            "stop": result["stop"], "elimineed": result["elimineed"], "elimi": result["elimi"],
            "d": result["d"]}


def _as_reference(rule: str, word: str, next_dose, current: int, pending_here: int, eliminated, n_doses: int,
                  suspend: bool) -> dict:
    """Our decision in the reference's fields (d = 0 after a toxicity stop, the current dose after n_earlystop)."""
    flags = [int(j in eliminated) for j in range(1, n_doses + 1)]
    tox_stop = word == "stop" and rule in ("eliminate", "extra_safety")
    early = rule == "n_earlystop"
    return {"pending": int(suspend), "n.pend": pending_here, "earlystop": int(tox_stop), "stop": int(early),
            "elimineed": int(any(flags)), "elimi": flags,
            "d": 0 if tox_stop else current if early else next_dose}


@pytest.mark.parametrize("case", NEXT, ids=[c["id"] for c in NEXT])
def test_next_dose_rules_kernel(case):
    a = case["args"]
    J = len(a["n"])
    design = _design(a, J)
    rules = tite_rules(design, max(a["n"]))
    d = a["d"] - 1
    out = decide(rules, np.array([a["n"]]), np.array([a["y"]]), np.array([a["npend"][d]]),
                 np.array([a["ft"][d]], dtype=float) / a["maxt"], np.array([d]), np.array([sum(a["n"])]))
    code, nxt, first = int(out.code[0]), int(out.next_dose[0]), int(out.first_eliminated[0])
    rule, word = RULES[code]
    eliminated = range(1, J + 1) if rule == "extra_safety" else range(first + 1, J + 1)
    ours = _as_reference(rule, word, nxt + 1, a["d"], a["npend"][a["d"] - 1], eliminated, J,
                         rule.startswith("suspend"))
    assert ours == _expected(case["result"])


def _history(a: dict, cohort_size: int = 3) -> History:
    """The reference's per-dose counts as a patient history: doses in order, known outcomes first (DLTs first),
    the pending patients last with equal shares of the follow-up."""
    patients, cohort, k = [], 0, 0
    for j, (n, m, y, ft) in enumerate(zip(a["n"], a["npend"], a["y"], a["ft"]), start=1):
        outcomes = [True] * y + [False] * (n - m - y) + [None] * m
        for i, dlt in enumerate(outcomes):
            if i % cohort_size == 0:
                cohort += 1
            k += 1
            patients.append(Patient(f"P{k}", cohort, j, dlt, followup=None if dlt is not None else ft / a["maxt"] / m))
    return History(tuple(patients))


@pytest.mark.parametrize("case", NEXT, ids=[c["id"] for c in NEXT])
def test_next_dose_live_decision(case):
    a = case["args"]
    J = len(a["n"])
    design = _design(a, J)
    live = next_dose(design, _history(a))
    rec = live.to_record()
    assert rec["current_dose"] == a["d"]
    ours = _as_reference(live.rule, live.decision, live.next_dose, a["d"],
                         rec["estimates"][a["d"] - 1]["pending"], live.eliminated, J, rec["suspend_accrual"])
    assert ours == _expected(case["result"])
    if rec["suspend_accrual"]:
        assert live.decision == "suspend" and live.next_dose == a["d"]


@pytest.mark.parametrize("case", SELECT, ids=[c["id"] for c in SELECT])
def test_select_mtd(case):
    a = case["args"]
    design = _design(a, len(a["npts"]))
    mtd = select_mtd_tite(design, a["npts"], a["ntox"])
    assert (99 if mtd is None else mtd) == case["MTD"]


def test_select_mtd_differs_from_boin_only_by_the_prior():
    """Where TITEgBOIN and BOIN 2.7.2 disagree, BOIN's own selection gives BOIN's recorded MTD."""
    from adcbridge.dosefinding import boin
    differ = [c for c in SELECT if not c["agrees_with_BOIN"]]
    assert len(differ) >= 3
    for c in differ:
        a = c["args"]
        b = boin(a["target"], len(a["npts"]), extrasafe=a.get("extrasafe", False), offset=a.get("offset", 0.05),
                 cutoff_eli=a.get("cutoff.eli", 0.95))
        mtd = select_mtd(b, a["npts"], a["ntox"]).mtd
        assert (99 if mtd is None else mtd) == c["BOIN_select_mtd_MTD"] != c["MTD"], c["id"]


def _z_pct(ours, ref, se_ours):
    ref, ours = np.asarray(ref, float), np.asarray(ours, float)
    p = np.where(ref > 0, ref, ours) / 100
    se_ref = 100 * np.sqrt(p * (1 - p) / R_TRIALS)
    return (ours - ref) / np.sqrt(se_ref ** 2 + np.asarray(se_ours, float) ** 2 + 1e-300)


def _z_mean(ours, ref, se_ours, sd_ref=None):
    se_ours = np.asarray(se_ours, float)
    se_ref = se_ours * np.sqrt(N_TRIALS / R_TRIALS) if sd_ref is None else sd_ref / np.sqrt(R_TRIALS)
    return (np.asarray(ours, float) - np.asarray(ref, float)) / np.sqrt(se_ref ** 2 + se_ours ** 2 + 1e-300)


@pytest.mark.parametrize("case", OC, ids=[c["id"] for c in OC])
def test_operating_characteristics(case):
    a, r = case["args"], case["result"]
    design = _design(a, len(a["prob"]))
    oc = simulate(design, a["prob"], n_trials=N_TRIALS, seed=2024, accrual_rate=a.get("accrual") or 3.0,
                  late_onset=a.get("alpha1") or 0.5, late_window=a.get("alpha2") or 0.5)
    se = oc.se
    z = {
        "selpercent": _z_pct(oc.selection_pct, r["selpercent"], se["selection_pct"]),
        "percentstop": _z_pct(oc.no_mtd_pct, r["percentstop"], se["no_mtd_pct"]),
        "POS": _z_pct(oc.extra["pos"], r["POS"], se["pos"]),
        "npatients": _z_mean(oc.patients_mean, r["npatients"], se["patients_mean"]),
        "ntox": _z_mean(oc.dlt_mean, r["ntox"], se["dlt_mean"]),
        "totaln": _z_mean(oc.n_mean, r["totaln"], se["n_mean"]),
        "totaltox": _z_mean(oc.dlt_total_mean, r["totaltox"], se["dlt_total_mean"]),
        "PCA": _z_mean(oc.extra["pca"], r["PCA"], se["pca"]),
        "POA": _z_mean(oc.extra["poa"], r["POA"], se["poa"]),
        "duration": _z_mean(oc.duration_mean, r["duration"], se["duration_mean"], r["sdduration"]),
    }
    worst = {k: float(np.max(np.abs(v))) for k, v in z.items()}
    assert max(worst.values()) < Z_MAX, worst
    # the reference's summaries are functions of its means: check ours are the same functions
    np.testing.assert_allclose(oc.extra["patients_pct"], 100 * np.array(oc.patients_mean) / oc.n_mean, rtol=1e-12)
    assert abs(oc.extra["duration_sd"] - r["sdduration"]) < 0.1 * r["sdduration"]
