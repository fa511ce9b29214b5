"""Histories whose rows said something the decision did not show (a newcomer's findings): an empty row between
patients, a TITE-BOIN patient pending past the DLT window, backfill times that contradict the rows, and 0/1
outcomes given to the Python API.  Each test fails on the code before its fix."""

from __future__ import annotations

import json
import math

import pytest

from adcbridge.dosefinding import History, Patient, boin, next_dose, tite_boin
from adcbridge.dosefinding.backfill.design import boin_backfill
from adcbridge.io.history import read_history
from tests.clirun import run


# ------------------------------------------------------------------------------------- an empty row
@pytest.mark.parametrize("empty", [",,,", "", " , , ,"])
def test_an_empty_row_between_patients_is_refused_naming_the_line(tmp_path, empty):
    path = tmp_path / "h.csv"
    path.write_text(f"patient,cohort,dose,dlt\nP1,1,1,0\n{empty}\nP2,1,1,1\nP3,1,1,0\n")
    with pytest.raises(ValueError) as err:
        read_history(path)
    assert str(err.value) == (f"{path}: line 3 is empty; a history has one row per patient, in enrolment order: "
                              f"delete the empty line or fill in the patient")


def test_an_empty_excel_row_is_named_as_a_row(tmp_path):
    import pandas as pd
    path = tmp_path / "h.xlsx"
    pd.DataFrame({"patient": ["P1", None, "P2"], "cohort": [1, None, 1], "dose": [1, None, 1],
                  "dlt": [0, None, 1]}).to_excel(path, index=False)
    with pytest.raises(ValueError, match=r"h\.xlsx: row 3 is empty; .* delete the empty row"):
        read_history(path)


def test_empty_rows_after_the_last_patient_are_harmless(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,1\n,,,\n\n")
    assert [p.patient for p in read_history(path).patients] == ["P1", "P2"]


def test_the_command_line_exits_2_on_an_empty_row(tmp_path, capsys):
    path = tmp_path / "h.csv"
    path.write_text("patient,cohort,dose,dlt\nP1,1,1,0\n,,,\nP2,1,1,1\n")
    code, out, err = run(capsys, "next", "--design", "boin", "--target", "0.25", "--doses", "5", "--history", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and "line 3 is empty" in err


# ------------------------------------------------------------------- TITE-BOIN: pending past the window
def _tite_file(tmp_path, last_dosed="2026-01-01"):
    path = tmp_path / "t.csv"
    path.write_text("patient,cohort,dose,dlt,dose_time,assess_time\n"
                    "P1,1,1,0,2026-01-01,2026-01-29\nP2,1,1,0,2026-01-01,2026-01-29\n"
                    f"P3,1,1,,{last_dosed},\n")
    return path


def test_a_patient_pending_past_the_window_is_reported(tmp_path, capsys):
    # P3 dosed 2026-01-01, no outcome on 2026-02-05: 35 days into a 28-day window -> follow-up capped at 1 (as
    # TITEgBOIN), and the record says so
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history",
                         str(_tite_file(tmp_path)), "--dlt-window", "28", "--today", "2026-02-05", "--format", "json")
    record = json.loads(out)
    assert code == 0 and record["history"][2]["followup"] == 1.0
    (issue,) = [i for i in record["issues"] if i["code"] == "pending_past_window"]
    assert issue["severity"] == "warning"
    assert issue["message"].startswith("1 pending patient(s) have completed the DLT window without an outcome: "
                                       "P3 (line 4);")


def test_a_patient_within_the_window_gives_no_warning(tmp_path, capsys):
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history",
                         str(_tite_file(tmp_path, "2026-01-20")), "--dlt-window", "28", "--today", "2026-02-05",
                         "--format", "json")
    assert code == 0 and "pending_past_window" not in out and json.loads(out)["issues"] == []


def test_a_given_follow_up_of_one_is_reported_too():
    pts = [Patient("P1", 1, 1, False), Patient("P2", 1, 1, None, followup=1.0), Patient("P3", 1, 1, None,
                                                                                         followup=0.5)]
    result = next_dose(tite_boin(0.25, 5), History(tuple(pts)))
    (issue,) = [i for i in result.issues if i.code == "pending_past_window"]
    assert "P2 (patient row 2)" in issue.message and "P3" not in issue.message


# -------------------------------------------------------------- backfill: times that contradict the rows
ESC = [Patient("P1", 1, 1, False, 0.0, 1.0), Patient("P2", 1, 1, False, 0.1, 1.1),
       Patient("P3", 1, 1, False, 0.2, 1.2),
       Patient("P4", 2, 2, None, 1.3), Patient("P5", 2, 2, None, 1.4), Patient("P6", 2, 2, None, 1.5)]


