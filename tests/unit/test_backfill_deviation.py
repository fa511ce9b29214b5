"""BF-BOIN: a backfill patient treated at a dose that was not open for backfill when he arrived is warned
(``dose_deviation``), never silent.  The opening rule (SPEC 8.6) is the design's own, evaluated with what was known
at his ``dose_time`` -- without times, with what the rows before his show.  Not an error: the decision goes on from
the data as treated.  Found accepted silently (a backfill patient at a dose without a response, or after backfill
DLTs had made it unsafe), while the decision's own reason said backfill was closed."""

from __future__ import annotations

from adcbridge.dosefinding import boin_backfill, next_dose
from adcbridge.dosefinding.backfill.conformance import logged_cases
from adcbridge.dosefinding.history import History, Patient
from tests.clirun import run

TAIL = "; the decision goes on from the data as treated"


def P(pid, cohort, dose, dlt, backfill=False, efficacy=None, dose_time=None, assess_time=None):
    return Patient(pid, cohort, dose, dlt, dose_time=dose_time, assess_time=assess_time, efficacy=efficacy,
                   backfill=backfill)


def _deviations(decision) -> list[str]:
    return [i.message for i in decision.issues if i.code == "dose_deviation"]


def _esc(response: bool, times: bool = True) -> list[Patient]:
    """Cohort 1 at dose 1 (0/3, assessed day 28; a response on P1 or none), cohort 2 at dose 2 dosed day 30, pending."""
    def at(x):
        return x if times else None
    return ([P(f"P{i}", 1, 1, False, efficacy=response and i == 1, dose_time=at(0), assess_time=at(28))
             for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, None, dose_time=at(30)) for i in (4, 5, 6)])


DESIGN = boin_backfill(0.3, 5, dlt_window=28)

F5 = """patient,cohort,dose,dlt,efficacy,backfill,dose_time,assess_time
P1,1,1,0,0,0,0,28
P2,1,1,0,0,0,0,28
P3,1,1,0,0,0,0,28
P4,2,2,,,0,30,
P5,2,2,,,0,30,
P6,2,2,,,0,30,
P7,3,1,0,,1,31,60
"""


def test_a_backfill_patient_at_a_dose_without_a_response_is_warned():
    d = next_dose(DESIGN, History(tuple(_esc(False) + [P("P7", 3, 1, False, True, dose_time=31, assess_time=60)])))
    issue = [i for i in d.issues if i.code == "dose_deviation"]
    assert [i.severity for i in issue] == ["warning"]
    assert issue[0].message == ("backfill patient P7 (patient row 7) was treated at level 1 at day 31, when that "
                                "dose was not open for backfill: no response had been seen at level 1" + TAIL)
    # the decision goes on from the data as treated
    assert (d.rule, d.next_dose, d.extra["backfill_open"]) == ("awaiting_outcomes", 2, [])


def test_a_backfill_patient_after_backfill_dlts_made_the_dose_unsafe_is_warned():
    # dose 1 at day 35: 0/3 escalation + 2/2 backfill (DLTs assessed days 32, 34) = 2/5 >= D(5) = 2, and pooled with
    # dose 2 (no outcome yet) also 2/5: not safe.  P7 (day 31: 0/3) and P8 (day 33: 1/4 < D(4) = 2) were fine
    rows = _esc(True) + [P("P7", 3, 1, True, True, dose_time=31, assess_time=32),
                         P("P8", 3, 1, True, True, dose_time=33, assess_time=34),
                         P("P9", 3, 1, False, True, dose_time=35, assess_time=63)]
    assert _deviations(next_dose(DESIGN, History(tuple(rows)))) == [
        "backfill patient P9 (patient row 9) was treated at level 1 at day 35, when that dose was not open for "
        "backfill: level 1 was not safe (2/5 DLTs, and 2/5 pooled with level 2: at or above the de-escalation "
        "boundary)" + TAIL]


