"""BF-BOIN (boin-backfill): bad input gets one-line errors naming the parameter or patient; the live decision
on hand-made histories (expected values worked out from the rules and BOIN's decision table by hand); the
simulator's reproducibility."""

import re

import numpy as np
import pytest

from adcbridge.dosefinding import boin, boin_backfill, next_dose, simulate
from adcbridge.dosefinding.history import History, Patient
from adcbridge.spec import SpecError


def P(pid, cohort, dose, dlt, backfill=False, efficacy=None, dose_time=None, assess_time=None):
    return Patient(pid, cohort, dose, dlt, dose_time=dose_time, assess_time=assess_time, efficacy=efficacy,
                   backfill=backfill)


def H(*rows):
    return History(tuple(P(*r) if isinstance(r, tuple) else r for r in rows))


# ----------------------------------------------------------------------------------------------- the spec
@pytest.mark.parametrize("options,match", [
    ({"cohort_size": 2}, r"^The 'cohort_size' parameter of boin-backfill must be at least 3"),
    ({"titration": True}, r"^The 'titration' parameter of boin-backfill must be False"),
    ({"end_backfill": False}, r"^The 'end_backfill' parameter of boin-backfill must be True"),
    ({"three_plus_three": True, "target": 0.3}, r"^The 'three_plus_three' parameter of boin-backfill needs"),
    ({"backfill_assign": "middle"}, r"^The 'backfill_assign' parameter of boin-backfill"),
    ({"dlt_window": 0}, r"^The 'dlt_window' parameter of boin-backfill"),
    ({"n_cap": -1}, r"^The 'n_cap' parameter of boin-backfill"),
    ({"p_saf": 0.29}, r"^The 'p_saf' parameter of boin-backfill must be in"),
    ({"start_dose": 6}, r"^The 'start_dose' parameter of boin-backfill must be in 1\.\.n_doses"),
])
def test_bad_spec_is_named(options, match):
    args = {"target": 0.3, "n_doses": 5, **options}
    with pytest.raises(SpecError, match=match) as err:
        boin_backfill(target=args.pop("target"), doses=args.pop("n_doses"), **args)
    assert "\n" not in str(err.value)


def test_defaults_are_bfboins():
    d = boin_backfill()
    assert (d.target, d.n_cohorts, d.cohort_size, d.n_earlystop, d.n_cap, d.dlt_window, d.backfill_assign,
            d.three_plus_three, d.end_backfill, d.cutoff_eli) == (0.25, 10, 3, 100, 12, 1.0, "highest", False,
                                                                 True, 0.95)
    assert d.scenario_options == ("q_true", "accrual", "accrual_rate")


@pytest.mark.parametrize("scenario,match", [
    ({"q_true": [0.5, 0.5]}, r"^The 'q_true' argument must have one probability per dose \(3\)"),
    ({"q_true": [0.5, 1.2, 0.5]}, r"^The 'q_true' argument must be probabilities"),
    ({"accrual": "weekly"}, r"^The 'accrual' argument must be 'uniform' or 'poisson'"),
    ({"accrual_rate": 0}, r"^The 'accrual_rate' argument must be a positive, finite number"),
    ({"accrual_rate": True}, r"^The 'accrual_rate' argument"),
    ({"accrual_rate": 1e9}, r"^The 'accrual_rate' argument must be at most 100 patients per DLT window"),  # hung
    ({"late_onset": 0.5}, r"boin-backfill takes no scenario option 'late_onset'"),
])
def test_bad_scenario_is_named(scenario, match):
    with pytest.raises(ValueError, match=match):
        simulate(boin_backfill(0.3, 3), [0.1, 0.2, 0.3], n_trials=10, seed=1, **scenario)


def test_a_certain_dlt_is_refused():
    with pytest.raises(ValueError, match=r"^The 'p_true' argument must be below 1"):
        simulate(boin_backfill(0.3, 3), [0.1, 0.2, 1.0], n_trials=10, seed=1)


# -------------------------------------------------------------------------------------------- histories
ESC2 = [("P1", 1, 1, False, False, True), ("P2", 1, 1, False), ("P3", 1, 1, False),
        ("P4", 2, 2, False), ("P5", 2, 2, None), ("P6", 2, 2, None)]