def test_a_backfill_patient_dosed_before_the_current_cohort_is_refused():
    # B1 is on a row after cohort 2 (at level 2) was full, but was dosed at day 0.5, while cohort 1 at level 1
    # was still in its window: level 1 was not cleared for backfill then
    rows = ESC + [Patient("B1", 3, 1, None, 0.5, backfill=True)]
    with pytest.raises(ValueError) as err:
        next_dose(boin_backfill(0.3, 4), History(tuple(rows)))
    assert str(err.value) == ("column 'dose_time', patient row 7 (patient 'B1'): dosed at day 0.5, before patient "
                              "P6 on an earlier row (at day 1.5); the rows are the patients in enrolment order, and "
                              "boin-backfill reads each patient's arrival from dose_time")


def test_a_cohort_started_before_the_last_assessment_is_refused():
    rows = ESC[:3] + [Patient("P4", 2, 2, None, 1.15)] + ESC[4:]
    with pytest.raises(ValueError, match=r"column 'dose_time', patient row 4 \(patient 'P4'\): cohort 2 starts at "
                                         r"day 1\.15, before patient P3 of cohort 1 was assessed \(at day 1\.2\): "
                                         r"the next cohort waits for every outcome"):
        next_dose(boin_backfill(0.3, 4), History(tuple(rows)))


def test_consistent_times_still_decide():
    rows = ESC + [Patient("B1", 3, 1, None, 1.6, backfill=True)]
    result = next_dose(boin_backfill(0.3, 4), History(tuple(rows)))
    assert result.extra["awaiting_outcomes"] is True


# ------------------------------------------------------------------------- 0/1 outcomes in the API
def _record(**fields):
    return {"patient": "P1", "cohort": 1, "dose": 1, "dlt": 0} | fields


@pytest.mark.parametrize("given,expected", [(0, False), (1, True), (0.0, False), (1.0, True), (True, True),
                                            (None, None), (math.nan, None)])
def test_records_take_0_1_outcomes_as_a_table_does(given, expected):
    history = History.from_records([_record(dlt=given, efficacy=given)])
    assert history.patients[0].dlt is expected and history.patients[0].efficacy is expected


@pytest.mark.parametrize("given", [2, "0", "yes", -1, 0.5])
def test_records_refuse_other_outcomes(given):
    with pytest.raises(ValueError, match=r"column 'dlt', patient row 1 .*expected True, False or None"):
        History.from_records([_record(dlt=given)])


def test_a_backfill_flag_of_0_or_nan_is_false():
    assert History.from_records([_record(backfill=0)]).patients[0].backfill is False
    assert History.from_records([_record(backfill=math.nan)]).patients[0].backfill is False
    assert History.from_records([_record(backfill=1)]).patients[0].backfill is True


# ------------------------------------------------ TITE-BOIN: outcomes and times the rows contradict (2nd review)
def _tite(tmp_path, capsys, rows, today="2026-03-05"):
    path = tmp_path / "t.csv"
    path.write_text("patient,cohort,dose,dlt,dose_time,assess_time\n" + "".join(r + "\n" for r in rows))
    return run(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", str(path),
               "--dlt-window", "28", "--today", today)


def test_no_dlt_entered_before_the_window_is_over_is_refused(tmp_path, capsys):
    # a site typing 0 for "no DLT so far" escalated the trial (three complete patients instead of 0.32 of one)
    code, out, err = _tite(tmp_path, capsys, ["P1,1,1,0,2026-03-01,2026-03-02", "P2,1,1,0,2026-03-02,",
                                              "P3,1,1,0,2026-03-03,"])
    assert (code, out) == (2, "")
    assert err.endswith("column 'dlt', line 2 (patient 'P1'): no DLT, assessed on 2026-03-02, 1 days after dosing: "
                        "the 28-day DLT window is not over, so the outcome is not known yet; leave dlt (and "
                        "assess_time) empty while the patient is pending\n")
    code, out, err = _tite(tmp_path, capsys, ["P1,1,1,0,2026-03-01,", "P2,1,1,,2026-03-02,"])
    assert code == 2 and "line 2 (patient 'P1'): no DLT, on --today 2026-03-05, 4 days after dosing" in err


