"""TITE-BOIN's course replayed from the history's times (dosefinding/tite/course.py): a cohort enrolled while the
rules suspended accrual, at another dose than they gave, or after they stopped the trial, on what was known at its
dosing, is a ``dose_deviation`` warning; the simulator's own trials give none."""

import numpy as np
import pytest

from adcbridge.dosefinding import History, Patient, next_dose, tite_boin
from adcbridge.dosefinding.tite.course import course_deviations
from adcbridge.dosefinding.tite.times import check_scenario
from adcbridge.dosefinding.tite.trials import run_chunk
from tests.clirun import run
from tests.filehelpers import write_text_file

W = 28.0


def _history(rows, window=W):
    """rows: (cohort, dose, dlt, dose_time, assess_time); ``dlt`` None is pending."""
    pts = tuple(Patient(f"P{k}", c, d, y, dose_time=t0, assess_time=t1)
                for k, (c, d, y, t0, t1) in enumerate(rows, start=1))
    return History(pts, followup_window=window)


def _design(**kw):
    return tite_boin(0.3, 5, dlt_window=W, **kw)


FIRST = [(1, 1, False, 0, 28), (1, 1, False, 2, 30), (1, 1, False, 4, 32)]


def _deviations(decision):
    return [i.message for i in decision.issues if i.code == "dose_deviation"]


def test_cohort_enrolled_while_accrual_was_suspended():
    # at day 10 the three patients of cohort 1 were all pending (> 0.5 x 3): accrual was suspended
    h = _history(FIRST + [(2, 2, False, 10, 38), (2, 2, False, 11, 39), (2, 2, False, 12, 40)])
    msgs = _deviations(next_dose(_design(), h))
    assert len(msgs) == 1
    assert msgs[0].startswith("cohort 2 (P4, P5, P6), dosed at day 10, was enrolled while the rules suspended "
                              "accrual on what was known then (suspend_accrual: 0 DLT(s) in 3 patients at dose 1 "
                              "(3 pending, effective sample size 0.857")


def test_cohort_above_the_dose_the_rules_gave_then():
    # day 45: P5 and P6 had DLTs (days 40, 41), P4 pending (17/28): 2 DLTs in an effective 2.43 -> de-escalate
    h = _history(FIRST + [(2, 2, False, 33, 61), (2, 2, True, 34, 40), (2, 2, True, 35, 41),
                          (3, 2, False, 45, 73)])
    msgs = _deviations(next_dose(_design(), h))
    assert len(msgs) == 1
    assert "cohort 3 (P7), dosed at day 45, was treated at level 2, above level 1 that the rules gave on what was " \
           "known then (deescalate: 2 DLT(s) in 3 patients at dose 2 (1 pending, effective sample size 2.43" in msgs[0]


def test_on_protocol_course_has_no_warning():
    # cohort 2 dosed the day after cohort 1's last assessment: 0/3 -> escalate, as done
    h = _history(FIRST + [(2, 2, False, 33, 61), (2, 2, True, 34, 40), (2, 2, False, 35, 63)])
    assert _deviations(next_dose(_design(), h)) == []


def test_outcome_assessed_on_the_day_of_the_dosing_is_known():
    # P2 and P3 assessed on day 32, cohort 2 dosed on day 32: everything known, so the escalation is on protocol
    h = _history([(1, 1, False, 0, 28), (1, 1, False, 4, 32), (1, 1, False, 4, 32), (2, 2, False, 32, 60)])
    assert _deviations(next_dose(_design(), h)) == []
    # assessed on day 33 instead: at day 32 two of three were pending (> 0.5 x 3), accrual was suspended
    late = _history([(1, 1, False, 0, 28), (1, 1, False, 5, 33), (1, 1, False, 5, 33), (2, 2, False, 32, 60)])
    assert "was enrolled while the rules suspended accrual" in _deviations(next_dose(_design(), late))[0]


def test_cohort_after_the_rules_stopped():
    # 3/3 DLTs at the lowest dose, all assessed by day 7: every dose is eliminated, the trial stops
    h = _history([(1, 1, True, 0, 5), (1, 1, True, 1, 6), (1, 1, True, 2, 7), (2, 1, False, 20, 48)])
    msgs = _deviations(next_dose(_design(), h))
    assert len(msgs) == 1
    assert msgs[0].startswith("cohort 2 (P4), dosed at day 20, was enrolled after the rules had stopped the trial on "
                              "what was known then (eliminate: 3 DLT(s) in 3 patients at dose 1")


def test_history_without_times_or_window_is_not_replayed():
    h = _history(FIRST + [(2, 2, False, 10, 38), (2, 2, False, 11, 39), (2, 2, False, 12, 40)], window=None)
    assert course_deviations(_design(), h) == ()
    typed = History(tuple(Patient(f"P{k}", 1 + k // 4, 1 + k // 4, None if k > 3 else False, followup=0.5 if k > 3
                                  else None) for k in range(1, 6)))
    assert course_deviations(_design(), typed) == ()


