"""Histories: follow-up from one source, times shown as the table gave them (dates stay dates), the 0/1 columns
read as the reader documents (true/false too), and the refusal of a column a design does not use."""

from __future__ import annotations

import pytest

from adcbridge.dosefinding.history import History, Patient, time_text
from adcbridge.io.history import read_history


def _write(tmp_path, text, name="h.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------------------------- follow-up
def test_with_followup_refuses_a_patient_whose_followup_is_given():
    h = History((Patient("P1", 1, 1, None, dose_time=0.0, followup=0.2), Patient("P2", 1, 1, None, dose_time=7.0)))
    with pytest.raises(ValueError, match=r"column 'followup', patient row 1 \(patient 'P1'\): the follow-up fraction "
                                         r"is given \(0.2\) and --today 9 computes it from dose_time"):
        h.with_followup(14.0, 28.0, now_name="--today 9")


def test_with_followup_refuses_an_outcome_assessed_after_the_decision():
    h = History((Patient("P1", 1, 1, True, dose_time=0.0, assess_time=20.0), Patient("P2", 1, 1, None, dose_time=3.0)))
    with pytest.raises(ValueError, match=r"column 'assess_time', patient row 1 .*assessed at day 20, after the time "
                                         r"of the decision"):
        h.with_followup(14.0, 28.0)
    assert [p.followup for p in h.with_followup(21.0, 28.0).patients] == [None, 18 / 28]


# ---------------------------------------------------------------------------------------- times as given
def test_time_text_gives_back_dates_and_numbers():
    assert time_text("2026-03-01", 11) == "2026-03-12"
    assert time_text("2026-03-01", 0.5) == "2026-03-01T12:00"
    assert time_text(None, 12.0) == "12" and time_text(None, 1.5) == "1.5"


def test_dates_in_messages_are_the_files(tmp_path):
    path = _write(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time\nP1,1,1,0,2026-03-15,2026-03-20\n"
                            "P2,1,1,0,2026-03-16,2026-03-12\n")
    with pytest.raises(ValueError, match=r"h.csv: column 'assess_time', line 3 \(patient 'P2'\): an assessment before "
                                         r"dosing \(assess_time 2026-03-12 < dose_time 2026-03-16\)"):
        read_history(path)
    # an assessment date before the first dosing date, for a patient without a dosing date
    path = _write(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time\nP1,1,1,0,2026-03-15,2026-03-20\n"
                            "P2,1,1,1,,2026-03-10\n")
    with pytest.raises(ValueError, match=r"line 3 \(patient 'P2'\): 2026-03-10 is before the first dosing date "
                                         r"\(2026-03-15\)"):
        read_history(path)


def test_followup_messages_show_dates(tmp_path):
    h = read_history(_write(tmp_path, "patient,cohort,dose,dlt,dose_time\nP1,1,1,,2026-03-15\n"))
    with pytest.raises(ValueError, match=r"dosed on 2026-03-15, after --today 2026-03-10"):
        h.with_followup(-5.0, 28.0, now_name="--today 2026-03-10")


# --------------------------------------------------------------------------------------- 0/1 columns
def test_binary_columns_take_true_and_false_in_any_case(tmp_path):
    words = read_history(_write(tmp_path, "patient,cohort,dose,dlt,efficacy,backfill\nP1,1,1,True,false,FALSE\n"
                                          "P2,1,1,false,TRUE,0\nP3,1,1,,,\n", "w.csv"))
    ones = read_history(_write(tmp_path, "patient,cohort,dose,dlt,efficacy,backfill\nP1,1,1,1,0,0\nP2,1,1,0,1,0\n"
                                         "P3,1,1,,,\n", "n.csv"))
    assert words == ones
    assert [(p.dlt, p.efficacy, p.backfill) for p in words.patients] == \
        [(True, False, False), (False, True, False), (None, None, False)]


def test_binary_columns_from_excel_booleans(tmp_path):
    import pandas as pd
    path = tmp_path / "h.xlsx"
    pd.DataFrame({"patient": ["A", "B"], "cohort": [1, 1], "dose": [1, 1], "dlt": [True, False],
                  "efficacy": [False, True]}).to_excel(path, index=False)
    h = read_history(path)
    assert [(p.dlt, p.efficacy) for p in h.patients] == [(True, False), (False, True)]


@pytest.mark.parametrize("column,cell", [("dlt", "yes"), ("efficacy", "2"), ("backfill", "Y")])
def test_other_cells_of_a_binary_column_are_named(tmp_path, column, cell):
    cells = {"dlt": "0", "efficacy": "1", "backfill": "0"}
    cells[column] = cell
    path = _write(tmp_path, f"patient,cohort,dose,dlt,efficacy,backfill\nP1,1,1,{cells['dlt']},"
                            f"{cells['efficacy']},{cells['backfill']}\n")
    with pytest.raises(ValueError, match=rf"h.csv: column '{column}', line 2 \(patient 'P1'\): expected 0, 1 or "
                                         rf"empty .*or true/false, got '{cell}'"):
        read_history(path)


# ------------------------------------------------------------------------------------ unused columns
def test_refuse_column_names_the_first_patient_with_a_value():
    h = History((Patient("P1", 1, 1, False), Patient("P2", 1, 1, False, efficacy=True)))
    assert h.first_with("efficacy") == 2 and h.first_with("dose_time") is None and h.first_with("backfill") is None
    no_response = History((Patient("P1", 1, 1, False, efficacy=False),))     # a recorded non-response is a value
    assert no_response.first_with("efficacy") == 1
    h.refuse_column("dose_time", "not used")                 # no value: nothing to refuse
    with pytest.raises(ValueError, match=r"column 'efficacy', patient row 2 \(patient 'P2'\): not used"):
        h.refuse_column("efficacy", "not used")