def test_an_unsafe_lower_dose_closes_the_doses_above_it():
    # cohorts at doses 1 and 2 (0/3 each, a response at each), cohort 3 at dose 3 pending from day 60; backfill DLTs
    # at dose 1 (B1-B4): at day 69 dose 1 is 4/7 (>= D(7) = 3) and pooled with dose 2 4/10 (>= D(10) = 4): dose 2,
    # safe by itself, is closed too
    rows = ([P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=0, assess_time=28) for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, False, efficacy=i == 4, dose_time=30, assess_time=58) for i in (4, 5, 6)]
            + [P(f"P{i}", 3, 3, None, dose_time=60) for i in (7, 8, 9)]
            + [P(f"B{k}", 4, 1, True, True, dose_time=59 + 2 * k, assess_time=60 + 2 * k) for k in (1, 2, 3, 4)]
            + [P("B5", 5, 2, None, True, dose_time=69)])
    lowest = boin_backfill(0.3, 5, dlt_window=28, backfill_assign="lowest")     # B1-B4 at the lowest open dose
    assert _deviations(next_dose(lowest, History(tuple(rows)))) == [
        "backfill patient B5 (patient row 14) was treated at level 2 at day 69, when that dose was not open for "
        "backfill: level 1 was not safe (4/7 DLTs, and 4/10 pooled with level 2: at or above the de-escalation "
        "boundary), which closes every dose above it" + TAIL]


def test_a_backfill_patient_beyond_the_cap_is_warned():
    # n_cap 3: dose 1 has 3 escalation patients, B1 makes 4 (3 <= 3 before him: open); B2 finds 4 > 3
    rows = _esc(True) + [P("B1", 3, 1, None, True, dose_time=31), P("B2", 4, 1, None, True, dose_time=32)]
    assert _deviations(next_dose(boin_backfill(0.3, 5, dlt_window=28, n_cap=3), History(tuple(rows)))) == [
        "backfill patient B2 (patient row 8) was treated at level 1 at day 32, when that dose was not open for "
        "backfill: level 1 had reached the cap (4 patients, escalation and backfill; n_cap = 3 admits one more only "
        "while it has at most 3)" + TAIL]


def test_without_times_the_rows_before_the_patient_decide():
    d = next_dose(DESIGN, History(tuple(_esc(False, times=False) + [P("P7", 3, 1, False, True)])))
    assert _deviations(d) == ["backfill patient P7 (patient row 7) was treated at level 1, which was (on the rows "
                              "before his) not open for backfill: no response had been seen at level 1" + TAIL]
    # two backfill DLTs on the rows before B3: 2/5 at dose 1 (cohort 2 pending): not safe
    rows = _esc(True, times=False) + [P("B1", 3, 1, True, True), P("B2", 4, 1, True, True), P("B3", 5, 1, None, True)]
    assert _deviations(next_dose(DESIGN, History(tuple(rows)))) == [
        "backfill patient B3 (patient row 9) was treated at level 1, which was (on the rows before his) not open "
        "for backfill: level 1 was not safe (2/5 DLTs, and 2/5 pooled with level 2: at or above the de-escalation "
        "boundary)" + TAIL]


def test_backfill_patients_at_open_doses_give_no_warning():
    # the history of test_boin_backfill's pooled-escalation case: B1-B3 at dose 1 (a response, safe before each)
    esc = [P("P1", 1, 1, False, efficacy=True), P("P2", 1, 1, False), P("P3", 1, 1, False),
           P("P4", 2, 2, False, efficacy=False), P("P5", 2, 2, False, efficacy=False),
           P("P6", 2, 2, False, efficacy=False)]
    rows = esc + [P("B1", 3, 1, True, True), P("B2", 3, 1, True, True), P("B3", 3, 1, False, True)]
    d = next_dose(boin_backfill(0.3, 4), History(tuple(rows)))
    assert (d.rule, d.issues) == ("pooled_escalate", ())
    # with times: P7 and P8 came while dose 1 was safe (0/3, then 1/4)
    rows = _esc(True) + [P("P7", 3, 1, True, True, dose_time=31, assess_time=32),
                         P("P8", 3, 1, True, True, dose_time=33, assess_time=34)]
    assert next_dose(DESIGN, History(tuple(rows))).issues == ()
    # the simulator's own backfill patients, each history as it was at a logged decision point
    design = boin_backfill(0.3, 5, n_cap=4)
    cases = [h for h, _ in logged_cases(design, n_trials=6, seed=2)]
    assert sum(h.has_backfill for h in cases) > 20
    assert all(_deviations(next_dose(design, h)) == [] for h in cases)