@pytest.mark.parametrize("p_true, accrual", [((0.05, 0.1, 0.2, 0.3, 0.45), "poisson"),
                                             ((0.2, 0.35, 0.5, 0.6, 0.7), "uniform"),
                                             ((0.02, 0.05, 0.08, 0.12, 0.3), "poisson")])
def test_simulated_trials_follow_the_rules(p_true, accrual):
    """Every trial of the simulator, written as a timed history with complete outcomes, replays without a
    deviation: the live replay and the simulator agree on what was known at each decision."""
    design = tite_boin(0.3, 5, cohorts=8, dlt_window=1.0, max_pending=0.5)
    rate, a1, a2, acc = check_scenario(2.0, 0.5, 0.5, accrual)
    batch, _ = run_chunk(design, np.asarray(p_true), 150, np.random.default_rng(7), rate, a1, a2, acc)
    stricter = tite_boin(0.3, 5, cohorts=8, dlt_window=1.0, max_pending=0.0)    # waits for every outcome
    checked = warned = 0
    for b in range(150):
        slots = np.flatnonzero(batch.slot_dose[b] >= 0)
        pts = tuple(Patient(f"P{i + 1}", i // 3 + 1, int(batch.slot_dose[b, i]) + 1, bool(batch.dlt[b, i]),
                            dose_time=float(batch.enter[b, i]), assess_time=float(batch.resolve[b, i]))
                    for i in slots)
        if len({p.cohort for p in pts}) < 2:
            continue
        h = History(pts, followup_window=1.0)
        assert course_deviations(design, h) == (), b
        warned += bool(course_deviations(stricter, h))
        checked += 1
    assert checked > 100
    assert warned >= 0.9 * checked          # the replay sees the pending patients the simulator enrolled past


def test_command_line_replays_with_the_window(tmp_path, capsys):
    text = ("patient,cohort,dose,dlt,dose_time,assess_time\n"
            "P1,1,1,0,2026-01-01,2026-01-29\nP2,1,1,0,2026-01-03,2026-01-31\nP3,1,1,0,2026-01-05,2026-02-02\n"
            "P4,2,2,0,2026-01-10,2026-02-07\nP5,2,2,0,2026-01-11,2026-02-08\nP6,2,2,0,2026-01-12,2026-02-09\n")
    path = write_text_file(tmp_path, "h.csv", text)
    args = ["next", "--design", "tite-boin", "--target", 0.3, "--doses", 5, "--history", path, "--dlt-window", 28]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "warning: cohort 2 (P4, P5, P6), dosed on 2026-01-10, was enrolled while the rules suspended accrual" \
           in out
    code, out, err = run(capsys, *args, "--today", "2026-03-01")
    assert code == 0 and "dosed on 2026-01-10, was enrolled while the rules suspended accrual" in out


def test_a_stored_record_replays_with_its_warnings():
    """Found: the record did not keep the window its times are in, so replaying it lost the course's warnings."""
    import json

    from adcbridge.dosefinding import NextDose
    h = _history(FIRST + [(2, 2, False, 10, 38), (2, 2, None, 11, None)])
    d = next_dose(_design(), h.with_followup(45, W))
    record = json.loads(json.dumps(d.to_record()))
    assert record["followup_window"] == W
    again = NextDose.replay_record(record)
    assert _deviations(again) == _deviations(d) != []
    assert again.same_decision(d) and NextDose.check_record(record) == []
    # a record whose warning was removed does not check clean (found: issues were never compared)
    record["issues"] = [i for i in record["issues"] if i["code"] != "dose_deviation"]
    assert NextDose.check_record(record) == ["issues"]
    # the window-unit warning is replayed too
    weeks = next_dose(tite_boin(0.3, 5, dlt_window=4), _history(FIRST, window=4.0))
    assert NextDose.check_record(json.loads(json.dumps(weeks.to_record()))) == []


def test_a_history_that_cannot_be_replayed_says_why():
    # P5's DLT has no assess_time: when it became known is unknown, so the course is not checked (found silent)
    h = _history(FIRST + [(2, 2, False, 33, 61), (2, 2, True, 34, None), (2, 2, False, 35, 63)])
    [issue] = [i for i in next_dose(_design(), h).issues if i.code == "course_not_replayed"]
    assert issue.severity == "info"
    assert issue.message == ("the course is not checked against the rules as they stood at each cohort's dosing: "
                             "patient P5 (patient row 5) has no assess_time (when his outcome became known)")


