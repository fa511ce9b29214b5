"""Protocol rules as wrappers on any design (adcbridge.dosefinding.rules): what they do, BOIN's native rules,
records and replay, simulation.  Agreement of the live decision with the policy is in test_design_conformance."""

import json

import pytest

from adcbridge.dosefinding import NextDose, boin, crm, exact_oc, next_dose, protocol_text, simulate, three_plus_three
from adcbridge.dosefinding.rules import (
    extra_safety_at_lowest,
    max_cohorts,
    no_skipping,
    stop_at_n,
    stop_at_n_on_dose,
    stop_when_lowest_too_toxic,
)

SKELETON = [0.05, 0.12, 0.25, 0.40, 0.55]


def test_a_native_rule_keeps_the_stricter_limit():
    assert max_cohorts(boin(0.3, 5, cohorts=4), 12).n_cohorts == 4
    assert stop_at_n_on_dose(boin(0.3, 5, n_earlystop=9), 15).n_earlystop == 9
    assert max_cohorts(crm(0.3, 5, cohorts=4), 12).n_cohorts == 4


def test_bad_rules_are_one_line_errors_naming_the_rule():
    with pytest.raises(ValueError, match=r"^stop_at_n: crm has the rule stop_at_n whose 'n' must be a whole number "
                                         r"\(got True\)$"):
        stop_at_n(crm(0.3, 5), True)
    with pytest.raises(ValueError, match="has an unknown rule kind 'nope'"):
        crm(0.3, 5, rules=[{"kind": "nope"}])
    with pytest.raises(ValueError, match="has the rule stop_at_n twice"):
        crm(0.3, 5, rules=[{"kind": "stop_at_n", "n": 5}, {"kind": "stop_at_n", "n": 6}])
    with pytest.raises(ValueError, match="multiple of 3"):                 # also when a record is replayed
        three_plus_three(4, rules=[{"kind": "stop_at_n", "n": 7}])


def test_boin_setters_are_the_rules_on_boin_own_parameters():
    d = boin(0.3, 5)
    assert d.stop_early_at(12) == stop_at_n_on_dose(d, 12) == d.replace(n_earlystop=12)
    assert d.with_extra_safety(0.05) == extra_safety_at_lowest(d, 0.05) == d.replace(extrasafe=True, offset=0.05)
    assert max_cohorts(d, 6) == d.replace(n_cohorts=6)
    assert stop_at_n(d, 13).rules[0].kind == "stop_at_n" and stop_at_n(d, 13).n_earlystop == 100


def test_rules_are_kept_in_protocol_order_and_given_once():
    d = stop_when_lowest_too_toxic(stop_at_n_on_dose(stop_at_n(crm(0.25, 5), 24), 9), 0.9)
    assert [r.kind for r in d.rules] == ["stop_when_lowest_too_toxic", "stop_at_n", "stop_at_n_on_dose"]
    with pytest.raises(ValueError, match="already has the rule stop_at_n"):
        stop_at_n(d, 20)
    with pytest.raises(ValueError, match="multiple of 3"):
        stop_at_n(three_plus_three(4), 10)


def test_stop_at_n_cuts_the_last_cohort_and_selects_the_mtd():
    d = stop_at_n(crm(0.25, 5, skeleton=SKELETON), 8)
    a = next_dose(d, "1NNN 2NNN")
    assert a.decision == "escalate" and a.next_cohort_size == 2          # 8 - 6 places left
    b = next_dose(d, "1NNN 2NNN 3NT")
    assert b.decision == "stop" and b.rule == "stop_at_n" and b.mtd == b.model_recommendation


def test_stop_at_n_on_dose_and_lowest_too_toxic():
    d = stop_at_n_on_dose(crm(0.25, 5, skeleton=SKELETON), 6)
    assert next_dose(d, "1NNN 2NTN").decision == "stay"                 # dose 2 has 3
    stop = next_dose(d, "1NNN 2NTN 2NTN")                                # dose 2 (next) has 6
    assert stop.rule == "stop_at_n_on_dose" and stop.mtd == 2
    t = stop_when_lowest_too_toxic(three_plus_three(4), 0.7, target=0.3)
    r = next_dose(t, "1NTN")                                             # Pr(p1 > 0.3 | 1/3) = 0.652 < 0.7
    assert r.rule == "expand"
    with pytest.raises(ValueError, match="needs a target for 3\\+3"):
        next_dose(stop_when_lowest_too_toxic(three_plus_three(4), 0.7), "1NTN")


def test_no_skipping_limits_a_crm_that_may_skip():
    free = crm(0.25, 5, skeleton=SKELETON, allow_skipping=True)
    assert next_dose(free, "1NNN 2NNN").next_dose == 5
    ruled = next_dose(no_skipping(free), "1NNN 2NNN")
    assert ruled.next_dose == 3 and ruled.rule == "no_skipping" and ruled.model_recommendation == 5


def test_a_design_with_rules_replays_from_its_record():
    d = stop_at_n(crm(0.25, 5, skeleton=SKELETON), 8)
    decision = next_dose(d, "1NNN 2NNN 3NT")
    record = json.loads(json.dumps(decision.to_record()))
    assert record["spec"]["rules"] == [{"kind": "stop_at_n", "n": 8}]
    assert NextDose.replay_record(record).same_decision(decision)


def test_rules_change_the_operating_characteristics_as_said():
    p = [0.05, 0.1, 0.2, 0.3, 0.5]
    d = crm(0.25, 5, skeleton=SKELETON)
    capped = simulate(stop_at_n(d, 12), p, n_trials=2000, seed=3)
    assert capped.n_mean <= 12 + 1e-9 and simulate(d, p, n_trials=2000, seed=3).n_mean == pytest.approx(30)
    exact = exact_oc(stop_at_n(boin(0.3, 5), 13), p)
    assert exact.n_mean <= 13 + 1e-12 and sum(exact.selection_pct) + exact.no_mtd_pct == pytest.approx(100)
    with pytest.raises(ValueError, match="never acts"):               # a rule that cannot fire is refused
        stop_at_n(boin(0.3, 5), 30)


def test_protocol_text_states_the_rules():
    text = protocol_text(stop_at_n_on_dose(stop_at_n(crm(0.25, 5), 24), 9))
    assert "stops once 24 patients" in text and "already has 9 patients" in text
