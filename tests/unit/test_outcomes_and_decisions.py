import numpy as np
import pytest

from adcbridge.dosefinding import (
    boin,
    crm,
    dose_transition_pathways,
    next_dose,
    parse_outcomes,
    protocol_text,
    three_plus_three,
)
from adcbridge.dosefinding.outcomes import DoseCounts, format_outcomes


def test_grammar_round_trip():
    text = "1NNN 2NTN 3TTN"
    cohorts = parse_outcomes(text, 5)
    assert [c.dose for c in cohorts] == [1, 2, 3] and [c.n_dlt for c in cohorts] == [0, 1, 2]
    assert format_outcomes(cohorts) == text
    assert parse_outcomes("1nnn 2ntn", 3)[1].dlt == (False, True, False)


@pytest.mark.parametrize("text,match", [
    ("1NNN 3NNN", "skips an untried dose in cohort 2"), ("6NNN", "dose level 6"), ("1NXN", "malformed cohort 1"),
    ("", "empty"), ("0NNN", "dose level 0"), ("2NNN", "skips"),
])
def test_bad_outcome_strings(text, match):
    with pytest.raises(ValueError, match=match):
        parse_outcomes(text, 5)


def test_start_dose_allows_first_cohort_above_one():
    assert parse_outcomes("2NNN 3NNN", 5, start_dose=2)[0].dose == 2


@pytest.mark.parametrize("n,dlt,match", [
    ([3, -1], [0, 0], "'n' argument at dose 2"), ([3, 3], [0, 4], "cannot exceed"),
    ([3, 3], [0, -1], "'dlt' argument at dose 2"), ([3], [0, 0], "'dlt' argument has 2 doses but 'n' has 1"),
    (["a", 3], [0, 0], "'n' argument must be whole numbers"), ([3.5, 3], [0, 0], "whole numbers"),
    ([np.nan, 3], [0, 0], "whole numbers"), ([], [], "no dose")])
def test_bad_counts(n, dlt, match):
    with pytest.raises(ValueError, match=match):
        DoseCounts.from_arrays(n, dlt)


D = boin(0.3, 5)


@pytest.mark.parametrize("outcomes,decision,nxt,rule", [
    ("1NNN", "escalate", 2, "escalate"),
    ("1NNN 2NTN", "stay", 2, "stay"),
    ("1NNN 2NTT", "de-escalate", 1, "deescalate"),
    ("1TTN", "stay", 1, "stay_lowest"),
    ("1TTT", "stop", None, "eliminate"),
    ("1NNN 2TTT", "de-escalate", 1, "eliminate"),
    ("1NNN 2NNN 3NNN 4NNN 5NNN", "stay", 5, "stay_top"),
    ("1NNN 2TTT 1NNN", "stay", 1, "stay_eliminated_above"),
])
def test_boin_next_dose(outcomes, decision, nxt, rule):
    r = next_dose(D, outcomes)
    assert (r.decision, r.next_dose, r.rule) == (decision, nxt, rule)


def test_elimination_is_kept_and_reported():
    r = next_dose(D, "1NNN 2TTT 1NNN")
    assert r.eliminated == (2, 3, 4, 5)


def test_counts_input_matches_grammar():
    a = next_dose(D, "1NNN 2NTN 2NNN")
    b = next_dose(D, n=[3, 6, 0, 0, 0], dlt=[0, 1, 0, 0, 0], current_dose=2)
    assert (a.decision, a.next_dose, a.rule) == (b.decision, b.next_dose, b.rule) == ("escalate", 3, "escalate")
    with pytest.raises(ValueError, match="current_dose"):
        next_dose(D, n=[3, 0, 0, 0, 0], dlt=[0, 0, 0, 0, 0], current_dose=2)


@pytest.mark.filterwarnings("ignore:n_earlystop")
def test_n_earlystop_only_on_stay():
    d = boin(0.3, 3, n_earlystop=6)
    assert next_dose(d, "1NNN 1NNN").decision == "escalate"          # 0/6: escalate, no stop
    r = next_dose(d, "1NNN 2NTN 2NNT")                               # 2/6 at dose 2: stay -> stop
    assert (r.decision, r.rule, r.select_mtd) == ("stop", "n_earlystop", True)