def test_the_command_line_shows_the_warning(tmp_path, capsys):
    h = tmp_path / "f5.csv"
    h.write_text(F5)
    base = ["next", "--design", "boin-backfill", "--doses", "5", "--target", "0.3", "--dlt-window", "28"]
    code, out, err = run(capsys, *base, "--history", h)
    assert code == 0
    assert ("warning: backfill patient P7 (line 8) was treated at level 1 at day 31, when that dose was not open "
            "for backfill: no response had been seen at level 1" + TAIL) in out
    assert "backfill is closed (no lower dose has shown a response)" in out
    # the same patient after a response at dose 1 (the CLI tests' history, P1 responding): no warning
    h.write_text(F5.replace("P1,1,1,0,0,0,0,28", "P1,1,1,0,1,0,0,28"))
    code, out, err = run(capsys, *base, "--history", h)
    assert code == 0 and "warning" not in out


def _two_open(assign: str):
    """Doses 1 and 2 cleared (0/3 each, a response at each), cohort 3 pending at dose 3 from day 60; B1 backfilled
    at dose 1 on day 61, when both were open."""
    rows = ([P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=0, assess_time=28) for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, False, efficacy=i == 4, dose_time=30, assess_time=58) for i in (4, 5, 6)]
            + [P(f"P{i}", 3, 3, None, dose_time=60) for i in (7, 8, 9)]
            + [P("B1", 4, 1, None, True, dose_time=61)])
    return next_dose(boin_backfill(0.3, 5, dlt_window=28, backfill_assign=assign), History(tuple(rows)))


def test_a_backfill_patient_at_an_open_dose_other_than_the_assigned_one_is_warned():
    assert _deviations(_two_open("highest")) == [
        "backfill patient B1 (patient row 10) was treated at level 1, but the highest dose open for backfill when he "
        "arrived at day 61 was level 2 (open: level(s) 1, 2; backfill_assign = highest)" + TAIL]
    assert _deviations(_two_open("lowest")) == []           # level 1 is the lowest open dose
    assert _deviations(_two_open("random")) == []           # any open dose is the rule's


def test_a_backfill_patient_after_the_cohort_was_assessed_is_warned():
    # cohort 2 at dose 2 assessed by day 58 (0/3): its evaluation was due; B1 came on day 60 as a backfill patient
    rows = ([P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=0, assess_time=28) for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, False, dose_time=30, assess_time=58) for i in (4, 5, 6)]
            + [P("B1", 3, 1, None, True, dose_time=60)])
    d = next_dose(DESIGN, History(tuple(rows)))
    assert _deviations(d) == [
        "backfill patient B1 (patient row 7) arrived at day 60, after cohort 2 had been fully "
        "assessed at day 58: backfill is open only while the current cohort's outcomes are pending; its evaluation was "
        "due, and a patient arriving then went to the next escalation cohort, or to none had it stopped the trial"
        + TAIL]
    # arriving on day 58 itself, before the last assessment was counted: no warning (an outcome counts after its day)
    rows[-1] = P("B1", 3, 1, None, True, dose_time=58)
    assert _deviations(next_dose(DESIGN, History(tuple(rows)))) == []


def test_simulated_backfill_patients_follow_the_assignment():
    """The simulator's own histories, for each assignment rule (the conformance specs), give no warning."""
    from adcbridge.dosefinding.backfill.design import BackfillBoinDesign
    for design in BackfillBoinDesign.conformance_specs():
        cases = [h for h, _ in logged_cases(design, n_trials=8, seed=3)]
        assert sum(h.has_backfill for h in cases) > 10, design.backfill_assign
        assert all(_deviations(next_dose(design, h)) == [] for h in cases), design.backfill_assign


def test_backfill_closed_by_the_cap_says_so_with_the_cap_given():
    # n_cap 3: dose 1 holds 3 escalation patients + B1 = 4 > 3; the reason names n_cap as given (found: "cap of 4")
    rows = _esc(True) + [P("B1", 3, 1, None, True, dose_time=31)]
    d = next_dose(boin_backfill(0.3, 5, dlt_window=28, n_cap=3), History(tuple(rows)))
    assert d.reason.endswith("backfill is closed (no lower dose with a response is open: level(s) 1 already hold "
                             "more than n_cap = 3 patients (escalation and backfill)): a patient arriving now is "
                             "referred away")


