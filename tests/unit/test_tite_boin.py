"""TITE-BOIN: bad input (one-line errors naming the parameter, option or patient), the live decision's record,
the deliberate rules of docs/tite_boin.md, reproducibility, the decision table and pathways.

Expected numbers come from the rules as written (SPEC 1.6, lambda_e = 0.2365 and lambda_d = 0.3585 for target
0.3 from SPEC 1.2), never from running adcbridge."""

import numpy as np
import pytest

from adcbridge.dosefinding import History, Patient, next_dose, simulate, tite_boin
from adcbridge.spec import SpecError


def _h(*rows, **kw):
    """Patients (cohort, dose, dlt, followup)."""
    return History(tuple(Patient(f"P{k}", c, d, dlt, followup=f) for k, (c, d, dlt, f) in enumerate(rows, 1)), **kw)


# ------------------------------------------------------------------------------------------------ the spec
@pytest.mark.parametrize("options,param", [
    ({"target": 0.7}, "target"), ({"start_dose": 0}, "start_dose"), ({"start_dose": 6}, "start_dose"),
    ({"max_pending": 1.0}, "max_pending"), ({"max_pending": -0.1}, "max_pending"),
    ({"dlt_window": 0}, "dlt_window"), ({"dlt_window": -28}, "dlt_window"), ({"n_eli": 0}, "n_eli"),
    ({"cutoff_eli": 0.4}, "cutoff_eli"), ({"p_saf": 0.29}, "p_saf"), ({"p_tox": 0.31}, "p_tox"),
    ({"offset": 0.6}, "offset"), ({"cohort_size": 0}, "cohort_size"), ({"dose_levels": (1.0, 2.0)}, "dose_levels"),
])
def test_bad_parameters_name_the_parameter(options, param):
    args = {"target": 0.3, "n_doses": 5, **options}
    with pytest.raises(SpecError) as err:
        from adcbridge.dosefinding import TiteBoinDesign
        TiteBoinDesign(**args)
    msg = str(err.value)
    assert f"'{param}'" in msg and "tite-boin" in msg and "\n" not in msg


def test_cutoff_that_eliminates_a_dose_without_dlt_is_refused():
    """Pr(p > 0.05 | 0 DLTs in 1 patient) = 0.95^2 = 0.9025 > 0.9."""
    with pytest.raises(ValueError, match=r"'cutoff_eli' parameter of tite-boin .* 0 DLTs in 1 patients"):
        tite_boin(0.05, 4, cutoff_eli=0.9, n_eli=1)


def test_protocol_rules_are_refused():
    from adcbridge.dosefinding.rules import stop_at_n
    with pytest.raises(ValueError, match="tite-boin takes no protocol rule"):
        stop_at_n(tite_boin(0.3, 5), 12)


# ------------------------------------------------------------------------------------------ the histories
def test_pending_patient_without_followup_is_named():
    h = _h((1, 1, False, None), (1, 1, None, None))
    with pytest.raises(ValueError, match=r"column 'followup', patient row 2 \(patient 'P2'\): the patient is pending"):
        next_dose(tite_boin(0.3, 5), h)


def test_followup_outside_the_window_is_refused():
    with pytest.raises(ValueError, match=r"column 'followup'.*0 to 1"):
        _h((1, 1, None, 1.5))


def test_cohort_larger_than_the_cohort_size_is_named():
    h = _h(*[(1, 1, False, None)] * 4)
    with pytest.raises(ValueError, match=r"patient row 4 .*cohort 1 has 4 patients, but tite-boin treats cohorts "
                                         r"of 3, and this is patient 4 of it: give it the next cohort number"):
        next_dose(tite_boin(0.3, 5), h)


def test_skipping_a_dose_is_refused():
    with pytest.raises(ValueError, match="skips untried level 2"):
        next_dose(tite_boin(0.3, 5), _h((1, 1, False, None), (2, 3, None, 0.5)))


def test_followup_comes_from_one_source():
    """A pending patient with a follow-up fraction given is not recomputed from his dosing time (nor left as it
    is while the others are): the two sources are refused together, naming the row."""
    h = History((Patient("P1", 1, 1, None, dose_time=0.0), Patient("P2", 1, 1, None, dose_time=7.0, followup=0.9)))
    with pytest.raises(ValueError, match=r"column 'followup', patient row 2 \(patient 'P2'\): the follow-up fraction "
                                         r"is given \(0.9\)"):
        h.with_followup(now=28.0, dlt_window=28.0)
    from adcbridge.dosefinding.tite import TiteBoinDesign
    assert (TiteBoinDesign.uses_followup, TiteBoinDesign.uses_times, TiteBoinDesign.uses_efficacy) == \
        (True, True, False)


def test_followup_from_dosing_times_and_the_date_of_the_decision():
    h = History(tuple(Patient(f"P{k}", 1, 1, None, dose_time=float(t)) for k, t in enumerate((0, 7, 14), 1)))
    h = h.with_followup(now=28.0, dlt_window=28.0)
    assert [p.followup for p in h.patients] == [1.0, 0.75, 0.5]
    d = next_dose(tite_boin(0.3, 5, dlt_window=28), h)
    assert d.decision == "suspend"                   # 3 pending > 0.5 x 3