def test_extra_safety_and_max_sample_size():
    d = boin(0.3, 3, extrasafe=True, offset=0.1)
    r = next_dose(d, "1NTT")                         # 2/3 at dose 1: Pr(p > 0.3) = 0.92 > 0.85
    assert (r.decision, r.rule) == ("stop", "extra_safety")
    r = next_dose(boin(0.3, 3, cohorts=2), "1NNN 2NNN")
    assert (r.decision, r.rule, r.select_mtd) == ("stop", "max_sample_size", True)


def test_live_decision_checks_the_last_cohort():
    """Unlike the reference simulator, a live trial applies the safety rules to its last cohort."""
    r = next_dose(boin(0.3, 3, cohorts=2), "1NTT 1TNT")        # 4/6 at dose 1 in the last cohort
    assert (r.decision, r.rule, r.next_dose) == ("stop", "eliminate", None)
    r = next_dose(boin(0.3, 3, cohorts=2), "1NNN 2TTT")         # dose 2 eliminated, sample size used up
    assert (r.decision, r.rule, r.eliminated) == ("stop", "max_sample_size", (2, 3))


def test_treating_an_eliminated_dose_is_flagged():
    r = next_dose(D, "1NNN 2TTT 1NNN 2NNN")
    assert any(i.code == "treated_eliminated_dose" for i in r.issues)


def test_three_plus_three_next_dose_follows_the_rules():
    t = three_plus_three(4)
    assert next_dose(t, "1NNN").next_dose == 2
    assert next_dose(t, "1NNN 2NTN").rule == "expand"
    r = next_dose(t, "1NNN 2NTN 2TNN")
    assert (r.next_dose, r.decision) == (1, "de-escalate")
    r = next_dose(t, "1NNN 2NTN 2TNN 1NNN")
    assert (r.decision, r.rule, r.select_mtd) == ("stop", "mtd_found", True)
    with pytest.raises(ValueError, match="cohort 2"):
        next_dose(t, "1NNN 1NNN")


def test_crm_no_skipping_and_coherence():
    c = crm(0.3, 5, skeleton=[0.05, 0.1, 0.2, 0.3, 0.45])
    r = next_dose(c, "1NNN")
    assert r.next_dose == 2 and r.rule == "no_skipping"
    r = next_dose(c, "1NNN 2NNN 3TNN")                      # 1/3 >= 0.3: no escalation right after
    assert r.next_dose <= 3


def test_pathways_table():
    p = dose_transition_pathways(boin(0.3, 5), 2)
    assert len(p) == 13          # 4 outcomes of cohort 1 (one stops) x 4 outcomes of cohort 2
    assert p.iloc[0]["dose_after_2"] == 3 and p.iloc[-1]["decision"] == "stop"


def test_protocol_text_mentions_the_numbers():
    text = protocol_text(boin(0.25, [1, 2, 4], extrasafe=True, n_earlystop=12))
    for needle in ["25%", "0.197", "0.298", "0.95", "12 patients", "1, 2, 4 mg/kg", "additional safety"]:
        assert needle in text
    assert "3+3" in protocol_text(three_plus_three(3))
    assert "skeleton" in protocol_text(crm(0.3, 3, skeleton=[.1, .3, .5]))


def test_a_cohort_after_the_stop_is_refused_with_the_reason_of_the_stop():
    """'1TTT 1NNN': dose 1 is eliminated at 3/3 and the trial stopped; a cohort after it is not a trial this
    design ran, so no decision is made on it, and the error gives the stop's own reason (3/3, not 3/6)."""
    from adcbridge.dosefinding import boin, crm, next_dose
    with pytest.raises(ValueError, match=r"^The 'outcomes' argument: cohort 2 \('1NNN'\) comes after the trial "
                                         r"stopped at cohort 1 \(eliminate: 3/3 DLTs at dose 1"):
        next_dose(boin(0.3, 5), "1TTT 1NNN")
    with pytest.raises(ValueError, match="comes after the trial stopped at cohort 2 \\(max_sample_size"):
        next_dose(boin(0.3, 3, cohorts=2), "1NNN 2NNN 3NNN")
    with pytest.raises(ValueError, match="comes after the trial stopped at cohort 2 \\(n_earlystop"):
        next_dose(boin(0.3, 3, n_earlystop=6), "1NTN 1NTN 1NNN")
    with pytest.raises(ValueError, match=r"cohort 1 \(.1N+.\) has 34 patients, but crm treats cohorts of 3: split it"):
        next_dose(crm(0.3, 5), "1" + "N" * 34)