def _early_responder() -> list[Patient]:
    """Levels 1 and 2 cleared, level 3 too toxic (2 DLTs), back at level 2 where P12 (dosed day 105) had a DLT on
    day 107 and a response, assessed at the end of his window (day 133); cohort 5 pending at level 3 from day 130."""
    return ([P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=i, assess_time=i + 28) for i in (1, 2, 3)]
           + [P(f"P{i}", 2, 2, False, efficacy=False, dose_time=30 + i, assess_time=58 + i) for i in (4, 5, 6)]
           + [P("P7", 3, 3, True, efficacy=False, dose_time=65, assess_time=70),
              P("P8", 3, 3, True, efficacy=False, dose_time=66, assess_time=71),
              P("P9", 3, 3, False, efficacy=False, dose_time=67, assess_time=95)]
           + [P("P10", 4, 2, False, efficacy=False, dose_time=100, assess_time=128),
              P("P11", 4, 2, False, efficacy=False, dose_time=101, assess_time=129),
              P("P12", 4, 2, True, efficacy=True, dose_time=105, assess_time=107)]
           + [P(f"P{i}", 5, 3, None, dose_time=130 + i - 13) for i in (13, 14, 15)])


def test_a_response_counts_one_window_after_dosing_even_after_an_early_dlt():
    """Found: a responder whose DLT came on day 107 (dosed day 105) opened his dose from day 107, while the
    simulator (and bfboin) see a response only at the end of his window, day 133: a false assignment warning."""
    rows = _early_responder()
    design = boin_backfill(0.3, 5, dlt_window=28, backfill_assign="highest")
    before = rows + [P("B1", 6, 1, None, True, dose_time=132)]      # P12's response not yet assessed: level 1 only
    assert _deviations(next_dose(design, History(tuple(before)))) == []
    after = rows + [P("B1", 6, 1, None, True, dose_time=134)]       # assessed on day 133: level 2 is open too
    assert _deviations(next_dose(design, History(tuple(after)))) == [
        "backfill patient B1 (patient row 16) was treated at level 1, but the highest dose open for backfill when he "
        "arrived at day 134 was level 2 (open: level(s) 1, 2; backfill_assign = highest)" + TAIL]


def _b6(extra):
    """Cohort 1 at level 1 (0/3, a response), cohort 2 at level 2 with 3/3 DLTs (levels 2 and above eliminated),
    a backfill patient at level 1, then ``extra`` rows."""
    return History(tuple([P("P1", 1, 1, False, efficacy=True, dose_time=0, assess_time=28),
                          P("P2", 1, 1, False, efficacy=False, dose_time=1, assess_time=29),
                          P("P3", 1, 1, False, efficacy=False, dose_time=2, assess_time=30),
                          P("P4", 2, 2, True, efficacy=True, dose_time=31, assess_time=40),
                          P("P5", 2, 2, True, efficacy=False, dose_time=32, assess_time=41),
                          P("P6", 2, 2, True, efficacy=False, dose_time=33, assess_time=42),
                          P("B1", 3, 1, False, True, efficacy=False, dose_time=35, assess_time=63)] + extra))


def test_a_cohort_at_an_eliminated_dose_is_not_filled():
    """Found: after 3/3 DLTs eliminated level 2 and above, a cohort started at level 3 was to be filled there
    ("cohort_open: enrol 2 more"), while BOIN and TITE-BOIN go to level 1."""
    design = boin_backfill(0.25, 4, dlt_window=28)
    d = next_dose(design, _b6([P("P7", 4, 3, None, efficacy=None, dose_time=70)]))
    assert (d.decision, d.next_dose, d.rule, d.next_cohort_size) == ("de-escalate", 1, "eliminated", 3)
    assert [i.code for i in d.issues][:2] == ["dose_deviation", "treated_eliminated_dose"]
    assert d.issues[0].message.startswith("cohort 4 (P7) was treated at level 3, above level 1 that the rules gave "
                                          "after cohort 2 (eliminate: 3/3 DLTs at dose 2")
    assert d.issues[1].message == "cohort 4 (P7) was treated at level 3, which had been eliminated (levels 2 and above)"
    assert "partial_cohort" not in [i.code for i in d.issues]       # not to be completed: no "decision so far" note
    # the cohort completed and assessed there: its evaluation never stays at (or escalates from) an eliminated dose
    full = [P(f"P{i}", 4, 3, False, efficacy=False, dose_time=63 + i, assess_time=91 + i) for i in (7, 8, 9)]
    d = next_dose(design, _b6(full))
    assert d.next_dose == 1 and 2 in d.eliminated


