"""BOIN12 against its reference, phase12designs 0.2.0 (``oc_boin12`` and its internal ``get.boundary``, ``pava``,
``peestimate``) with Iso 0.0-18.1.

Provenance of ``data/boin/boin12.json``: copied unchanged from ``../shared/reference/boin/boin12.json``, generated
on a 2-core Debian VM with R 4.2.2, phase12designs 0.2.0 (github Angela-Cao/phase12designs @ 6cdcb37, installed
with its ``trialr`` import removed), Iso 0.0-18.1 (Debian r-cran-iso) and BOIN 2.7.2 (github cran/BOIN @ 6c3a0c2,
for the boundary comparison); every case records its R call; ``validation`` shows that the state -> decision and
selection functions used for ``next_dose`` and ``obd_selection`` reproduce ``oc_boin12`` trial by trial.

* exact blocks (``boundary_tables``, ``benchmark_utilities``, ``desirability_table``, ``next_dose``,
  ``obd_selection``): integers exactly, floats at relative 1e-12 (desirabilities computed as ``1 - pbeta`` near 1
  carry only R's absolute precision, so they also get an absolute 2e-15);
* ``next_dose``: the shared decision kernel is given the recorded ``runif_used`` values (the reference's
  tie-breaking uniforms), so even the two random-tie cases are reproduced exactly; the live decision on a history
  with the same counts gives the same result where no exact tie is involved, and one of the tied doses where one is;
* ``get_oc``: the simulator at 10,000 trials, |z| < 4 with the combined SE for every returned metric and per-dose
  vector; ``od.pts`` against the intended favourable-dose mask (adcbridge fixes the reference's recycled mask);
* ``if_Iso_0.0_21_installed``: ``efficacy_fit="isotonic"`` reproduces what the same code gives with Iso 0.0-21.
"""

import numpy as np
import pytest

from adcbridge.dosefinding import History, Patient, boin12, simulate
from adcbridge.dosefinding.boin.boundaries import count_tables
from adcbridge.dosefinding.boin.design import BoinDesign
from adcbridge.dosefinding.boin12.boundaries import (
    NEVER,
    NONE_BELOW,
    benchmark_utility,
    boin12_tables,
    desirability,
    quasi_successes,
)
from adcbridge.dosefinding.boin12.kernel import Rule, choose, eliminate
from adcbridge.dosefinding.boin12.selection import select_obd
from tests.refdata import load_reference

REF = load_reference("boin", "boin12.json")
REL = 1e-12


def close(ours, ref, rel=REL, abs_=0.0):
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    assert ours.shape == ref.shape
    assert np.all(np.abs(ours - ref) <= rel * np.abs(ref) + abs_), (ours.tolist(), ref.tolist())


def design_of(d: dict, **kw):
    return boin12(d["target_t"], d["lower_e"], d["ndose"], cohort_size=d["cohortsize"], cohorts=d["ncohort"],
                  utility=(d["w11"], d["w00"]), cutoff_eli=d["psafe"], cutoff_futility=d["pfutility"], **kw)


# ------------------------------------------------------------------------------------------------ boundaries
@pytest.mark.parametrize("case", REF["boundary_tables"], ids=[c["id"] for c in REF["boundary_tables"]])
def test_boundary_tables(case):
    a = case["args"]
    d = boin12(a["target_t"], a["lower_e"], 3, cohort_size=a["cohortsize"], cohorts=a["ncohort"],
               cutoff_eli=a["psafe"], cutoff_futility=a["pfutility"])
    t = boin12_tables(d)
    n = np.array(case["n"])
    assert t.escalate_le[n].tolist() == case["escalate_if_ntox_le"]
    assert t.deescalate_ge[n].tolist() == case["deescalate_if_ntox_ge"]
    assert [None if v >= NEVER else int(v) for v in t.eliminate_ge[n]] == case["eliminate_if_ntox_ge"]
    assert [None if v == NONE_BELOW else int(v) for v in t.futility_le[n]] == case["eliminate_if_neff_le"]
    # BOIN 2.7.2's counts at the same n, and where BOIN12's elimination differs from them (search from 3 DLTs)
    b = case["BOIN_2.7.2_same_n"]
    bt = count_tables(BoinDesign(target=a["target_t"], n_doses=3, cohort_size=a["cohortsize"],
                                 n_cohorts=a["ncohort"], cutoff_eli=a["psafe"]))
    assert bt.escalate_le[n].tolist() == b["escalate_if_ntox_le"]
    assert bt.deescalate_ge[n].tolist() == b["deescalate_if_ntox_ge"]
    differs = [int(k) for k, x, y in zip(n, t.eliminate_ge[n], bt.eliminate_ge[n]) if x != y]
    assert differs == case["n_where_differs_from_BOIN"]["eliminate"]