def test_a_dlt_within_the_window_and_a_whole_window_without_one_are_fine(tmp_path, capsys):
    code, out, err = _tite(tmp_path, capsys, ["P1,1,1,1,2026-01-01,2026-01-09", "P2,1,1,0,2026-01-02,2026-01-30",
                                              "P3,1,1,0,2026-01-03,", "P4,2,1,,2026-03-01,"])
    assert (code, err) == (0, "")


def test_tite_dosing_times_out_of_row_order_are_refused(tmp_path, capsys):
    code, out, err = _tite(tmp_path, capsys, ["P1,1,1,0,2026-01-01,2026-01-29", "P2,1,1,0,2026-01-20,2026-02-17",
                                              "P3,1,1,0,2026-01-10,2026-02-07"])
    assert code == 2 and err.endswith("column 'dose_time', line 4 (patient 'P3'): dosed on 2026-01-10, before patient "
                                      "P2 on an earlier row (on 2026-01-20); the rows are the patients in enrolment "
                                      "order, and tite-boin reads each patient's arrival from dose_time\n")


def test_an_assessed_patient_without_an_outcome_is_refused(tmp_path, capsys):
    code, out, err = _tite(tmp_path, capsys, ["P1,1,1,0,2026-01-01,2026-01-29", "P2,1,1,,2026-01-02,2026-01-30"])
    assert code == 2 and err.endswith("column 'assess_time', line 3 (patient 'P2'): assessed on 2026-01-30 but dlt "
                                      "is empty: give the outcome (0 or 1), or leave assess_time empty while the "
                                      "patient is pending\n")


# ------------------------------------------------------------------------------------ cohort numbers
@pytest.mark.parametrize("cohorts,message", [
    ((1, 3), "column 'cohort', patient row 2 (patient 'P2'): cohort 3 follows cohort 1: cohort 2 is missing"),
    ((2, 2), "column 'cohort', patient row 1 (patient 'P1'): the first cohort is numbered 2"),
])
def test_a_gap_in_the_cohort_numbers_is_refused(cohorts, message):
    # an empty row is refused as a possibly deleted patient; a missing cohort number is the same risk
    with pytest.raises(ValueError) as err:
        History(tuple(Patient(f"P{k + 1}", c, 1, False) for k, c in enumerate(cohorts)))
    assert str(err.value).startswith(message)
    assert str(err.value).endswith("; number the cohorts 1, 2, 3, ... in enrolment order")


def test_follow_up_computed_with_another_window_is_refused():
    # the API let the DLT window come from two places: with_followup(now, 7) under a design of dlt_window 28
    h = History((Patient("P1", 1, 1, True, dose_time=0.0, assess_time=3.0), Patient("P2", 1, 1, None, dose_time=1.0)))
    design = tite_boin(0.25, 5, dlt_window=28)
    with pytest.raises(ValueError, match=r"^The history's follow-up fractions were computed with a DLT window of 7, "
                                         r"but the design's dlt_window is 28"):
        next_dose(design, h.with_followup(5.0, 7))
    assert next_dose(design, h.with_followup(5.0, 28)).history.patients[1].followup == pytest.approx(4 / 28)


def test_a_dose_value_in_the_dose_column_is_named_as_a_level(tmp_path):
    # `--doses 1,2.1,4.2` and a history with the dose 2.1: the column holds the level (2), which the message says
    path = tmp_path / "h.csv"
    path.write_text("patient,cohort,dose,dlt\nP1,1,2.1,0\n")
    with pytest.raises(ValueError, match=r"column 'dose', line 2 \(patient 'P1'\): expected a dose level, a whole "
                                         r"number >= 1 \(1 = the lowest dose; the level's number, not the dose "
                                         r"itself\), got '2.1'"):
        read_history(path)


def test_an_oversized_cohort_names_the_extra_patient_in_the_api():
    h = History(tuple(Patient(f"P{i + 1}", 1, 1, False) for i in range(4)))
    with pytest.raises(ValueError) as err:
        next_dose(boin(0.3, 3), h)
    assert str(err.value) == ("column 'cohort', patient row 4 (patient 'P4'): cohort 1 has 4 patients, but boin treats "
                              "cohorts of 3, and this is patient 4 of it: give it the next cohort number (and "
                              "renumber the cohorts after it), or set the design's cohort_size to 4 if that is the "
                              "trial's cohort size")


