"""A cohort treated at another dose than the rules gave is warned (``dose_deviation``), never silent, for every
design whose course is replayed (a newcomer found BOIN, CRM and the one-MTD combination BOIN silent after a move up
on 2/3 DLTs, while the waterfall and BF-BOIN flagged theirs).  Each test fails on the code before the warning."""

from __future__ import annotations

import pytest

from adcbridge.dosefinding import History, Patient, boin, comb_boin, crm, next_dose
from tests.clirun import run


def _deviations(decision):
    return [i for i in decision.issues if i.code == "dose_deviation"]


@pytest.mark.parametrize("make", [lambda: boin(0.3, 5), lambda: crm(0.3, 5)])
def test_a_move_up_after_two_of_three_dlts_is_warned(make):
    d = next_dose(make(), "1NNN 2TTN 3NNN")
    [issue] = _deviations(d)
    assert issue.severity == "warning"
    assert issue.message.startswith("cohort 3 (P7, P8, P9) was treated at level 3, above level 1 that the rules "
                                    "gave after cohort 2 (")
    assert issue.message.endswith("; the decision goes on from the data as treated")


def test_a_move_below_the_rules_dose_is_warned_as_below():
    [issue] = _deviations(next_dose(boin(0.3, 5), "1NNN 2NNN 1NNN"))
    assert "cohort 3 (P7, P8, P9) was treated at level 1, below level 3 that the rules gave after cohort 2 " \
           "(escalate:" in issue.message


def test_a_course_that_follows_the_rules_has_no_warning():
    assert _deviations(next_dose(boin(0.3, 5), "1NNN 2NNN 3NTN 3NNN")) == []
    assert _deviations(next_dose(crm(0.3, 5), "1NNN 2NNN 3NNN")) == []


def _comb_history():
    cells, dlt = [(1, 1)] * 3 + [(1, 2)] * 3, [1, 1, 0, 0, 0, 0]
    return History(tuple(Patient(f"P{i + 1}", i // 3 + 1, None, bool(dlt[i]), dose_a=a, dose_b=b)
                         for i, (a, b) in enumerate(cells)))


def test_the_one_mtd_combination_design_warns_and_the_waterfall_keeps_off_protocol():
    [issue] = _deviations(next_dose(comb_boin(0.3, (3, 3), n_cohorts=10), _comb_history()))
    assert issue.message.startswith("cohort 2 (P4, P5, P6) was treated at (1, 2), above (1, 1) that the rules gave "
                                    "after cohort 1 (stay_lowest:")
    waterfall = next_dose(comb_boin(0.3, (3, 3), mtd_contour=True), _comb_history())
    assert _deviations(waterfall) == [] and [i.code for i in waterfall.issues] == ["off_protocol"]


def test_the_command_line_shows_the_warning(capsys):
    code, out, err = run(capsys, "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2TTN 3NNN")
    assert code == 0 and "warning: cohort 3 (P7, P8, P9) was treated at level 3, above level 1" in out


def test_an_elimination_reason_cites_the_data_that_eliminated_the_dose():
    # 3/6 gives Pr(p > 0.3) = 0.874 < 0.95: the dose was eliminated at 3/3, and the reason says so
    reason = next_dose(boin(0.3, 3), "1NNN 2TTT 2NNN").reason
    assert reason.startswith("3/6 DLTs at dose 2: dose 2 and above are eliminated (3/3 DLTs at dose 2 when it was "
                             "eliminated: Pr(DLT rate > 0.3) > 0.95)")
    assert "(3/3 DLTs at dose 2: Pr(DLT rate > 0.3) > 0.95)" in next_dose(boin(0.3, 3), "1NNN 2TTT").reason


def _pairs_history(cells, dlt):
    return History(tuple(Patient(f"P{i + 1}", i // 3 + 1, None, bool(dlt[i]), dose_a=a, dose_b=b)
                         for i, (a, b) in enumerate(cells)))


def test_the_waterfall_never_sends_a_cohort_to_an_eliminated_combination():
    # off protocol twice: (1, 2) after (1, 1), then (2, 2) in a row the waterfall had closed; the design's next step
    # (2, 3) is eliminated -- refused, naming the cohorts, instead of recommended (a newcomer's finding)
    h = _pairs_history([(1, 1)] * 3 + [(1, 2)] * 3 + [(2, 2)] * 3, [0, 0, 0, 1, 1, 0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"^The waterfall cannot go on from this history: its next combination "
                                         r"\(2, 3\) is eliminated \(after the cohorts treated off protocol: cohort 2 "
                                         r"at \(1, 2\); cohort 3 at \(2, 2\)\)"):
        next_dose(comb_boin(0.3, (3, 3), mtd_contour=True), h)


def test_a_waterfall_stay_at_the_subtrials_lowest_combination_says_why():
    h = _pairs_history([(1, 1)] * 3 + [(1, 2)] * 3, [0, 0, 0, 1, 1, 0])
    d = next_dose(comb_boin(0.3, (3, 3), mtd_contour=True), h)
    assert (d.rule, d.next_dose) == ("stay_lowest", (1, 2))
    assert d.reason == "2/3 DLTs at (1, 2) (de-escalate), but this is the lowest combination of subtrial 2: stay"


def test_a_crm_mtd_no_patient_received_is_warned():
    d = next_dose(crm(0.3, 4, cohorts=2), "1NNN 2NNN")
    assert (d.rule, d.mtd) == ("max_sample_size", 4)
    [issue] = [i for i in d.issues if i.code == "untried_mtd"]
    assert issue.severity == "warning" and issue.message.startswith("the MTD, dose 4, was given to no patient")
    assert not [i for i in next_dose(crm(0.3, 4, cohorts=3), "1NNN 2NNN 3TTN").issues if i.code == "untried_mtd"]


def _short(decision):
    return [i.message for i in decision.issues if i.code == "short_cohort"]


@pytest.mark.parametrize("make", [lambda: boin(0.3, 5), lambda: crm(0.3, 5)])
def test_an_earlier_cohort_smaller_than_the_rules_gave_is_noted(make):
    # cohort 2 had 2 patients (one not evaluable, not replaced): found silent, only a short last cohort was noted
    d = next_dose(make(), "1NNN 2NN 3NNN")
    [issue] = [i for i in d.issues if i.code == "short_cohort"]
    assert issue.severity == "info"
    assert issue.message == ("cohort 2 (P4, P5: 2 of 3) had fewer patients than the rules gave: the decision after "
                             "it was taken on the data then")
    assert _short(next_dose(make(), "1N 2NN 3NNN")) == [
        "cohort 1 (P1: 1 of 3); cohort 2 (P2, P3: 2 of 3) had fewer patients than the rules gave: the decision "
        "after each was taken on the data then"]
    assert _short(next_dose(make(), "1NNN 2NNN 3NNN")) == []
    # the last cohort keeps its own note (the conduct app waits for it), the earlier ones theirs
    assert [i.code for i in next_dose(make(), "1NNN 2NN 3NN").issues] == ["short_cohort", "partial_cohort"]


def test_titration_cohorts_are_the_rules_own_and_later_short_cohorts_are_noted():
    design = boin(0.3, 5, titration=True)
    assert [i.code for i in next_dose(design, "1N 2N 3T 3NN").issues] == []      # cohorts of 1, then the fill of 2
    # after the titration a cohort of 2 is short (found: a titration design noted none)
    assert _short(next_dose(design, "1N 2N 3T 3NN 3NNN 3NN 3NNN")) == [
        "cohort 6 (P9, P10: 2 of 3) had fewer patients than the rules gave: the decision after it was taken on "
        "the data then"]
