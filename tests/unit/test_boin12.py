"""BOIN12: bad input (one-line errors naming the parameter or the patient), the deterministic live decision, the
end-of-trial selection in the record, pathways, and SPEC 7.6's worked example of Iso 0.0-18.1's unimodal fit."""

import json

import numpy as np
import pytest

from adcbridge.dosefinding import History, NextDose, Patient, boin12, next_dose, protocol_text, simulate
from adcbridge.dosefinding.boin12.unimodal import unimodal_fit
from adcbridge.dosefinding.rules import stop_at_n
from adcbridge.spec import SpecError


def _history(cohorts, start=1):
    """cohorts: (dose, DLTs, responses) of cohorts of 3."""
    patients = []
    for k, (dose, dlt, resp) in enumerate(cohorts, start=1):
        for i in range(3):
            patients.append(Patient(f"P{len(patients) + 1}", k, dose, i < dlt, efficacy=i < resp))
    return History(tuple(patients))


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("options,message", [
    ({"target": 0.9}, r"^The 'target' parameter of boin12 must be in \[0.05, 0.6\]. Got 0.9.$"),
    ({"efficacy_min": 1.2}, r"^The 'efficacy_min' parameter of boin12 must be a response probability in \(0, 1\)"),
    ({"utility": (120, 40)}, r"^The 'utility' parameter of boin12 must be a pair \(u11, u00\) of utilities in "
                             r"\[0, 100\].*got \(120, 40\)"),
    ({"utility": (60,)}, r"^The 'utility' parameter of boin12 must be a pair"),
    ({"utility": "60;40"}, r"^The 'utility' parameter of boin12 must be two utilities 'u11,u00'"),
    ({"start_dose": 7}, r"^The 'start_dose' parameter of boin12 must be in 1..n_doses = 1..5. Got 7.$"),
    ({"p_saf": 0.35}, r"^The 'p_saf' parameter of boin12 must be in \(0, target\)"),
    ({"p_tox": 0.25}, r"^The 'p_tox' parameter of boin12 must be in \(target, 1\)"),
    ({"cutoff_futility": 1.0}, r"^The 'cutoff_futility' parameter of boin12"),
    ({"efficacy_fit": "spline"}, r"^The 'efficacy_fit' parameter of boin12"),
    ({"dose_levels": (1.0, 2.0)}, r"^The 'dose_levels' parameter of boin12 must have n_doses = 5 values"),
])
def test_spec_errors_name_the_parameter(options, message):
    args = {"target": 0.3, "efficacy_min": 0.4, "n_doses": 5, **options}
    from adcbridge.dosefinding import Boin12Design
    with pytest.raises(SpecError, match=message):
        Boin12Design(**args)


def test_utility_as_the_command_line_writes_it():
    assert boin12(0.3, 0.4, 5, utility="80, 20").utility == (80.0, 20.0)
    assert boin12(0.3, 0.4, 5).utility == (60.0, 40.0)


def test_a_patient_without_efficacy_is_named():
    h = _history([(1, 0, 1)])
    p = h.patients[1]
    h = History((h.patients[0], Patient(p.patient, 1, 1, False, efficacy=None), h.patients[2]))
    with pytest.raises(ValueError, match=r"column 'efficacy', patient row 2 \(patient 'P2'\): the efficacy outcome "
                                         r"is missing"):
        next_dose(boin12(0.3, 0.4, 5), h)


def test_pending_patients_are_refused():
    h = History((Patient("A", 1, 1, None, efficacy=True),))
    with pytest.raises(ValueError, match=r"patient 'A'.*pending"):
        next_dose(boin12(0.3, 0.4, 5), h)