# -------------------------------------------------------------------------------------- the live decision
def test_suspension_record():
    """2 of 3 patients pending at dose 2 (> 0.5 x 3): accrual suspended, next dose stays 2."""
    h = _h((1, 1, False, None), (1, 1, False, None), (1, 1, False, None),
           (2, 2, False, None), (2, 2, None, 0.5), (2, 2, None, 0.25))
    rec = next_dose(tite_boin(0.3, 5), h).to_record()
    assert (rec["decision"], rec["next_dose"], rec["suspend_accrual"], rec["rule"]) == \
        ("suspend", 2, True, "suspend_accrual")
    dose2 = rec["estimates"][1]
    assert (dose2["n"], dose2["pending"], dose2["followup"], dose2["ess"]) == (1, 2, 0.75, 1.75)
    assert rec["select_mtd"] is False and rec["mtd"] is None


def test_escalation_through_the_effective_sample_size():
    """6 at dose 2, 1 DLT, 2 pending with follow-up 0.5 each: ESS = 4 + 1 = 5, rate 0.2 <= 0.2365: escalate;
    with follow-up 0.1 each ESS = 4.2, rate 0.238 > 0.2365: stay."""
    base = [(1, 1, False, None)] * 3 + [(2, 2, True, None), (2, 2, False, None), (2, 2, False, None),
                                         (3, 2, False, None)]
    d = next_dose(tite_boin(0.3, 5), _h(*base, (3, 2, None, 0.5), (3, 2, None, 0.5)))
    assert (d.decision, d.next_dose, d.extra["suspend_accrual"]) == ("escalate", 3, False)
    d = next_dose(tite_boin(0.3, 5), _h(*base, (3, 2, None, 0.1), (3, 2, None, 0.1)))
    assert (d.decision, d.next_dose) == ("stay", 2)


def test_elimination_of_a_lower_dose_moves_down_two_levels():
    """Dose 2 with 3/3 DLTs is eliminated while the trial is at dose 3: the next dose is 1 (SPEC 9)."""
    h = _h(*[(1, 1, False, None)] * 3, *[(2, 2, True, None)] * 3, (3, 3, False, None), (3, 3, None, 0.9),
           (3, 3, None, 0.9))
    d = next_dose(tite_boin(0.3, 5, max_pending=0.9), h)
    assert (d.decision, d.rule, d.next_dose, d.eliminated) == ("de-escalate", "eliminate", 1, (2, 3, 4, 5))


def test_suspension_cancels_the_n_earlystop_stop():
    """n_earlystop (6) reached with a 'stay' rate (2 DLTs / ESS 5.8 = 0.345), but 2 of 6 pending
    (> 0.33 x 6): the reference suspends instead of stopping (SPEC 9).  With 1 pending it stops."""
    with pytest.warns(UserWarning, match="n_earlystop"):
        design = tite_boin(0.3, 5, n_earlystop=6, max_pending=0.33)
    first = [(1, 1, True, None), (1, 1, False, None), (1, 1, False, None)]
    d = next_dose(design, _h(*first, (2, 1, True, None), (2, 1, None, 0.9), (2, 1, None, 0.9)))
    assert (d.decision, d.rule) == ("suspend", "suspend_accrual")
    d = next_dose(design, _h(*first, (2, 1, True, None), (2, 1, False, None), (2, 1, None, 0.9)))
    assert (d.decision, d.rule, d.select_mtd, d.mtd, d.next_dose) == ("stop", "n_earlystop", True, 1, None)
    assert any(i.code == "pending_at_stop" for i in d.issues)


def test_lowest_dose_deescalation_waits_for_pending_patients():
    """Rate >= lambda_d at dose 1: with a patient pending accrual is suspended, without one the dose stays."""
    d = next_dose(tite_boin(0.3, 3), _h(*[(1, 1, True, None)] * 2, (1, 1, False, None), (2, 1, None, 0.3)))
    assert (d.decision, d.rule, d.next_dose) == ("suspend", "suspend_lowest", 1)
    d = next_dose(tite_boin(0.3, 3), _h(*[(1, 1, True, None)] * 2, (1, 1, False, None), (2, 1, False, None)))
    assert (d.decision, d.rule, d.next_dose) == ("stay", "stay_lowest", 1)


def test_record_replays():
    from adcbridge.dosefinding import NextDose
    h = _h(*[(1, 1, False, None)] * 3, (2, 2, None, 0.5), (2, 2, False, None))
    d = next_dose(tite_boin(0.3, 5), h)
    again = NextDose.replay_record(d.to_record())
    assert again.same_decision(d) and again.extra == {"suspend_accrual": False}


# ------------------------------------------------------------------------------------------- simulation
P = [0.05, 0.15, 0.3, 0.45, 0.6]