@pytest.mark.parametrize("case", REF["benchmark_utilities"])
def test_benchmark_utilities(case):
    ub = benchmark_utility(case["target_t"], case["lower_e"], case["w11"], case["w00"])
    close(ub, case["benchmark_utility"])
    close(2 * ub - 100, case["utility_at_targets"])
    d = boin12(case["target_t"], case["lower_e"], 3, utility=(case["w11"], case["w00"]))
    close(boin12_tables(d).prior_desirability, case["prior_desirability_untreated"])


def test_desirability_table():
    dt = REF["desirability_table"]
    de = dt["design"]
    assert dt["columns"] == ["n", "ntox", "neff", "x_quasi_successes", "desirability"]
    rows = np.array(dt["rows"], dtype=float)
    ub = benchmark_utility(de["target_t"], de["lower_e"], de["w11"], de["w00"])
    assert ub == de["benchmark_utility"]
    n, yt, ye = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2].astype(int)
    close(quasi_successes(n, yt, ye, de["w11"], de["w00"]), rows[:, 3])
    close(desirability(n, yt, ye, de["w11"], de["w00"], ub), rows[:, 4], abs_=2e-15)
    assert len(rows) == sum((m + 1) ** 2 for m in range(3, 16, 3))


# -------------------------------------------------------------------------------------------------- next dose
def _kernel(case):
    d = design_of(case["design"])
    st, it = case["state"], case["internals"]
    t = boin12_tables(d)
    n, yt, ye = (np.array([st[k]]) for k in ("npts", "ntox", "neff"))
    tox = np.zeros(n.shape, dtype=bool)
    other = np.array([st["eliminated_before"]]) > 0
    cur = np.array([st["current_dose"] - 1])
    tox_hit, fut_hit = eliminate(t, n, yt, ye, tox, other, cur)
    r = np.zeros((1, 3))
    used = it["runif_used"] or []
    r[0, :len(used)] = used
    raw = desirability(n, yt, ye, *d.utility, t.benchmark)
    return choose(t, n, yt, raw, tox | other, tox_hit, cur, r, d.max_sample_size), tox | other, tox_hit, fut_hit


@pytest.mark.parametrize("case", REF["next_dose"], ids=[c["id"] for c in REF["next_dose"]])
def test_next_dose_kernel_with_the_recorded_uniforms(case):
    it, res = case["internals"], case["result"]
    step, flags, tox_hit, fut_hit = _kernel(case)
    b = it["boundaries_at_n_current"]
    t = boin12_tables(design_of(case["design"]))
    nd = case["state"]["npts"][case["state"]["current_dose"] - 1]
    assert [int(t.eliminate_ge[nd]) if t.eliminate_ge[nd] < NEVER else None, int(t.deescalate_ge[nd]),
            int(t.escalate_le[nd]), int(t.futility_le[nd]) if t.futility_le[nd] != NONE_BELOW else None] == \
           [b["eliminate_if_ntox_ge"], b["deescalate_if_ntox_ge"], b["escalate_if_ntox_le"], b["eliminate_if_neff_le"]]
    assert bool(tox_hit[0]) == it["toxicity_elimination"] and bool(fut_hit[0]) == it["futility_elimination"]
    assert flags[0].astype(int).tolist() == it["eliminated_after"]
    close(step.desirability[0], it["desirability"], abs_=2e-15)
    assert [int(v) + 1 for v in step.candidates[0] if v >= 0] == (it["admissible"] or [])
    chosen = int(step.chosen[0])
    assert (chosen + 1 if chosen >= 0 else None) == it["chosen_before_exploration"]
    assert (step.rule[0] == Rule.EXPLORATION) == it["exploration_rule_applied"]
    assert bool((step.tied[0] >= 0).any()) == it["exact_tie_at_top"]
    nxt = int(step.next_dose[0])
    assert (nxt + 1 if nxt >= 0 else None) == res["next_dose"]
    assert bool(step.stop[0]) == res["stop"] and bool(step.end[0]) == res["trial_end"]