def test_scenario_errors_name_the_argument():
    d = boin12(0.3, 0.4, 3)
    with pytest.raises(ValueError, match="give 'q_true'"):
        simulate(d, [0.1, 0.2, 0.3], n_trials=10, seed=1)
    with pytest.raises(ValueError, match=r"The 'q_true' argument must have one probability per dose \(3\)"):
        simulate(d, [0.1, 0.2, 0.3], n_trials=10, seed=1, q_true=[0.2, 0.3])
    with pytest.raises(ValueError, match=r"The 'p_true' argument must be probabilities in \[0, 1\]"):
        simulate(d, [0.1, 1.2, 0.3], n_trials=10, seed=1, q_true=[0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="boin12 takes no scenario option 'accrual_rate'"):
        simulate(d, [0.1, 0.2, 0.3], n_trials=10, seed=1, q_true=[0.2, 0.3, 0.4], accrual_rate=2)


def test_protocol_rules_are_refused():
    with pytest.raises(ValueError, match="boin12 takes no protocol rule"):
        stop_at_n(boin12(0.3, 0.4, 5), 12)


# --------------------------------------------------------------------------------------------- live decisions
def test_first_cohort_stays_on_desirability():
    """0/3 DLT and 2/3 responses at dose 1: its desirability (0.371 for utility 80/20) beats the untried dose's
    0.27, so the design stays (the reference's case E1_first_cohort_two_responses)."""
    d = next_dose(boin12(0.3, 0.4, 5, utility=(80, 20)), _history([(1, 0, 2)]))
    assert (d.decision, d.next_dose, d.rule, d.next_cohort_size) == ("stay", 1, "desirability", 3)
    rec = d.to_record()
    assert rec["obd"] is None and rec["tied_doses"] == [] and rec["mtd"] is None
    row = rec["estimates"][0]
    assert row["q_hat"] == pytest.approx(2 / 3) and row["utility"] == pytest.approx(100 * 2.2 / 3)
    assert rec["estimates"][1]["desirability"] == pytest.approx(0.27)


def test_exact_tie_is_broken_by_the_history_digest_and_replays():
    """Start dose 2, 0/3 DLT and 0/3 responses: doses 1 and 3 are untried with the same desirability."""
    design = boin12(0.25, 0.3, 6, cohorts=12, start_dose=2, utility=(50, 50), cutoff_futility=0.9)
    h = _history([(2, 0, 0)])
    d = next_dose(design, h)
    assert d.extra["tied_doses"] == [1, 3] and d.next_dose in (1, 3) and "tie exactly" in d.reason
    again = NextDose.replay_record(json.loads(json.dumps(d.to_record())))
    assert again.same_decision(d)
    picks = set()
    for k in range(12):       # other patients' ids: other draws, both doses taken
        renamed = History(tuple(Patient(f"{k}-{p.patient}", p.cohort, p.dose, p.dlt, efficacy=p.efficacy)
                                for p in h.patients))
        picks.add(next_dose(design, renamed).next_dose)
    assert picks == {1, 3}


def test_futility_eliminated_current_dose_as_only_candidate_stops():
    """SPEC 7.4.9 / case E2_current_futility_eliminated_only_candidate_stop: 2/9 DLTs (stay band) and 0/9
    responses at dose 1 eliminate it for futility; the only candidate is dose 1 itself: stop, no OBD."""
    design = boin12(0.25, 0.3, 6, cohorts=12, utility=(50, 50), cutoff_futility=0.9)
    d = next_dose(design, _history([(1, 0, 0), (1, 1, 0), (1, 1, 0)]))
    assert (d.decision, d.rule, d.next_dose, d.extra["obd"]) == ("stop", "chosen_eliminated", None, None)
    assert d.eliminated == (1,) and d.extra["eliminated_futility"] == [1]


def test_toxic_lowest_dose_stops():
    d = next_dose(boin12(0.3, 0.4, 5), _history([(1, 3, 1)]))
    assert (d.decision, d.rule, d.eliminated) == ("stop", "toxicity_stop", (1, 2, 3, 4, 5))


def test_the_last_cohort_ends_the_trial_with_the_obd():
    design = boin12(0.3, 0.4, 3, cohorts=4)
    d = next_dose(design, _history([(1, 0, 1), (2, 0, 2), (3, 1, 2), (3, 1, 2)]))
    assert (d.decision, d.rule, d.next_dose, d.select_mtd) == ("stop", "max_sample_size", None, True)
    assert d.extra["obd"] in (1, 2, 3) and d.mtd in (1, 2, 3)
    assert {"p_est", "q_est", "utility_est"} <= set(d.estimates()[0])


# ------------------------------------------------------------------------------- selection, pathways, texts
def test_spec_worked_example_of_iso_0_0_18_1_unimodal_fit():
    """SPEC 7.6 (case E2_unimodal_efficacy_peak_middle, mode 5 of 6): Iso's permuted weights pool positions
    3-6 to 0.3756 where the least-squares umbrella fit has 0.4798."""
    pe = np.array([[0.0161, 0.3361, 0.6653, 0.4451, 0.1721, 0.5]])
    w = np.array([[3.5, 6.5, 12.5, 9.5, 6.5, 0.5]])
    fit = unimodal_fit(pe, w, 4)[0]
    assert np.round(fit, 4).tolist() == [0.0161, 0.3361, 0.3756, 0.3756, 0.3756, 0.3756]


def test_pathways_enumerate_dlt_and_response_counts():
    design = boin12(0.3, 0.4, 4)
    one = design.pathways(1)
    assert len(one) == 16 and list(one.columns[:2]) == ["cohort_1", "dose_after_1"]
    two = design.pathways(2)
    assert len(two) == 16 * 16 - 15 * (one["dose_after_1"].isna().sum())
    with pytest.raises(ValueError, match="gives more than"):
        design.pathways(5)


def test_protocol_text_has_the_numbers():
    text = protocol_text(boin12(0.3, 0.4, 5, utility=(80, 20)))
    assert "BOIN12" in text and "benchmark 73" in text and "30%" in text and "40%" in text


def test_simulation_is_reproducible_and_sums_to_100():
    d = boin12(0.3, 0.4, 4)
    kw = dict(n_trials=500, seed=11, q_true=[0.2, 0.4, 0.6, 0.6])
    a, b = simulate(d, [0.05, 0.15, 0.3, 0.5], **kw), simulate(d, [0.05, 0.15, 0.3, 0.5], **kw)
    assert a.selection_pct == b.selection_pct and a.extra == b.extra
    assert sum(a.selection_pct) + a.no_mtd_pct == pytest.approx(100)
    assert a.extra["true_obd"] == 3 and a.pcs == a.extra["pcs_obd"]
    assert set(a.se) >= {"selection_pct", "responses_mean", "favourable_pct", "overdose_pct"}


def test_the_design_declares_efficacy_and_its_required_scenario():
    from adcbridge.dosefinding.boin12 import Boin12Design
    assert (Boin12Design.uses_efficacy, Boin12Design.uses_times, Boin12Design.uses_followup) == (True, False, False)
    assert Boin12Design.required_scenario_options == ("q_true",)