def test_a_backfill_patient_s_response_opens_no_dose():
    """SPEC BF-6: only escalation patients' responses open a dose.  Found: B1's response (at a closed dose) opened
    level 1 for B2 without a warning."""
    rows = ([P(f"P{i}", 1, 1, False, efficacy=False, dose_time=i - 1, assess_time=i + 27) for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, False, efficacy=False, dose_time=27 + i, assess_time=55 + i) for i in (4, 5, 6)]
            + [P("B1", 3, 1, False, True, efficacy=True, dose_time=34, assess_time=62)]
            + [P(f"P{i}", 4, 3, None, dose_time=55 + i) for i in (7, 8, 9)]
            + [P("B2", 5, 1, None, True, dose_time=70)])
    d = next_dose(boin_backfill(0.25, 4, dlt_window=28), History(tuple(rows)))
    assert [m.split(" was treated")[0] for m in _deviations(d)] == ["backfill patient B1 (patient row 7)",
                                                                     "backfill patient B2 (patient row 11)"]
    assert d.extra["backfill_open"] == []


def test_a_response_not_recorded_is_warned_where_it_could_open_a_dose():
    """Found: an assessed patient with an empty efficacy was silently read as no response (backfill closed)."""
    esc = [P("P1", 1, 1, False, efficacy=True), P("P2", 1, 1, False), P("P3", 1, 1, False),
           P("P4", 2, 2, False), P("P5", 2, 2, False, efficacy=False), P("P6", 2, 2, True),
           P("P7", 3, 3, None), P("P8", 3, 3, None), P("P9", 3, 3, None)]
    d = next_dose(boin_backfill(0.3, 4), History(tuple(esc)))
    # P2, P3: level 1 has a response already; P6: a DLT; P4 at level 2 (no response there) is the one that matters
    assert [(i.code, i.message) for i in d.issues if i.code == "response_missing"] == [(
        "response_missing", "1 escalation patient(s) completed the DLT window without a recorded response "
        "(efficacy empty): P4 (patient row 4); each is read as no response, which keeps backfill closed at level(s) "
        "2 (no response recorded there): record the responses (efficacy 0 or 1)")]


def test_an_outcome_or_response_of_the_day_counts_in_that_day_s_enrolment():
    """Found: the live decision (on everything recorded) said "backfilled at dose 1" on day 28, when P1's response
    and the cohort's outcomes were assessed; enrolling B1 that day was then warned as "no response seen"."""
    rows = ([P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=0, assess_time=28) for i in (1, 2, 3)]
            + [P(f"P{i}", 2, 2, None, dose_time=28) for i in (4, 5, 6)])
    before = next_dose(DESIGN, History(tuple(rows)))
    assert before.extra["backfill_dose"] == 1
    after = next_dose(DESIGN, History(tuple(rows + [P("B1", 3, 1, None, True, dose_time=28)])))
    assert _deviations(after) == []


def test_without_times_a_replayed_stop_on_later_backfill_outcomes_is_a_warning():
    """Found: a site that followed "escalate" had every later decision refused once the backfill DLTs recorded
    since made the replay of an earlier evaluation stop the trial (the history cannot say they came later)."""
    esc = ([P(f"P{i}", 1, 1, False, efficacy=i == 1) for i in (1, 2, 3)]
           + [P(f"P{i}", 2, 2, False, efficacy=False) for i in (4, 5, 6)])
    backfill = [P(f"B{k}", 2 + k, 1, True, True, efficacy=False) for k in range(1, 7)]
    rows = esc + backfill + [P(f"P{i}", 9, 3, None) for i in (7, 8, 9)]
    d = next_dose(boin_backfill(0.3, 5), History(tuple(rows)))
    [issue] = [i for i in d.issues if i.code == "course_uncertain"]
    assert issue.message.startswith("the evaluation of cohort 2, replayed on the backfill outcomes recorded now, "
                                    "stops the trial (pooled_eliminate_lowest: a toxicity stop), and cohort 9 was "
                                    "enrolled after it; the history has no times")


def test_the_outcome_notation_says_it_carries_no_responses():
    # found: the response_missing warning asked for an efficacy column the notation cannot hold
    d = next_dose(boin_backfill(0.3, 5), "1NNN 2NNN")
    assert [(i.code, i.severity) for i in d.issues] == [("response_missing", "warning")]
    assert d.issues[0].message.startswith("no patient has a recorded response (efficacy), so no dose opens for "
                                          "backfill")
    from adcbridge.dosefinding import NextDose
    assert NextDose.check_record(d.to_record()) == []          # the record replays with the same issue