def _history(case):
    """A history with the case's counts: doses in increasing order, one cohort of the current dose last."""
    st, c = case["state"], case["design"]["cohortsize"]
    cur = st["current_dose"] - 1
    cohorts = []
    for j, m in enumerate(st["npts"]):
        k = m // c
        tox = [True] * st["ntox"][j] + [False] * (m - st["ntox"][j])
        eff = [True] * st["neff"][j] + [False] * (m - st["neff"][j])
        for i in range(k):
            cohorts.append((j, tox[i * c:(i + 1) * c], eff[i * c:(i + 1) * c]))
    last = max(i for i, co in enumerate(cohorts) if co[0] == cur)
    cohorts.append(cohorts.pop(last))
    patients = []
    for number, (j, tox, eff) in enumerate(cohorts, start=1):
        for a, b in zip(tox, eff):
            patients.append(Patient(f"P{len(patients) + 1}", number, j + 1, a, efficacy=b))
    return History(tuple(patients)), cohorts[0][0] + 1


def test_live_decision_on_histories_with_the_cases_counts():
    """Where a history replays to the case's elimination flags, the live decision gives the reference's result
    (one of the tied doses for the two random-tie cases)."""
    checked = 0
    for case in REF["next_dose"]:
        h, start = _history(case)
        d = design_of(case["design"], start_dose=start)
        live = d.decide(d.check_history(h))
        flags = [int(j in live.eliminated) for j in range(1, d.n_doses + 1)]
        if flags != case["internals"]["eliminated_after"]:
            continue                                    # the case's flags came from another course
        res = case["result"]
        if case["internals"]["exact_tie_at_top"]:
            tied = sorted(live.extra["tied_doses"])
            assert tied == [1, 3] and live.next_dose in tied
        elif res["trial_end"]:
            assert live.next_dose is None and live.select_mtd and live.rule == "dose_full"
        else:
            assert live.next_dose == res["next_dose"], case["id"]
            assert (live.decision == "stop") == res["stop"]
        checked += 1
    assert checked >= 10


# ---------------------------------------------------------------------------------------------- OBD selection
KEYS = {"raw_tox": "raw_tox", "pava_tox": "pava_tox", "pT_est": "p_est", "raw_eff": "raw_eff",
        "unimodal_fit_by_mode": "fits", "likelihood_by_mode": "likelihood", "model_weight_by_mode": "model_weight",
        "pE_est": "q_est", "utility": "utility"}


@pytest.mark.parametrize("case", REF["obd_selection"], ids=[c["id"] for c in REF["obd_selection"]])
def test_obd_selection(case):
    d, data = case["design"], case["data"]
    args = ([data["npts"]], [data["ntox"]], [data["neff"]], [np.array(data["eliminated"]) > 0])
    s = select_obd(design_of(d), *args)
    for ref_key, ours in KEYS.items():
        close(getattr(s, ours)[0], case["internals"][ref_key])
    assert (int(s.mtd[0]) + 1, int(s.obd[0]) + 1) == (case["result"]["mtd_est"], case["result"]["obd"])
    iso21 = case["if_Iso_0.0_21_installed"]
    s21 = select_obd(design_of(d, efficacy_fit="isotonic"), *args)
    close(s21.q_est[0], iso21["pE_est"])
    close(s21.utility[0], iso21["utility"])
    assert int(s21.obd[0]) + 1 == iso21["obd"]


# ------------------------------------------------------------------------------------ operating characteristics
def _oc(case, n_trials=10_000, seed=2026, **kw):
    a = case["args"]
    d = boin12(a["target_t"], a["lower_e"], a["ndose"], cohort_size=a["cohortsize"], cohorts=a["ncohort"],
               start_dose=a["startdose"], utility=(a["u1"], a["u2"]), cutoff_eli=a["psafe"],
               cutoff_futility=a["pfutility"], **kw)
    return simulate(d, a["prob"]["pT"], n_trials=n_trials, seed=seed, q_true=a["prob"]["pE"])