def test_a_dlt_after_the_window_is_refused_and_a_window_in_another_unit_is_warned():
    # a DLT 40 days after dosing with a 28-day window: not a DLT of the protocol, or the window is in other units
    h = _history(FIRST + [(2, 2, True, 33, 73)])
    with pytest.raises(ValueError, match=r"patient row 4 \(patient 'P4'\): a DLT assessed at day 73, 40 days after "
                                         r"dosing, after the 28-day DLT window"):
        next_dose(_design(), h)
    # --dlt-window 4 meant as weeks, times in days: every no-DLT patient was assessed 7 windows after dosing
    d = next_dose(tite_boin(0.3, 5, dlt_window=4), _history(FIRST, window=4.0))
    [issue] = [i for i in d.issues if i.code == "dlt_window_unit"]
    assert issue.message == ("the patients without a DLT were assessed a median of 28 days after dosing, 7.0 DLT "
                             "windows of 4: is the DLT window in the times' unit (days for dates)?")
    assert not [i for i in next_dose(_design(), _history(FIRST)).issues if i.code == "dlt_window_unit"]


@pytest.mark.parametrize("today,message", [
    (None, "Invalid value for '--today': {h}: line 5: patient P4 is pending: his follow-up counts from his "
           "dose_time to the date of the decision; give it with --today (or a followup column)"),
    ("nan", "Invalid value for '--today': expected a day number, as the history's times are days (or give the "
            "history's times as dates), got 'nan'")])
def test_the_command_line_names_today_for_a_pending_patient(tmp_path, capsys, today, message):
    # found: without --today the message asked for a follow-up "or dose_time with the DLT window", both given
    path = write_text_file(tmp_path, "h.csv", "patient,cohort,dose,dlt,dose_time,assess_time\n"
                                              "P1,1,1,0,0,28\nP2,1,1,0,2,30\nP3,1,1,0,4,32\nP4,2,2,,33,\n")
    args = ["next", "--design", "tite-boin", "--target", 0.3, "--doses", 5, "--history", path, "--dlt-window", 28]
    code, out, err = run(capsys, *args, *(("--today", today) if today else ()))
    assert (code, err) == (2, f"adcbridge: error: {message.format(h=path)}\n")


def test_dates_with_a_time_of_day_keep_it(tmp_path, capsys):
    """Found: with the first dosing at 09:00, day 0 began at 09:00 while shown as midnight, so 08:00 on a later day
    read as 23:00 the day before; and --today refused a date with a time."""
    from adcbridge.io.history import read_history
    path = write_text_file(tmp_path, "h.csv", "patient,cohort,dose,dlt,dose_time,assess_time\n"
                                              "P1,1,1,0,2026-01-01 09:00,2026-01-29 08:00\n")
    h = read_history(path)
    assert h.time_origin == "2026-01-01" and h.patients[0].dose_time == pytest.approx(9 / 24)
    assert h.time_text(h.patients[0].assess_time) == "2026-01-29T08:00"
    path = write_text_file(tmp_path, "g.csv", "patient,cohort,dose,dlt,dose_time,assess_time\n"
                                              "P1,1,1,1,2026-01-01 09:00,2026-01-05 10:00\nP2,1,1,,2026-01-02 09:00,\n")
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", 0.3, "--doses", 5, "--history", path,
                         "--dlt-window", 28, "--today", "2026-01-16 21:00", "--format", "json")
    assert code == 0, err
    assert __import__("json").loads(out)["history"][1]["followup"] == pytest.approx(14.5 / 28)


def test_an_outcome_assessed_at_the_time_of_a_dosing_is_a_deviation_only_if_both_ways():
    # P2 and P3 assessed on day 32, cohort 2 dosed on day 32: with them known, escalation (as done); without them,
    # 2 of 3 pending would have suspended accrual -- the site may have known them: no warning
    h = _history([(1, 1, False, 0, 28), (1, 1, False, 4, 32), (1, 1, False, 4, 32), (2, 2, False, 32, 60)])
    assert _deviations(next_dose(_design(), h)) == []
    # a cohort that stayed at dose 1 on day 32: off the rules whether P2, P3 were known (escalate) or not (suspend)
    h = _history([(1, 1, False, 0, 28), (1, 1, False, 4, 32), (1, 1, False, 4, 32), (2, 1, False, 32, 60)])
    assert len(_deviations(next_dose(_design(), h))) == 1


@pytest.mark.parametrize("today,message", [
    ("2026-01-16", "the history's times carry a time of day: give --today with one too (2026-01-16 18:00)"),
    ("2026-01-16T12:00Z", "expected a date (YYYY-MM-DD, or with a time: YYYY-MM-DD HH:MM, no time zone)")])
def test_today_must_match_the_history_s_times(tmp_path, capsys, today, message):
    """Found by a review: a date-only --today read as midnight against dosings at 14:00 that day, and a time zone
    ended in a traceback."""
    path = write_text_file(tmp_path, "g.csv", "patient,cohort,dose,dlt,dose_time,assess_time\n"
                                              "P1,1,1,1,2026-01-01 09:00,2026-01-05 10:00\nP2,1,1,,2026-01-02 09:00,\n")
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", 0.3, "--doses", 5, "--history", path,
                         "--dlt-window", 28, "--today", today)
    assert code == 2 and err.startswith(f"adcbridge: error: Invalid value for '--today': {message}"), err