@pytest.mark.parametrize("options,name", [
    ({"accrual_rate": 0}, "accrual_rate"), ({"accrual_rate": -1}, "accrual_rate"),
    ({"late_onset": 1.0}, "late_onset"), ({"late_window": 0}, "late_window"), ({"accrual": "weekly"}, "accrual"),
    ({"accrual_rate": "fast"}, "accrual_rate"),
])
def test_bad_scenario_options_are_named(options, name):
    with pytest.raises(ValueError, match=rf"'{name}' scenario option of tite-boin"):
        simulate(tite_boin(0.3, 5), P, n_trials=10, seed=1, **options)


def test_unknown_scenario_option_and_bad_p_true():
    with pytest.raises(ValueError, match="takes no scenario option 'q_true'"):
        simulate(tite_boin(0.3, 5), P, n_trials=10, seed=1, q_true=P)
    with pytest.raises(ValueError, match="'p_true' argument must have one probability per dose"):
        simulate(tite_boin(0.3, 5), P[:4], n_trials=10, seed=1)


def test_reproducible_and_chunked():
    from adcbridge.dosefinding.tite import simulate as sim
    d = tite_boin(0.3, 5)
    a = simulate(d, P, n_trials=3000, seed=7).to_record()
    b = simulate(d, P, n_trials=3000, seed=7).to_record()
    c = simulate(d, P, n_trials=3000, seed=8).to_record()
    for k in ("selection_pct", "patients_mean", "duration_mean", "pca", "se"):
        assert a[k] == b[k]
    assert a["selection_pct"] != c["selection_pct"]
    assert sim._chunk(d) == sim.MAX_CHUNK == 20_000 and sim._chunk(tite_boin(0.3, 5, cohorts=400)) == 500


def test_oc_record_and_time_model():
    d = tite_boin(0.3, 5)
    fast = simulate(d, P, n_trials=2000, seed=1, accrual_rate=6.0)
    slow = simulate(d, P, n_trials=2000, seed=1, accrual_rate=0.5, accrual="uniform")
    rec = fast.to_record()
    for key in ("duration_mean", "duration_sd", "pca", "pos", "poa", "patients_pct"):
        assert key in rec
    for key in ("duration_mean", "pca", "pos", "poa", "selection_pct", "n_mean"):
        assert key in rec["se"]
    assert abs(sum(fast.selection_pct) + fast.no_mtd_pct - 100) < 1e-9
    # 30 patients at 0.5 per unit of time: about 29 gaps of 2 units, then one window
    assert 55 < slow.duration_mean < 75 and fast.duration_mean < 15
    assert slow.se["duration_mean"] > 0 and fast.n_mean <= 30


def test_weibull_calibration():
    """Pr(T < W) = p and Pr(T in the last late_window of W | DLT) = late_onset (SPEC 1.6)."""
    from adcbridge.dosefinding.tite.times import dlt_times, weibull_parameters
    p, W = np.array([0.1, 0.4]), 28.0
    shape, scale = weibull_parameters(p, W, 0.7, 0.4)
    F = lambda t, j: 1 - np.exp(-(t / scale[j]) ** shape[j])     # noqa: E731
    for j in range(2):
        assert abs(F(W, j) - p[j]) < 1e-12 and abs(F(0.6 * W, j) - 0.3 * p[j]) < 1e-12
    u = np.random.default_rng(1).random(200_000) * p[1]
    t = dlt_times(u, shape[1], scale[1], W)
    assert t.max() < W and abs(np.mean(t > 0.6 * W) - 0.7) < 0.01


# ----------------------------------------------------------------------------------- tables and pathways
def test_decision_table_thresholds():
    t = tite_boin(0.3, 5).decision_table(6)
    row = t[(t.n == 3) & (t.dlt == 1) & (t.pending == 1)].iloc[0]
    # 2 complete, 1 DLT: de-escalate iff F <= 1/lambda_d - 2 = 0.7893; escalation would need F >= 2.23 > 1: never
    assert abs(row.deescalate_if_followup_le - (1 / 0.35848 - 2)) < 1e-3
    assert row.escalate_if_followup_ge is None or np.isnan(row.escalate_if_followup_ge)
    assert row.decision.startswith("de-escalate if follow-up <= 0.789") and row.decision.endswith("else stay")
    assert t[(t.n == 3) & (t.pending == 2)].decision.eq("suspend accrual").all()
    assert t[(t.n == 3) & (t.dlt == 3)].decision.item() == "eliminate"
    assert t[(t.n == 6) & (t.dlt == 1) & (t.pending == 0)].decision.item() == "escalate"   # 1/6 <= 0.2365


def test_pathways_with_complete_data_follow_boin():
    p = tite_boin(0.3, 5).pathways(2)
    first = p.drop_duplicates("cohort_1").set_index("cohort_1")["dose_after_1"].to_dict()
    assert first == {"1: 0/3": 2, "1: 1/3": 1, "1: 2/3": 1, "1: 3/3": None}     # 3/3: dose 1 eliminated, stop
    assert p[p.cohort_1 == "1: 3/3"].decision.item() == "stop"


def test_protocol_text_has_the_numbers():
    text = tite_boin(0.3, 5, dlt_window=28, extrasafe=True).protocol_text()
    for piece in ("0.2365", "0.3585", "50%", "28 time units", "beta(0.005, 0.005)", "0.9"):
        assert piece in text