def _z(ours, se_ours, ref, se_ref):
    ours, se_ours, ref, se_ref = (np.asarray(v, dtype=float) for v in (ours, se_ours, ref, se_ref))
    both_zero = (se_ours == 0) & (se_ref == 0)
    assert np.all(np.abs(ours - ref)[both_zero] < 1e-9)
    return np.abs(ours - ref)[~both_zero] / np.hypot(se_ours, se_ref)[~both_zero]


@pytest.mark.parametrize("case", REF["get_oc"], ids=[c["id"] for c in REF["get_oc"]])
def test_get_oc_by_z_scores(case):
    assert case["error"] is None
    oc = _oc(case)
    ex, se, r, rse, per = oc.extra, oc.se, case["result"], case["mc_standard_error"], case["per_dose"]
    assert (ex["true_mtd"], ex["true_obd"]) == (case["true_mtd"], case["true_obd"])
    close(ex["true_utility"], case["true_utility"])
    assert ex["favourable_doses"] == case["favorable_doses_within_5pct"]
    intended = case["od.pts_mask"]["intended"]
    assert [j + 1 for j, m in enumerate(intended) if m] == ex["favourable_doses"]
    pairs = [  # (ours, our SE, reference, reference SE)
        (ex["pcs_obd"], se["pcs_obd"], r["bd.sel"], rse["bd.sel"]),
        (oc.pcs, se["pcs"], r["bd.sel"], rse["bd.sel"]),
        (ex["favourable_pct"], se["favourable_pct"], r["od.sel"], rse["od.sel"]),
        (ex["patients_at_obd_pct"], se["patients_at_obd_pct"], r["bd.pts"], rse["bd.pts"]),
        (ex["patients_favourable_pct"], se["patients_favourable_pct"],
         case["od.pts_mask"]["od.pts_with_intended_mask"], case["od.pts_mask"]["od.pts_with_intended_mask_se"]),
        (oc.stop_pct, se["stop_pct"], r["earlystop"], rse["earlystop"]),
        (oc.no_mtd_pct, se["no_mtd_pct"], r["earlystop"], rse["earlystop"]),
        (oc.dlt_total_mean, se["dlt_total_mean"], r["ntox"], rse["ntox"]),
        (ex["responses_total_mean"], se["responses_total_mean"], r["neff"], rse["neff"]),
        (ex["overdose_pct"], se["overdose_pct"], r["overdose"], rse["overdose"]),
        (ex["poor_allocation_pct"], se["poor_allocation_pct"], r["poorall"], rse["poorall"]),
        (ex["overdose_selection_pct"], se["overdose_selection_pct"], r["ov.sel"], rse["ov.sel"]),
        (oc.selection_pct, se["selection_pct"], per["selpercent"], rse["selpercent"]),
        (oc.patients_mean, se["patients_mean"], per["npatients"], rse["npatients"]),
        (oc.dlt_mean, se["dlt_mean"], per["ntox"], rse["ntox_per_dose"]),
        (ex["responses_mean"], se["responses_mean"], per["neff"], rse["neff_per_dose"]),
        (oc.n_mean, se["n_mean"], per["mean_total_patients"], rse["mean_total_patients"]),
    ]
    z = np.concatenate([np.atleast_1d(_z(*p)) for p in pairs])
    assert z.size == 13 + 4 * len(oc.selection_pct) and np.all(z < 4), np.round(z, 2).tolist()
    close(sum(oc.selection_pct) + oc.no_mtd_pct, 100.0)


@pytest.mark.parametrize("case", REF["get_oc"], ids=[c["id"] for c in REF["get_oc"]])
def test_get_oc_with_the_isotonic_efficacy_fit_matches_iso_0_0_21(case):
    iso = case["if_Iso_0.0_21_installed"]
    oc = _oc(case, efficacy_fit="isotonic")
    z = _z(oc.selection_pct, oc.se["selection_pct"], iso["selpercent"], iso["selpercent_se"])
    assert np.all(z < 4), np.round(z, 2).tolist()
