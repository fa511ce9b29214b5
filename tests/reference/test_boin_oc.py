"""BOIN operating characteristics against the exact (enumerated) results of BOIN 2.7.2's get.oc algorithm.

* the exact enumerator must equal every case of get_oc_exact.json at relative 1e-9;
* the Monte Carlo simulator at 1e5 trials must agree with the exact values within |z| < 4 for every reported
  quantity (selection %, no-MTD %, patients and DLTs per dose, mean sample size);
* the two designs too large for the reference enumerator are enumerated here and compared with the reference's
  Monte Carlo results (10,000 trials) by their standard errors.
"""

import numpy as np
import pytest

from adcbridge.dosefinding import exact_oc, simulate
from tests.refdata import load_reference

from ._boin_args import design_from_r

EXACT = [c for c in load_reference("boin", "get_oc_exact.json")["cases"] if not c.get("skipped")]
SKIPPED = {c["id"] for c in load_reference("boin", "get_oc_exact.json")["cases"] if c.get("skipped")}
MC = {c["id"]: c for c in load_reference("boin", "get_oc_ntrial10000.json")["cases"]}
IDS = [c["id"] for c in EXACT]


def _design(case):
    return design_from_r(case["args"], len(case["args"]["p.true"]))


def _ours(oc):
    return {"selpercent": oc.selection_pct, "npatients": oc.patients_mean, "ntox": oc.dlt_mean,
            "totaln": oc.n_mean, "totaltox": oc.dlt_total_mean, "percentstop": oc.no_mtd_pct,
            "overdose60": oc.overdose60_pct, "overdose80": oc.overdose80_pct}


@pytest.mark.parametrize("case", EXACT, ids=IDS)
def test_exact_enumeration_equals_reference(case):
    oc = exact_oc(_design(case), case["args"]["p.true"])
    ref = case["exact"]
    for key, ours in _ours(oc).items():
        if key.startswith("overdose") and ref.get(key) is None:
            continue
        np.testing.assert_allclose(np.asarray(ours), np.asarray(ref[key]), rtol=1e-9, atol=0, err_msg=key)


@pytest.mark.parametrize("case", EXACT, ids=IDS)
def test_monte_carlo_agrees_with_exact(case):
    T = 100_000
    oc = simulate(_design(case), case["args"]["p.true"], n_trials=T, seed=20261125)
    ref = case["exact"]
    floor = case["args"]["ncohort"] * case["args"]["cohortsize"] / T      # SE floor when no trial saw an event
    checks = [
        (oc.selection_pct, ref["selpercent"], None),
        (oc.patients_mean, ref["npatients"], oc.se["patients_mean"]),
        (oc.dlt_mean, ref["ntox"], oc.se["dlt_mean"]),
        ([oc.n_mean], [ref["totaln"]], [oc.se["n_mean"]]),
        ([oc.no_mtd_pct], [ref["percentstop"]], None),
    ]
    for ours, exact, se in checks:
        ours, exact = np.asarray(ours, float), np.asarray(exact, float)
        if se is None:      # percentages: binomial SE at the exact probability (at least one event in T)
            p = np.maximum(exact / 100, 1 / T)
            se = 100 * np.sqrt(p * (1 - p) / T)
        se = np.maximum(np.asarray(se, float), floor)
        z = (ours - exact) / se
        assert np.all(np.abs(z) < 4), (ours, exact, z)


@pytest.mark.parametrize("case_id", sorted(SKIPPED))
def test_exact_enumeration_of_designs_too_large_for_the_reference(case_id):
    case = MC[case_id]
    oc = exact_oc(_design(case), case["args"]["p.true"])
    r, se = case["result"], case["mc_standard_error"]
    for key, ours in [("selpercent", oc.selection_pct), ("npatients", oc.patients_mean), ("ntox", oc.dlt_mean)]:
        s = np.maximum(np.asarray(se[key], float), 1e-3)
        z = (np.asarray(r[key]) - np.asarray(ours)) / s
        assert np.all(np.abs(z) < 4), (key, z)
    assert abs(r["percentstop"] - oc.no_mtd_pct) / max(se["percentstop"], 1e-3) < 4


@pytest.mark.parametrize("case_id", sorted(SKIPPED))
def test_monte_carlo_of_designs_too_large_for_the_reference(case_id):
    """Our simulator against the reference's Monte Carlo, with the combined standard error."""
    case = MC[case_id]
    oc = simulate(_design(case), case["args"]["p.true"], n_trials=100_000, seed=20261125)
    r, se = case["result"], case["mc_standard_error"]
    for key, ours, our_se in [("selpercent", oc.selection_pct, oc.se["selection_pct"]),
                              ("npatients", oc.patients_mean, oc.se["patients_mean"]),
                              ("ntox", oc.dlt_mean, oc.se["dlt_mean"])]:
        s = np.sqrt(np.asarray(se[key], float) ** 2 + np.asarray(our_se, float) ** 2)
        z = (np.asarray(r[key]) - np.asarray(ours)) / np.maximum(s, 1e-3)
        assert np.all(np.abs(z) < 4), (key, z)


def test_two_doses_at_the_target_is_not_an_error():
    """P12: R 4.2 errors in get.oc when two doses equal the target; adcbridge defines overdosing by
    p_true > target and simply computes it."""
    case = MC["F14_two_doses_at_target_overdose_bug"]
    assert case["error"]
    oc = exact_oc(_design(case), case["args"]["p.true"])
    assert 0 <= oc.overdose60_pct <= 100
    assert oc.pcs == pytest.approx(oc.selection_pct[1] + oc.selection_pct[2])
