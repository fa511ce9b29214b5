"""Behaviour chosen where the reference is silent, wrong, or where inputs are unusual."""

import pytest

from adcbridge.dosefinding import (
    Cohort,
    boin,
    crm,
    decision_table,
    dose_transition_pathways,
    exact_oc,
    next_dose,
    simulate,
    three_plus_three,
)


def test_crm_safety_stop_near_the_cut_off_is_exact():
    """Pr(p_1 > 0.25 | 4/8 DLTs at dose 1) = 0.90088 under this skeleton: the trial must stop."""
    d = crm(0.25, 5, skeleton=[0.05, 0.12, 0.25, 0.4, 0.55], cohort_size=4, cohorts=10)
    r = next_dose(d, "1TTNN 1TTNN")
    assert (r.decision, r.rule) == ("stop", "safety_stop")


def test_crm_no_skipping_is_one_level_above_the_current_dose():
    d = crm(0.3, 5, skeleton=[0.05, 0.1, 0.2, 0.3, 0.45], cohorts=30)
    r = next_dose(d, "1NNN 2NNN 3NNN 4NNN 5TTN 4TTT 3TTN 2NNN" + " 2NNN" * 8)
    assert r.next_dose == 3 and "one level above the current dose" in r.reason


def test_live_titration_follows_the_titration_phase():
    d = boin(0.3, 5, titration=True)
    r = next_dose(d, "1N 2N")
    assert (r.next_dose, r.rule, r.next_cohort_size) == (3, "titration", 1)
    r = next_dose(d, "1N 2N 3T")
    assert (r.next_dose, r.rule, r.next_cohort_size) == (3, "titration_fill", 2)
    assert next_dose(d, "1N 2N 3T 3NN").rule == "stay"
    with pytest.raises(ValueError, match=r"cohort 2 \('2NNN'\) does not follow the accelerated titration: "
                                         r"titration treats one patient at dose 2, and it has 3 at dose 2"):
        next_dose(d, "1N 2NNN")
    paths = dose_transition_pathways(d, 2)
    assert paths["cohort_1"].tolist() == ["1: 0/1", "1: 0/1", "1: 1/1", "1: 1/1", "1: 1/1"]


def test_incoherent_cut_offs_are_rejected():
    with pytest.raises(ValueError, match="'cutoff_eli'"):      # 1/26 would escalate and eliminate (reference)
        decision_table(boin(0.05, 3, cutoff_eli=0.6, cohort_size=1, cohorts=60))
    with pytest.raises(ValueError, match="'cutoff_eli'.*0 DLTs in 3 patients"):
        simulate(boin(0.05, 3, cutoff_eli=0.75), [0.05, 0.1, 0.2], 10, seed=1)
    with pytest.raises(ValueError, match="'offset'"):
        decision_table(boin(0.05, 3, extrasafe=True, offset=0.3))


def test_extra_safety_applies_where_elimination_is_not_yet_possible():
    """Target 0.5: X(3) does not exist, S(3) = 3.  The reference skips the check; adcbridge applies it."""
    d = boin(0.5, 3, extrasafe=True)
    assert decision_table(d).table.set_index("n").loc[3, "stop_trial_if_dlt_ge"] == 3
    assert next_dose(d, "1TTT").rule == "extra_safety"
    # two cohorts: only the first is checked, so the trial stops for safety exactly when it has 3/3 at dose 1
    oc = exact_oc(d.replace(n_cohorts=2), [0.95, 0.97, 0.99])
    assert oc.stop_pct == pytest.approx(100 * 0.95 ** 3, rel=1e-12)


def test_three_plus_three_escalation_only_never_selects_an_untreated_dose():
    d = three_plus_three(3, variant="escalation-only", start_dose=2)
    assert next_dose(d, "2TTN").decision == "stop"
    oc = exact_oc(d, [0.9, 0.95, 0.99], target=0.3)
    assert oc.selection_pct[0] == 0


@pytest.mark.parametrize("cohorts,match", [
    ([], "no cohort"), ([Cohort(3, (False,) * 3)], "skips an untried dose"),
    ([Cohort(9, (False,) * 3)], "dose level 9"), (["1NNN"], "not a Cohort"),
])
def test_cohort_lists_are_validated(cohorts, match):
    for design in (boin(0.3, 3), three_plus_three(3), crm(0.3, 3, skeleton=[0.1, 0.3, 0.5])):
        with pytest.raises(ValueError, match=match):
            next_dose(design, cohorts)


@pytest.mark.parametrize("bad", [lambda: Cohort(0, (True,)), lambda: Cohort(1, ())])
def test_cohorts_must_be_valid(bad):
    with pytest.raises(ValueError):
        bad()


def test_live_decision_on_counts_with_dose_1_eliminated_stops():
    r = next_dose(boin(0.3, 4), n=[3, 3, 0, 0], dlt=[3, 0, 0, 0], current_dose=2)
    assert (r.decision, r.rule, r.next_dose) == ("stop", "eliminate", None)
    r = next_dose(boin(0.3, 4), n=[6, 3, 3, 0], dlt=[0, 3, 0, 0], current_dose=3)
    assert (r.decision, r.next_dose, r.eliminated) == ("de-escalate", 1, (2, 3, 4))


def test_large_designs_run_in_bounded_memory():
    d = boin(0.3, 5, cohort_size=50, cohorts=500)
    assert decision_table(d, full=True).table["n"].iloc[-1] == 25_000
    oc = simulate(d, [0.05, 0.1, 0.2, 0.3, 0.5], n_trials=50, seed=1)
    assert sum(oc.selection_pct) + oc.no_mtd_pct == pytest.approx(100)


def test_exact_enumeration_drops_impossible_outcomes():
    oc = exact_oc(boin(0.3, 3, cohorts=4), [0.0, 1.0, 1.0])
    assert oc.selection_pct[0] == pytest.approx(100)
    assert oc.n_terminal_states == 1


@pytest.mark.parametrize("call,match", [
    (lambda: simulate(three_plus_three(3), [0.1, 0.2, 0.3], 10, seed=1, target=2.0), "'target'"),
    (lambda: next_dose(boin(0.3, 3), n=[3, 0, 0], dlt=[0, 0, 0], current_dose=1.0), "'current_dose'"),
])
def test_argument_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_compare_designs_validates_its_arguments():
    from adcbridge.dosefinding import compare_designs
    for kw, match in [(dict(n_trials=0), "n_trials"), (dict(seed=-1), "seed")]:
        with pytest.raises(ValueError, match=match):
            compare_designs({"a": boin(0.3, 3)}, [0.1, 0.2, 0.3], **{"n_trials": 10, "seed": 1, **kw})