def test_a_site_that_followed_the_advice_of_the_day_is_not_warned():
    """Ties: an outcome assessed at the very time of an enrolment may or may not have been known, so the replay
    warns only when both readings (known, not yet known) find a deviation.  Found by a review: a DLT recorded later
    on day 58 turned B3's enrolment that day, advised in the morning, into a warning; and a backfill DLT of day 56
    turned an escalation advised that day into one."""
    design = boin_backfill(0.3, 5, dlt_window=28)
    base = [P(f"P{i}", 1, 1, False, efficacy=i == 1, dose_time=0, assess_time=28) for i in (1, 2, 3)]
    c2 = [P("P4", 2, 2, False, efficacy=False, dose_time=28, assess_time=56),
          P("P5", 2, 2, False, efficacy=False, dose_time=28, assess_time=56)]
    bf = [P("B1", 3, 1, True, True, efficacy=False, dose_time=31, assess_time=35),
          P("B2", 4, 1, True, True, efficacy=False, dose_time=36, assess_time=40)]
    live = next_dose(design, History(tuple(base + c2 + [P("P6", 2, 2, None, dose_time=30)] + bf)))
    assert live.extra["backfill_dose"] == 1
    later = base + c2 + [P("P6", 2, 2, True, efficacy=False, dose_time=30, assess_time=58)] + bf
    assert _deviations(next_dose(design, History(tuple(later + [P("B3", 5, 1, None, True, dose_time=58)])))) == []
    # the same B3 a day later, once the DLT was known: warned (dose 1 no longer safe)
    assert _deviations(next_dose(design, History(tuple(later + [P("B3", 5, 1, None, True, dose_time=59)]))))

    c2 = [P(f"P{i}", 2, 2, False, efficacy=False, dose_time=28, assess_time=56) for i in (4, 5, 6)]
    b1 = [P("B1", 3, 1, True, True, efficacy=False, dose_time=31, assess_time=35)]
    live = next_dose(design, History(tuple(base + c2 + b1 + [P("B2", 4, 1, None, True, dose_time=36)])))
    assert (live.decision, live.next_dose) == ("escalate", 3)
    rows = base + c2 + b1 + [P("B2", 4, 1, True, True, efficacy=False, dose_time=36, assess_time=56)] \
        + [P(f"P{i}", 5, 3, None, dose_time=56) for i in (7, 8, 9)]
    assert _deviations(next_dose(design, History(tuple(rows)))) == []


def test_the_live_decision_counts_a_response_when_the_replay_does():
    """Found by a review: the live decision counted a response recorded at an early DLT (day 107) and advised
    level 2 on day 132, while the replay counts it one window after dosing (day 133) and warned the site that
    followed the advice.  The live decision is now taken at the history's latest time, with the replay's rule."""
    rows = _early_responder()
    design = boin_backfill(0.3, 5, dlt_window=28, backfill_assign="highest")
    live = next_dose(design, History(tuple(rows)))
    assert (live.extra["backfill_open"], live.extra["backfill_dose"]) == ([1], 1)
    follow = rows + [P("B1", 6, live.extra["backfill_dose"], None, True, dose_time=132)]
    assert _deviations(next_dose(design, History(tuple(follow)))) == []


def test_every_dose_eliminated_by_an_uncertain_replay_stops_the_trial():
    """Found by a review: with the stop downgraded to a warning (no times), the decision advised "go to dose 0"."""
    esc = ([P(f"P{i}", 1, 1, False, efficacy=i == 1) for i in (1, 2, 3)]
           + [P(f"P{i}", 2, 2, True, efficacy=False) for i in (4, 5, 6)])
    backfill = [P(f"B{k}", 2 + k, 1, True, True, efficacy=False) for k in range(1, 7)]
    rows = esc + backfill + [P(f"P{i}", 9, 1, True, efficacy=False) for i in (7, 8, 9)] + [P("P10", 10, 1, None)]
    d = next_dose(boin_backfill(0.3, 5), History(tuple(rows)))
    assert (d.decision, d.next_dose, d.rule) == ("stop", None, "eliminated")
    assert "course_uncertain" in [i.code for i in d.issues]


def test_no_missing_response_is_reported_before_any_window_ended():
    # found: "no patient has a recorded response" on the first step, with three patients still in their window
    rows = [P(f"P{i}", 1, 1, None, dose_time=i) for i in (1, 2, 3)]
    d = next_dose(DESIGN, History(tuple(rows)))
    assert "response_missing" not in [i.code for i in d.issues]