# ------------------------------------- a "no DLT" before the window is over, without a time of the decision
def test_the_library_checks_complete_windows_with_the_designs_window():
    rows = [Patient("P1", 1, 1, False, dose_time=0.0, assess_time=28.0),
            Patient("P2", 1, 1, False, dose_time=1.0, assess_time=29.0),
            Patient("P3", 1, 1, False, dose_time=2.0, assess_time=5.0)]
    with pytest.raises(ValueError, match=r"patient row 3 \(patient 'P3'\): no DLT, assessed at day 5, 3 days after "
                                         r"dosing: the 28-day DLT window is not over"):
        next_dose(tite_boin(0.25, 5, dlt_window=28), History(tuple(rows)))
    with pytest.raises(ValueError, match=r"patient row 3 \(patient 'P3'\): no DLT, assessed at day 5"):
        next_dose(boin_backfill(0.25, 5, dlt_window=28), History(tuple(rows)))
    done = History(tuple(rows[:2]) + (Patient("P3", 1, 1, False, dose_time=2.0, assess_time=30.0),))
    assert next_dose(tite_boin(0.25, 5, dlt_window=28), done).next_dose == 2
    assert next_dose(boin_backfill(0.25, 5, dlt_window=28), done).next_dose == 2


def test_without_times_the_library_takes_outcomes_as_complete_and_strict_refuses():
    rows = (Patient("P1", 1, 1, False), Patient("P2", 1, 1, False, dose_time=1.0))
    assert next_dose(tite_boin(0.25, 5, dlt_window=28), History(rows)).next_dose == 2
    with pytest.raises(ValueError, match=r"patient row 1 \(patient 'P1'\): no DLT, but no dosing time"):
        History(rows).check_complete_windows(28)
    with pytest.raises(ValueError, match=r"patient row 1 \(patient 'P2'\): no DLT, but no assessment time"):
        History(rows[1:]).check_complete_windows(28)


def test_a_suspension_on_patients_past_the_window_says_to_record_their_outcomes():
    rows = [Patient(f"P{i}", 1, 1, False) for i in (1, 2, 3)] + \
        [Patient("P4", 2, 2, None, followup=1.0), Patient("P5", 2, 2, None, followup=1.0), Patient("P6", 2, 2, False)]
    d = next_dose(tite_boin(0.3, 4), History(tuple(rows)))
    assert d.decision == "suspend" and d.extra["suspend_accrual"] is True
    assert d.reason.endswith("suspend accrual until outcomes are known (2 of them have completed the DLT window: "
                             "record their outcomes)")
    rows[3] = Patient("P4", 2, 2, None, followup=0.5)
    rows[4] = Patient("P5", 2, 2, None, followup=0.5)
    assert next_dose(tite_boin(0.3, 4), History(tuple(rows))).reason.endswith("until more follow-up or outcomes accrue")


@pytest.mark.parametrize("cell", ["01/05/2026", "5.1.2026", "2026/01/05"])
def test_a_date_not_written_yyyy_mm_dd_is_named_as_a_date(tmp_path, cell):
    path = tmp_path / "h.csv"
    path.write_text(f"patient,cohort,dose,dlt,dose_time\nP1,1,1,0,0\nP2,1,1,0,{cell}\n")
    with pytest.raises(ValueError) as err:
        read_history(path)
    assert str(err.value) == (f"{path}: column 'dose_time', line 3 (patient 'P2'): expected a day number or a date "
                              f"written YYYY-MM-DD (ISO 8601: a date such as 01/05/2026 reads differently in "
                              f"different countries), got '{cell}'")


def test_follow_up_takes_a_no_dlt_patient_without_times_as_the_conduct_app_records_him():
    # the conduct app may record a patient without a dosing date; strictness is the command line's (review finding)
    h = History((Patient("P1", 1, 1, False), Patient("P2", 1, 1, None, dose_time=10.0)))
    assert h.with_followup(24.0, 28).patients[1].followup == pytest.approx(0.5)


def test_a_stored_record_with_an_early_no_dlt_still_replays():
    from adcbridge.dosefinding import NextDose
    rows = (Patient("P1", 1, 1, False, dose_time=0.0, assess_time=28.0),
            Patient("P2", 1, 1, False, dose_time=1.0, assess_time=29.0),
            Patient("P3", 1, 1, False, dose_time=2.0, assess_time=30.0))
    record = next_dose(tite_boin(0.25, 5, dlt_window=28), History(rows)).to_record()
    record["history"][2]["assess_time"] = 5.0            # as a record made before the window check would hold it
    assert NextDose.replay_record(record).next_dose == 2
    with pytest.raises(ValueError, match="28-day DLT window is not over"):
        next_dose(tite_boin(0.25, 5, dlt_window=28), History.from_records(record["history"]))