@pytest.mark.parametrize("rows,match", [
    ([("P1", 1, 1, False, True)], r"patient row 1 \(patient 'P1'\): the first patient .* not a backfill"),
    (ESC2 + [("B1", 3, 2, None, True)], r"column 'dose', patient row 7 \(patient 'B1'\): backfill is below"),
    (ESC2[:5] + [("B1", 3, 1, None, True)], (r"patient row 6 \(patient 'B1'\): a backfill patient is enrolled "
                                            r"only while the current cohort .* is full")),
    (ESC2 + [("P7", 2, 2, None)], r"patient row 7 \(patient 'P7'\): cohort 2 has 4 patients, but boin-backfill "
                                  r"treats cohorts of 3.*or set the design's cohort_size to 4"),
    (ESC2 + [("P7", 3, 2, None)], (r"patient row 7 \(patient 'P7'\): cohort 3 starts while patient P5 of cohort 2 "
                                  r"is pending")),
    (ESC2[:4] + [("P5", 3, 2, None)], (r"patient row 5 \(patient 'P5'\): cohort 3 starts while cohort 2 has 1 "
                                      r"of 3")),
    (ESC2 + [("B1", 2, 2, None, True)], r"patient row 7 \(patient 'B1'\): cohort 2 mixes escalation and backfill"),
])
def test_bad_history_names_the_patient(rows, match):
    with pytest.raises(ValueError, match=match) as err:
        next_dose(boin_backfill(0.3, 4), H(*rows))
    assert "\n" not in str(err.value)


def test_too_many_cohorts_and_patients_after_a_stop_are_refused():
    d = boin_backfill(0.3, 4, cohorts=1)
    with pytest.raises(ValueError, match=r"escalation cohort 2 exceeds n_cohorts = 1"):
        next_dose(d, "1NNN 2NNN")
    with pytest.raises(ValueError, match=r"^The 'outcomes' argument: cohort 2 \('1NNN'\) comes after the trial "
                                         r"stopped at escalation cohort 1 \(eliminate_lowest"):
        next_dose(boin_backfill(0.3, 4), "1TTT 1NNN")
    rows = [Patient(f"P{i}", 1 + (i > 3), 1, i <= 3) for i in range(1, 5)]
    with pytest.raises(ValueError, match=r"^patient row 4: patient P4 \(cohort 2\) comes after the trial stopped at "
                                         r"escalation cohort 1 \(eliminate_lowest"):
        next_dose(boin_backfill(0.3, 4), History(tuple(rows)))


def test_per_dose_counts_are_refused():
    with pytest.raises(ValueError, match="boin-backfill decides on the patients' history"):
        next_dose(boin_backfill(0.3, 4), n=[3, 0, 0, 0], dlt=[0, 0, 0, 0], current_dose=1)


# ---------------------------------------------------------------------------------------- live decisions
def test_backfill_opens_below_a_pending_cohort_after_a_response():
    # dose 1: 0/3 and a response; the cohort at dose 2 is full and pending -> dose 1 is open (0 < D(3) = 2; the
    # cap 12 is far), so the next patient is backfilled there
    r = next_dose(boin_backfill(0.3, 4), H(*ESC2)).to_record()
    assert (r["rule"], r["next_dose"], r["next_cohort_size"]) == ("awaiting_outcomes", 2, 0)
    assert (r["awaiting_outcomes"], r["backfill_open"], r["backfill_dose"]) == (True, [1], 1)


def test_no_response_no_backfill_and_random_assignment_is_left_to_the_site():
    rows = [("P1", 1, 1, False), ("P2", 1, 1, False), ("P3", 1, 1, False)] + ESC2[3:]
    r = next_dose(boin_backfill(0.3, 4), H(*rows)).to_record()
    assert (r["backfill_open"], r["backfill_dose"]) == ([], None)
    assert "referred away" in r["reason"]
    r = next_dose(boin_backfill(0.3, 4, backfill_assign="random"), H(*ESC2)).to_record()
    assert (r["backfill_open"], r["backfill_dose"]) == ([1], None)


def test_the_cap_counts_escalation_and_backfill_patients_before_the_new_one():
    # n_cap 4: dose 1 has 3 escalation + 1 backfill = 4 <= 4 -> still open (it may reach 5); one more closes it
    d = boin_backfill(0.3, 4, n_cap=4)
    rows = ESC2 + [("B1", 3, 1, None, True)]
    assert next_dose(d, H(*rows)).to_record()["backfill_open"] == [1]
    assert next_dose(d, H(*rows, ("B2", 3, 1, None, True))).to_record()["backfill_open"] == []


def test_backfill_outcomes_count_in_the_evaluation_and_can_turn_it():
    # dose 1: 0/3 escalation + 2/3 backfill = 2/6 -> "stay" (E(6) = 1 < 2 < D(6) = 3); dose 2: 0/3 -> "escalate";
    # they disagree: pooled 2/9 <= E(9) = 2 -> escalate to dose 3 (pooled_escalate)
    cohorts = ESC2[:4] + [("P5", 2, 2, False), ("P6", 2, 2, False)]
    r = next_dose(boin_backfill(0.3, 4), H(*cohorts, ("B1", 3, 1, True, True), ("B2", 3, 1, True, True),
                                          ("B3", 3, 1, False, True))).to_record()
    assert (r["rule"], r["next_dose"], r["decision"]) == ("pooled_escalate", 3, "escalate")
    assert [e["n"] for e in r["estimates"]] == [6, 3, 0, 0]
    # with one backfill outcome pending, dose 1 is 1/5 (E(5) = 1: escalate): no conflict, a plain escalation
    r = next_dose(boin_backfill(0.3, 4), H(*cohorts, ("B1", 3, 1, True, True), ("B2", 3, 1, False, True),
                                          ("B3", 3, 1, None, True))).to_record()
    assert (r["rule"], r["next_dose"]) == ("escalate", 3)


