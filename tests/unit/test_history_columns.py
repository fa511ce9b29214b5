"""A history column the design does not use is refused by the Python API's live decision (``next_dose``), not
only by ``adcbridge next``: ``efficacy`` given to BOIN, ``followup`` to BOIN12, times to a design without time would
otherwise be silently ignored.  The error is a ``TableError`` (a ValueError) in the command line's words, naming
the row and the column; the designs that use a column still take it, and stored records still replay."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from adcbridge.dosefinding import History, NextDose, Patient, boin, boin12, next_dose, three_plus_three, tite_boin
from adcbridge.dosefinding.backfill.design import boin_backfill
from adcbridge.io.history import read_history
from adcbridge.validation import TableError
from tests.clirun import run

BOIN = boin(0.3, 5)


def _cohort(**extra) -> list[Patient]:
    """Three patients at dose 1 without a DLT; ``extra`` maps a patient index (0-based) to its extra fields."""
    return [Patient(f"P{i + 1}", 1, 1, False, **extra.get(f"p{i}", {})) for i in range(3)]


# --------------------------------------------------------------------------------- refused by the API
def test_efficacy_given_to_boin_is_refused_naming_the_row_and_the_column():
    history = History(tuple(_cohort(p1={"efficacy": True})))
    with pytest.raises(TableError) as caught:
        next_dose(BOIN, history)
    assert str(caught.value) == ("column 'efficacy', patient row 2 (patient 'P2'): boin does not use efficacy "
                                 "outcomes (boin-backfill or boin12 do): remove the column or leave it empty")
    assert isinstance(caught.value, ValueError)
    assert (caught.value.column, caught.value.line, caught.value.value) == ("efficacy", "patient row 2", True)


def test_a_recorded_non_response_is_a_value_too():
    with pytest.raises(ValueError, match=r"column 'efficacy', patient row 1 \(patient 'P1'\): boin does not use"):
        next_dose(BOIN, History(tuple(_cohort(p0={"efficacy": False}))))


def test_followup_given_to_boin12_is_refused():
    design = boin12(0.3, 0.25, 4)
    patients = [Patient("P1", 1, 1, False, efficacy=True), Patient("P2", 1, 1, False, efficacy=False),
                Patient("P3", 1, 1, None, followup=0.5)]
    with pytest.raises(TableError, match=r"^column 'followup', patient row 3 \(patient 'P3'\): boin12 does not use "
                                         r"follow-up fractions \(tite-boin do\): remove the column or leave it "
                                         r"empty$"):
        next_dose(design, History(tuple(patients)))


@pytest.mark.parametrize("design,fields,column,users", [
    (three_plus_three(4), {"dose_time": 0.0}, "dose_time", "boin-backfill or tite-boin"),
    (BOIN, {"dose_time": 0.0, "assess_time": 20.0}, "dose_time", "boin-backfill or tite-boin"),
    (boin_backfill(0.3, 5), {"dlt": None, "dose_time": 0.0, "followup": 0.4}, "followup", "tite-boin"),
    (tite_boin(0.3, 5), {"efficacy": True}, "efficacy", "boin-backfill or boin12"),
])
def test_every_design_refuses_the_columns_it_does_not_use(design, fields, column, users):
    patients = _cohort()
    patients[2] = replace(patients[2], **fields)
    with pytest.raises(TableError, match=rf"^column '{column}', patient row 3 \(patient 'P3'\): "
                                         rf"{re.escape(design.spec_name)} does not use .* \({users} do\)"):
        next_dose(design, History(tuple(patients)))


def test_the_history_file_is_named_as_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "h.csv"
    path.write_text("patient,cohort,dose,dlt,efficacy\nP1,1,1,0,\nP2,1,1,0,1\nP3,1,1,0,\n")
    with pytest.raises(TableError) as caught:
        next_dose(BOIN, read_history(path))
    assert str(caught.value).startswith(f"{path}: column 'efficacy', line 3 (patient 'P2'): boin does not use")
    assert (caught.value.source, caught.value.line) == (str(path), "line 3")
    code, out, err = run(capsys, "next", "--target", "0.3", "--doses", "5", "--history", path)
    assert code == 2 and out == "" and err.strip().endswith(str(caught.value))      # the same words


def test_an_empty_column_is_harmless():
    patients = [Patient(f"P{i}", 1, 1, False, dose_time=None, assess_time=None, efficacy=None) for i in (1, 2, 3)]
    assert next_dose(BOIN, History(tuple(patients))).next_dose == 2


# --------------------------------------------------------------------- taken by the designs that use them
def test_boin12_takes_efficacy():
    patients = [Patient(f"P{i}", 1, 1, False, efficacy=i == 2) for i in (1, 2, 3)]
    decision = next_dose(boin12(0.3, 0.25, 4), History(tuple(patients)))
    assert decision.decision in ("escalate", "stay") and decision.history.patients[1].efficacy is True


def test_tite_boin_takes_times_and_follow_up():
    patients = [Patient("P1", 1, 1, False, dose_time=0.0, assess_time=28.0),
                Patient("P2", 1, 1, None, dose_time=2.0, followup=0.5),
                Patient("P3", 1, 1, None, dose_time=4.0, followup=0.4)]
    decision = next_dose(tite_boin(0.3, 5), History(tuple(patients)))
    assert decision.history.patients[1].followup == 0.5


def test_boin_backfill_takes_efficacy_and_times():
    patients = [Patient(f"P{i}", 1, 1, False, dose_time=float(i), assess_time=float(i + 28), efficacy=i == 1)
                for i in (1, 2, 3)]
    decision = next_dose(boin_backfill(0.3, 5), History(tuple(patients)))
    assert decision.next_dose == 2 and decision.history.patients[0].efficacy is True


# ----------------------------------------------------------------------------------- stored records
def test_a_record_stored_before_the_rule_still_replays():
    """A decision the conduct app stored before the rule (a BOIN history with dosing times) replays as it was
    decided: replay checks a record, it takes no new data."""
    decision = next_dose(BOIN, History(tuple(_cohort())))
    record = decision.to_record()
    for k, p in enumerate(record["history"]):
        p["dose_time"] = float(k)
    assert NextDose.check_record(record) == []
    again = NextDose.replay_record(record)
    assert again.history.patients[2].dose_time == 2.0 and again.next_dose == decision.next_dose
    assert again.replay().same_decision(again)
