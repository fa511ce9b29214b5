"""Errors about the trial so far name what the user gave: the cohort of ``--outcomes`` as typed, or the file, line
and patient of ``--history`` -- never a table row for ``--outcomes`` nor the Python argument for a file (a newcomer
found both), and never advice the design refuses (``--cohort-size`` for 3+3).  Each test fails on the code before."""

from __future__ import annotations

import pytest

from tests.clirun import run

H33 = ("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\nP4,2,2,1\nP5,2,2,1\nP6,2,2,0\nP7,3,3,0\nP8,3,3,0\n"
       "P9,3,3,0\n")


def _error(capsys, *args) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    return err


def test_a_3_plus_3_history_off_the_rules_names_the_file_and_line(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text(H33)
    err = _error(capsys, "next", "--design", "3+3", "--doses", "4", "--history", h)
    assert f"{h}: column 'dose', line 8 (patient 'P7'): cohort 3 does not follow the 3+3 rules: after cohort 2 they " \
           f"call for 3 patients at dose 1, and it has 3 at dose 3" in err
    assert "'outcomes' argument" not in err


def test_3_plus_3_outcomes_off_the_rules_name_the_cohort(capsys):
    err = _error(capsys, "next", "--design", "3+3", "--doses", "4", "--outcomes", "1NNN 2TTN 3NNN")
    assert "Invalid value for '--outcomes': cohort 3 ('3NNN') does not follow the 3+3 rules" in err


@pytest.mark.parametrize("how", ["--outcomes", "--history"])
def test_an_oversized_3_plus_3_cohort_is_not_told_to_set_cohort_size(tmp_path, capsys, how):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\nP4,1,1,0\n")
    err = _error(capsys, "next", "--design", "3+3", "--doses", "4", how, "1NNNN" if how == "--outcomes" else h)
    assert "treats cohorts of 3" in err and "cohort-size" not in err and "cohort_size" not in err


@pytest.mark.parametrize("design", ["boin", "crm", "boin-backfill"])
def test_a_cohort_after_a_stop_in_outcomes_names_the_cohort_not_a_row(capsys, design):
    err = _error(capsys, "next", "--design", design, "--target", "0.3", "--doses", "4", "--outcomes", "1TTT 1NNN")
    assert "Invalid value for '--outcomes': cohort 2 ('1NNN') comes after the trial stopped at " in err
    assert "row" not in err and "patient P4" not in err


def test_a_titration_history_off_the_rules_names_the_line(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\n")
    err = _error(capsys, "next", "--target", "0.3", "--doses", "4", "--titration", "--history", h)
    assert f"{h}: column 'dose', line 2 (patient 'P1'): cohort 1 does not follow the accelerated titration" in err
    err = _error(capsys, "next", "--target", "0.3", "--doses", "4", "--titration", "--outcomes", "1N 2NNN")
    assert "Invalid value for '--outcomes': cohort 2 ('2NNN') does not follow the accelerated titration" in err


@pytest.mark.parametrize("design", ["tite-boin", "boin-backfill"])
def test_an_oversized_cohort_says_what_to_do_in_every_design(tmp_path, capsys, design):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\nP4,1,1,0\n")
    err = _error(capsys, "next", "--design", design, "--target", "0.3", "--doses", "4", "--history", h)
    assert f"{h}: column 'cohort', line 5 (patient 'P4'): cohort 1 has 4 patients, but {design} treats cohorts of " \
           f"3, and this is patient 4 of it: give it the next cohort number" in err
    assert "or set --cohort-size 4 if that is the trial's cohort size" in err


def test_3_plus_3_simulated_without_a_target_says_which_target_scored_it(capsys):
    base = ["simulate", "--design", "3+3", "--p-true", "0.1,0.2,0.3,0.5", "--trials", "300", "--seed", "1"]
    code, out, err = run(capsys, *base)
    assert code == 0 and "info: 3+3 has no target DLT rate: the correct selection (PCS), the true MTD and the " \
                         "overdose percentages are scored against a target of 0.3" in out
    code, out, err = run(capsys, *base, "--format", "json")
    import json
    assert [i["code"] for i in json.loads(out)["issues"]] == ["target_assumed"]
    code, out, err = run(capsys, *base, "--target", "0.25")
    assert code == 0 and "target_assumed" not in out and "no target DLT rate" not in out
    code, out, err = run(capsys, *base[:-4], "--exact")
    assert "info: 3+3 has no target DLT rate" in out


@pytest.mark.parametrize("design", ["tite-boin", "boin-backfill"])
def test_a_time_on_any_patient_needs_the_window_and_times_on_every_no_dlt(tmp_path, capsys, design):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt,dose_time,assess_time\nP01,1,1,0,,\nP02,1,1,0,,\nP03,1,1,0,,\n"
                 "P04,2,2,1,2026-02-01,2026-02-03\nP05,2,2,0,,\nP06,2,2,0,,\n")
    base = ["next", "--design", design, "--target", "0.25", "--doses", "5", "--history", h]
    err = _error(capsys, *base)
    assert f"{h}: column 'dose_time', line 5 (patient 'P04'): the history has times: give --dlt-window" in err
    err = _error(capsys, *base, "--dlt-window", "28")
    assert f"{h}: column 'dose_time', line 2 (patient 'P01'): no DLT, but no dosing time" in err
    h.write_text("patient,cohort,dose,dlt,dose_time,assess_time\nP01,1,1,0,,2026-02-03\nP02,1,1,0,,\n")
    err = _error(capsys, *base)
    assert "column 'assess_time', line 2 (patient 'P01'): the history has times: give --dlt-window" in err


def test_today_with_a_history_without_times_says_so(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt\nP1,1,1,0\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h,
                 "--today", "2026-01-01", "--dlt-window", "28")
    assert "'--today': needs a --history with dosing times (dose_time)" in err and "this history has none" in err
    assert "as the history's times are days" not in err


def test_a_suspension_prints_the_dose_for_when_accrual_reopens(tmp_path, capsys):
    h = tmp_path / "h.csv"
    h.write_text("patient,cohort,dose,dlt,followup\nP1,1,1,0,\nP2,1,1,0,\nP3,1,1,0,\nP4,2,2,,0.2\nP5,2,2,,0.2\n"
                 "P6,2,2,0,\n")
    code, out, err = run(capsys, "next", "--design", "tite-boin", "--target", "0.3", "--doses", "4", "--history", h)
    assert code == 0 and "decision: suspend\nnext dose when accrual reopens: 2 (cohort of 3)" in out


def test_an_incomplete_last_3_plus_3_cohort_says_to_complete_it(tmp_path, capsys):
    err = _error(capsys, "next", "--design", "3+3", "--doses", "4", "--outcomes", "1NNN 2N")
    assert "Invalid value for '--outcomes': cohort 2 ('2N') is incomplete: it has 1 of the 3 patients the 3+3 rules " \
           "call for at dose 2, and 3+3 decides on whole cohorts: enrol the other 2 there, then decide" in err
    assert "does not follow" not in err


def test_a_3_plus_3_cohort_decided_whatever_its_last_patient_is_decided(capsys):
    # '2TT': 2 DLTs already exceed the MTD; asking for a 3rd patient there was unsafe advice (a newcomer's finding)
    code, out, err = run(capsys, "next", "--design", "3+3", "--doses", "4", "--outcomes", "1NNN 2TT")
    assert code == 0 and "decision: de-escalate\nnext dose: 1" in out and "eliminated doses: 2, 3, 4" in out


def test_3_plus_3_lists_the_doses_above_the_mtd_as_eliminated(capsys):
    code, out, err = run(capsys, "next", "--design", "3+3", "--doses", "4", "--outcomes", "1NNN 2NNN 3TTN")
    assert code == 0 and "eliminated doses: 3, 4" in out