@pytest.mark.parametrize("rows,expected", [
    # cohort 2 full, one outcome known (P4, a DLT), two pending; a backfill patient known and one pending at dose 1
    (ESC2[:3] + [("P4", 2, 2, True), ("P5", 2, 2, None), ("P6", 2, 2, None), ("B1", 3, 1, False, True),
                 ("B2", 4, 1, None, True)],
     [(4, 0, 1, 3, 2), (1, 1, 2, 3, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)]),
    # cohort 2 open: one patient in, his outcome known
    (ESC2[:3] + [("P4", 2, 2, True)], [(3, 0, 0, 3, 0), (1, 1, 0, 1, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)]),
    # cohort 2 full and assessed (the evaluation): every outcome counts
    (ESC2[:3] + [("P4", 2, 2, True), ("P5", 2, 2, False), ("P6", 2, 2, False)],
     [(3, 0, 0, 3, 0), (3, 1, 0, 3, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)]),
])
def test_the_per_dose_table_counts_every_patient_as_he_stands(rows, expected):
    """n (outcome known), dlt, pending, n_escalation and n_backfill (pending included) by hand: a known outcome at a
    dose whose cohort is still open or pending is shown, not hidden until the evaluation."""
    r = next_dose(boin_backfill(0.3, 4), H(*rows)).to_record()
    got = [(e["n"], e["dlt"], e["pending"], e["n_escalation"], e["n_backfill"]) for e in r["estimates"]]
    assert got == expected
    assert all(e["n"] + e["pending"] == e["n_escalation"] + e["n_backfill"] for e in r["estimates"])
    assert [e["p_hat"] for e in r["estimates"]][:2] == [e[1] / e[0] if e[0] else None for e in expected][:2]


def test_the_design_declares_the_history_columns_it_uses():
    from adcbridge.dosefinding.backfill import BackfillBoinDesign
    assert (BackfillBoinDesign.uses_efficacy, BackfillBoinDesign.uses_times, BackfillBoinDesign.uses_followup) == \
        (True, True, False)
    assert set(BackfillBoinDesign.fixed_parameters) == {"titration", "end_backfill"}


def test_three_plus_three_keeps_the_dose_after_one_dlt_in_three():
    assert next_dose(boin(0.25, 4), "1NNN 2TNN").next_dose == 1
    r = next_dose(boin_backfill(0.25, 4, three_plus_three=True), "1NNN 2TNN").to_record()
    assert (r["next_dose"], r["decision"]) == (2, "stay")


def test_the_last_cohort_is_checked_and_ends_with_an_mtd():
    r = next_dose(boin_backfill(0.3, 3, cohorts=2), "1NNN 2NTN").to_record()
    assert (r["decision"], r["rule"], r["select_mtd"], r["mtd"]) == ("stop", "n_cohorts", True, 2)
    r = next_dose(boin_backfill(0.3, 3, cohorts=2), "1TTN 1TTT").to_record()
    assert (r["decision"], r["rule"], r["mtd"]) == ("stop", "eliminate_lowest", None)


def test_pathways_are_boins_when_backfill_patients_have_no_dlt():
    ours = boin_backfill(0.3, 5).pathways(3)
    theirs = boin(0.3, 5).pathways(3)
    cols = [c for c in theirs.columns if c.startswith(("cohort_", "dose_after_"))]
    assert ours[cols].equals(theirs[cols])


# -------------------------------------------------------------------------------------------- simulation
def test_simulation_is_reproducible_and_consistent():
    d = boin_backfill(0.3, 4, cohorts=6, n_cap=6)
    p, q = [0.05, 0.15, 0.3, 0.5], [0.2, 0.3, 0.4, 0.5]
    a = simulate(d, p, n_trials=300, seed=7, q_true=q, accrual="poisson", accrual_rate=2)
    b = simulate(d, p, n_trials=300, seed=7, q_true=q, accrual="poisson", accrual_rate=2)
    assert a.to_record()["selection_pct"] == b.to_record()["selection_pct"]
    assert a.duration_mean == b.duration_mean and a.n_mean == b.n_mean
    assert sum(a.selection_pct) + a.no_mtd_pct == pytest.approx(100.0)
    assert a.n_mean == pytest.approx(sum(a.patients_mean))
    assert np.all(np.array(a.extra["backfill_counted_mean"]) <= np.array(a.extra["backfill_patients_mean"]))
    assert re.fullmatch(r"boin-backfill", a.design)
    # no responses: no backfill at all, and 6 cohorts of 3 unless the trial stops early
    c = simulate(d, p, n_trials=300, seed=7, q_true=[0, 0, 0, 0])
    assert sum(c.extra["backfill_patients_mean"]) == 0
    assert c.n_mean <= 18
