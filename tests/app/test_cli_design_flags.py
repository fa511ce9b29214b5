"""The design flags and histories of `next`, `simulate` and `pathways` (new-user review): no flag, column or
option that would change nothing or conflict is taken silently -- it is refused with exit 2 and one line naming the
flag, or the file, row and column; required parameters and specification errors are named by their flags in the
house's words."""

from __future__ import annotations

import json

import pytest

from tests.clirun import run

TITE = """patient,cohort,dose,dlt,dose_time,assess_time,followup
P1,1,1,0,2026-01-05,2026-02-02,
P2,1,1,0,2026-01-07,2026-02-04,
P3,1,1,0,2026-01-09,2026-02-06,
P4,2,2,1,2026-02-03,2026-02-20,
P5,2,2,,2026-02-05,,0.1
P6,2,2,,2026-02-10,,
"""


def _file(tmp_path, text, name="h.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(capsys, *args) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert "should be" not in err and "Input should" not in err and "Traceback" not in err
    return err


def _json(capsys, *args):
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------------------- 1. follow-up from one source
def test_followup_column_and_today_conflict_is_refused(tmp_path, capsys):
    h = _file(tmp_path, TITE)
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h,
                 "--dlt-window", "28", "--today", "2026-03-01")
    assert "h.csv: column 'followup', line 6 (patient 'P5')" in err and "--today 2026-03-01" in err
    assert "not both" in err


def test_followup_column_alone_and_today_alone_are_taken(tmp_path, capsys):
    fractions = _file(tmp_path, "patient,cohort,dose,dlt,followup\nP1,1,1,0,\nP2,1,1,0,\nP3,1,1,0,\n"
                                "P4,2,2,,0.5\n", "f.csv")
    rec = _json(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", fractions)
    assert [p.get("followup") for p in rec["history"]][3] == 0.5
    dates = _file(tmp_path, TITE.replace(",0.1\n", ",\n"))
    rec = _json(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", dates,
                "--dlt-window", "28", "--today", "2026-03-01")
    assert [p.get("followup") for p in rec["history"]][4:] == pytest.approx([24 / 28, 19 / 28])


# ------------------------------------------------- 2. time, follow-up and efficacy only where a design uses them
BACKFILL = """patient,cohort,dose,dlt,efficacy,backfill,dose_time,assess_time
P1,1,1,0,1,0,0,1
P2,1,1,0,0,0,0.1,1.1
P3,1,1,0,0,0,0.2,1.2
P4,2,2,,,0,1.3,
P5,2,2,,,0,1.4,
P6,2,2,,,0,1.5,
"""


def test_today_is_refused_for_designs_without_follow_up(tmp_path, capsys):
    h = _file(tmp_path, BACKFILL)
    err = _error(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4", "--history", h,
                 "--today", "3")
    assert "'--today': applies to --design tite-boin" in err and "not boin-backfill" in err
    err = _error(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4", "--history", h,
                 "--today", "3", "--dlt-window", "1")
    assert "'--today': applies to --design tite-boin" in err


@pytest.mark.parametrize("design,flags", [("boin-backfill", ["--target", "0.25"]), ("tite-boin", ["--target", "0.25"])])
def test_dlt_window_without_dosing_times_changes_nothing(tmp_path, capsys, design, flags):
    text = "patient,cohort,dose,dlt\nP1,1,1,0\nP2,1,1,0\nP3,1,1,0\n"
    h = _file(tmp_path, text)
    err = _error(capsys, "next", "--design", design, *flags, "--doses", "4", "--history", h, "--dlt-window", "28")
    assert "'--dlt-window'" in err and "no dosing times" in err and "changes nothing" in err
    err = _error(capsys, "next", "--design", design, *flags, "--doses", "4", "--outcomes", "1NNN", "--dlt-window", "28")
    assert "'--dlt-window'" in err and "--outcomes has no dosing times" in err


@pytest.mark.parametrize("design", ["boin", "crm", "3+3", "boin12"])
def test_dlt_window_is_refused_by_designs_without_times(tmp_path, capsys, design):
    flags = [] if design == "3+3" else ["--target", "0.3"] + (["--efficacy-min", "0.2"] if design == "boin12" else [])
    err = _error(capsys, "next", "--design", design, *flags, "--doses", "4", "--outcomes", "1NNN", "--dlt-window", "28")
    assert "'--dlt-window': applies to --design boin-backfill or tite-boin" in err


# A "no DLT" typed days after dosing (the window not over) would count a whole window without a DLT: with dosing
# times, --dlt-window is needed and each no-DLT outcome must come a whole window after dosing.
EARLY = """patient,cohort,dose,dlt,efficacy,backfill,dose_time,assess_time
P1,1,1,0,1,0,0,28
P2,1,1,0,0,0,1,29
P3,1,1,0,0,0,2,5
"""


@pytest.mark.parametrize("design", ["boin-backfill", "tite-boin"])
def test_no_dlt_before_the_window_is_over_is_refused_without_today(tmp_path, capsys, design):
    text = EARLY if design == "boin-backfill" else "\n".join(
        ",".join(c for i, c in enumerate(line.split(",")) if i not in (4, 5)) for line in EARLY.splitlines()) + "\n"
    h = _file(tmp_path, text)
    base = ["next", "--design", design, "--target", "0.25", "--doses", "4", "--history", h]
    err = _error(capsys, *base)
    assert "h.csv: column 'dose_time', line 2 (patient 'P1')" in err and "give --dlt-window" in err
    err = _error(capsys, *base, "--dlt-window", "28")
    assert "h.csv: column 'dlt', line 4 (patient 'P3'): no DLT, assessed at day 5, 3 days after dosing" in err
    assert "28-day DLT window is not over" in err
    h = _file(tmp_path, text.replace(",2,5\n", ",2,30\n"))
    assert _json(capsys, *base, "--dlt-window", "28")["next_dose"] == 2


def test_no_dlt_without_times_is_refused_when_the_window_is_checked(tmp_path, capsys):
    h = _file(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time\nP1,1,1,0,2026-01-01,2026-01-29\n"
                        "P2,1,1,0,,\nP3,1,1,,2026-02-01,\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "4", "--history", h,
                 "--dlt-window", "28", "--today", "2026-02-10")
    assert "h.csv: column 'dose_time', line 3 (patient 'P2'): no DLT, but no dosing time" in err
    h = _file(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time,followup\nP1,1,1,0,0,,\nP2,1,1,,1,,0.5\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "4", "--history", h,
                 "--dlt-window", "28")
    assert "h.csv: column 'assess_time', line 2 (patient 'P1'): no DLT, but no assessment time" in err


@pytest.mark.parametrize("design,flags,text,column,users", [
    ("boin", ["--target", "0.3"], "patient,cohort,dose,dlt,efficacy\nP1,1,1,0,1\n", "efficacy",
     "boin-backfill or boin12"),
    ("crm", ["--target", "0.3"], "patient,cohort,dose,dlt,efficacy\nP1,1,1,0,\nP2,1,1,0,1\n", "efficacy",
     "boin-backfill or boin12"),
    ("boin", ["--target", "0.3"], "patient,cohort,dose,dlt,efficacy\nP1,1,1,0,0\nP2,1,1,0,false\n", "efficacy",
     "boin-backfill or boin12"),
    ("3+3", [], "patient,cohort,dose,dlt,dose_time\nP1,1,1,0,2026-01-02\n", "dose_time",
     "boin-backfill or tite-boin"),
    ("boin12", ["--target", "0.3", "--efficacy-min", "0.2"],
     "patient,cohort,dose,dlt,efficacy,assess_time\nP1,1,1,0,1,4\n", "assess_time", "boin-backfill or tite-boin"),
    ("tite-boin", ["--target", "0.3"], "patient,cohort,dose,dlt,efficacy\nP1,1,1,0,1\n", "efficacy",
     "boin-backfill or boin12"),
    ("boin-backfill", ["--target", "0.3"], "patient,cohort,dose,dlt,followup\nP1,1,1,,0.5\n", "followup",
     "tite-boin"),
])
def test_history_columns_the_design_ignores_are_refused(tmp_path, capsys, design, flags, text, column, users):
    h = _file(tmp_path, text)
    err = _error(capsys, "next", "--design", design, *flags, "--doses", "4", "--history", h)
    assert f"h.csv: column '{column}', line " in err and f"{design} does not use" in err and f"({users} do)" in err


def test_an_empty_optional_column_is_harmless(tmp_path, capsys):
    h = _file(tmp_path, "patient,cohort,dose,dlt,efficacy,dose_time,followup\nP1,1,1,0,,,\nP2,1,1,0,,,\n"
                        "P3,1,1,0,,,\n")
    assert _json(capsys, "next", "--target", "0.3", "--doses", "4", "--history", h)["next_dose"] == 2


def test_efficacy_and_times_are_taken_by_the_designs_that_use_them(tmp_path, capsys):
    h = _file(tmp_path, BACKFILL)
    rec = _json(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4", "--history", h,
                "--dlt-window", "1")
    assert rec["backfill_open"] == [1]


# --------------------------------------------------------------- 3. the backfill table counts every patient
def test_backfill_decision_table_matches_a_hand_count(tmp_path, capsys):
    # cohort 2 at dose 2 is full: P4 known (a DLT), P5 known, P6 pending; backfill B1 (known) and B2 (pending) at 1
    h = _file(tmp_path, "patient,cohort,dose,dlt,efficacy,backfill\n"
                        "P1,1,1,0,1,0\nP2,1,1,0,0,0\nP3,1,1,0,0,0\n"
                        "P4,2,2,1,0,0\nP5,2,2,0,1,0\nP6,2,2,,,0\n"
                        "B1,3,1,0,1,1\nB2,4,1,,,1\n")
    code, out, err = run(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4",
                         "--history", h)
    assert code == 0, err
    table = [line.split() for line in out.split("\n\n")[-1].strip().splitlines()]
    assert table[0] == ["dose", "n", "dlt", "pending", "p_hat", "responses", "n_backfill"]
    #                 dose  n    dlt  pending p_hat  responses n_backfill
    assert table[1] == ["1", "4", "0", "1", "0", "2", "2"]
    assert table[2] == ["2", "2", "1", "1", "0.5", "1", "0"]
    assert table[3] == ["3", "0", "0", "0", "-", "0", "0"]
    rec = _json(capsys, "next", "--design", "boin-backfill", "--target", "0.25", "--doses", "4", "--history", h)
    assert [(e["n"], e["dlt"], e["pending"], e["n_escalation"], e["n_backfill"]) for e in rec["estimates"]] == \
        [(4, 0, 1, 3, 2), (2, 1, 1, 3, 0), (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)]


# ------------------------------------------------------------------------ 4. true/false in the 0/1 columns
def test_true_false_are_read_as_one_and_zero_in_every_binary_column(tmp_path, capsys):
    ones = _file(tmp_path, "patient,cohort,dose,dlt,efficacy\nP1,1,1,0,0\nP2,1,1,0,1\nP3,1,1,1,0\n", "a.csv")
    words = _file(tmp_path, "patient,cohort,dose,dlt,efficacy\nP1,1,1,False,false\nP2,1,1,false,True\n"
                            "P3,1,1,TRUE,FALSE\n", "b.csv")
    args = ["next", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--doses", "4"]
    a, b = _json(capsys, *args, "--history", ones), _json(capsys, *args, "--history", words)
    assert a["history"] == b["history"] and a["decision"] == b["decision"] and a["estimates"] == b["estimates"]


@pytest.mark.parametrize("column,cell", [("efficacy", "yes"), ("dlt", "no"), ("dlt", "2")])
def test_other_words_in_a_binary_column_name_the_accepted_values(tmp_path, capsys, column, cell):
    cells = {"dlt": "0", "efficacy": "1"}
    cells[column] = cell
    h = _file(tmp_path, f"patient,cohort,dose,dlt,efficacy\nP1,1,1,{cells['dlt']},{cells['efficacy']}\n")
    err = _error(capsys, "next", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--doses",
                 "4", "--history", h)
    empty = "pending" if column == "dlt" else "not yet known"        # boin12 then asks for every efficacy outcome
    assert f"h.csv: column '{column}', line 2 (patient 'P1'): expected 0, 1 or empty ({empty}), or true/false, " \
           f"got '{cell}'" in err


# ------------------------------------------------------------- 5. required parameters named by their flags
@pytest.mark.parametrize("design,given,missing", [
    ("boin", ["--doses", "4"], "--target"),
    ("boin12", ["--target", "0.3", "--doses", "4"], "--efficacy-min"),
    ("boin12", ["--efficacy-min", "0.3", "--doses", "4"], "--target"),
    ("comb-boin", ["--target", "0.3"], "--grid"),
    ("crm", ["--target", "0.3"], "--doses"),
    ("3+3", [], "--doses"),
    ("tite-boin", ["--doses", "4"], "--target"),
    ("boin-backfill", ["--doses", "4"], "--target"),
])
@pytest.mark.parametrize("command", ["next", "pathways"])
def test_a_missing_required_parameter_is_named_by_its_flag(capsys, command, design, given, missing):
    extra = ["--outcomes", "1NNN"] if command == "next" else []
    err = _error(capsys, command, "--design", design, *given, *extra)
    assert f"'{missing}': is required for --design {design} (" in err
    assert "efficacy_min" not in err and "n_doses" not in err and "'grid'" not in err


def test_every_required_parameter_of_every_design_has_a_flag(capsys):
    from adcbridge.cli.designs import DESIGN_FLAGS, _flag_of
    from adcbridge.dosefinding.registry import design_class, design_names
    flags = {option.param_decls[0] for _, _, option in DESIGN_FLAGS} | {"--doses"}
    for name in design_names():
        for field, info in design_class(name).model_fields.items():
            if info.is_required():
                assert _flag_of(field) in flags, (name, field)


def test_simulate_names_a_missing_scenario_flag(capsys):
    err = _error(capsys, "simulate", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--p-true",
                 "0.05,0.1,0.2,0.35", "--trials", "100")
    assert "'--q-true': is required for --design boin12 (the true response probability per dose" in err


# ----------------------------------------------------------------------- 6. times shown as the file gave them
def test_tite_time_messages_show_the_dates_of_the_file(tmp_path, capsys):
    h = _file(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time\nP1,1,1,0,2026-03-15,2026-03-12\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h)
    assert "column 'assess_time', line 2 (patient 'P1'): an assessment before dosing (assess_time 2026-03-12 < " \
           "dose_time 2026-03-15)" in err
    h = _file(tmp_path, "patient,cohort,dose,dlt,dose_time\nP1,1,1,0,2026-02-01\nP2,1,1,0,2026-02-02\n"
                        "P3,1,1,,2026-03-20\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h,
                 "--dlt-window", "28", "--today", "2026-03-10")
    assert "column 'dose_time', line 4 (patient 'P3'): dosed on 2026-03-20, after --today 2026-03-10" in err


def test_day_numbers_stay_day_numbers(tmp_path, capsys):
    h = _file(tmp_path, "patient,cohort,dose,dlt,dose_time,assess_time\nP1,1,1,0,15,12\n")
    err = _error(capsys, "next", "--design", "tite-boin", "--target", "0.25", "--doses", "5", "--history", h)
    assert "(assess_time 12 < dose_time 15)" in err


# ---------------------------------------------------------- 7. start doses, and flags of simulate elsewhere
def test_start_dose_of_the_wrong_shape_says_what_is_expected(capsys):
    err = _error(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "3x3", "--start-dose", "2",
                 "--outcomes", "1NNN")
    assert "'--start-dose': --design comb-boin starts at a combination" in err and "--start-dose 1,1" in err
    err = _error(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "3", "--start-dose", "1,1",
                 "--outcomes", "1NNN")
    assert "'--start-dose': --design boin starts at one dose level" in err


@pytest.mark.parametrize("flag,value", [("--q-true", "0.1,0.2"), ("--p-true", "0.1,0.2"), ("--trials", "10"),
                                        ("--seed", "1"), ("--accrual-rate", "2"), ("--late-onset", "0.5")])
def test_pathways_and_next_refuse_the_flags_of_simulate(capsys, flag, value):
    err = _error(capsys, "pathways", "--design", "boin", "--target", "0.3", "--doses", "4", flag, value)
    assert f"'{flag}': pathways enumerates every outcome" in err and "no true rates" in err
    err = _error(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "4", "--outcomes", "1NNN",
                 flag, value)
    assert f"'{flag}': next decides on the trial's own outcomes" in err


@pytest.mark.parametrize("design,flag,value", [("tite-boin", "--dlt-window", "28"),
                                               ("tite-boin", "--max-pending", "0.3"),
                                               ("boin-backfill", "--n-cap", "4"),
                                               ("boin-backfill", "--backfill-assign", "lowest"),
                                               ("boin-backfill", "--dlt-window", "2")])
def test_pathways_refuse_design_flags_that_change_nothing_in_them(capsys, design, flag, value):
    err = _error(capsys, "pathways", "--design", design, "--target", "0.3", "--doses", "4", flag, value)
    assert f"'{flag}': changes nothing in pathways" in err


# ------------------------------------------------------------------------------- 8. comb-boin titration
P_GRID = "0.05,0.1,0.2;0.1,0.2,0.3"


def test_comb_boin_titration_from_the_command_line_is_the_python_apis(capsys):
    from adcbridge.dosefinding import comb_boin, simulate
    args = ["simulate", "--design", "comb-boin", "--target", "0.3", "--p-true", P_GRID, "--trials", "400",
            "--seed", "5"]
    on, off = _json(capsys, *args, "--titration"), _json(capsys, *args)
    assert on["spec"]["titration"] is True and off["spec"]["titration"] is False
    assert on["patients_mean"] != off["patients_mean"]
    api = simulate(comb_boin(target=0.3, grid=(2, 3), titration=True), [[0.05, 0.1, 0.2], [0.1, 0.2, 0.3]],
                   n_trials=400, seed=5).to_record()
    for key in ("selection_pct", "patients_mean", "dlt_mean", "n_mean", "pcs"):
        assert on[key] == json.loads(json.dumps(api[key])), key


@pytest.mark.parametrize("extra,message", [
    (["--cohort-size", "1"], "'--titration': has no effect with --cohort-size 1"),
    (["--mtd-contour"], "'--titration'"),
])
def test_comb_boin_titration_that_changes_nothing_or_conflicts_is_refused(capsys, extra, message):
    err = _error(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true", P_GRID, "--trials",
                 "10", "--titration", *extra)
    assert message in err


def test_a_parameter_a_design_holds_fixed_is_not_offered_as_its_flag(capsys):
    err = _error(capsys, "next", "--design", "boin-backfill", "--target", "0.3", "--doses", "4", "--titration",
                 "--outcomes", "1NNN")
    assert "'--titration': applies to --design boin or comb-boin, not boin-backfill" in err


# --------------------------------------------------------------------------- 9. the house's words, not pydantic's
@pytest.mark.parametrize("args,message", [
    (["--design", "boin", "--target", "0.3", "--doses", "4", "--cohort-size", "0"],
     "'--cohort-size': must be >= 1. Got 0."),
    (["--design", "tite-boin", "--target", "0.3", "--doses", "4", "--max-pending", "1"],
     "'--max-pending': must be < 1. Got 1.0."),
    (["--design", "crm", "--target", "0.3", "--doses", "4", "--prior-var", "-1"],
     "'--prior-var': must be > 0. Got -1.0."),
    (["--design", "boin", "--target", "0.3", "--doses", "4", "--cutoff-eli", "1.2"], "'--cutoff-eli': must be < 1."),
    (["--design", "crm", "--target", "0.3", "--doses", "4", "--model", "probit"],
     "'--model': must be 'empiric' or 'logistic'. Got 'probit'."),
    (["--design", "boin", "--target", "1.2", "--doses", "4"], "'--target': must be in [0.05, 0.6]. Got 1.2."),
])
def test_specification_errors_are_in_the_house_words(capsys, args, message):
    err = _error(capsys, "next", *args, "--outcomes", "1NNN")
    assert message in err


def test_scenario_option_errors_name_the_flag(capsys):
    err = _error(capsys, "simulate", "--design", "tite-boin", "--target", "0.3", "--p-true", "0.05,0.1,0.2,0.35",
                 "--late-onset", "1.4", "--trials", "10")
    assert "'--late-onset': must be in (0, 1). Got 1.4." in err and "late_onset" not in err


def test_house_words():
    from adcbridge.cli.designs import house_words
    assert house_words("The 'n' parameter of boin should be greater than or equal to 1. Got 0.") == \
        "The 'n' parameter of boin must be >= 1. Got 0."
    assert house_words("The 'x' parameter of crm should be a valid number, unable to parse string as a number. "
                       "Got 'a'.") == "The 'x' parameter of crm must be a number. Got 'a'."
    assert house_words("Input should be a valid integer, got a number with a fractional part") == \
        "must be a whole number"


@pytest.mark.parametrize("args,message", [
    (["boin", "next", "--target", "0.3", "--doses", "4", "--cohort-size", "0", "--outcomes", "1NNN"],
     "'--cohort-size': must be >= 1. Got 0."),
    (["boin", "table", "--target", "0.3", "--cutoff-eli", "1.5"], "'--cutoff-eli': must be < 1. Got 1.5."),
    (["boin", "mtd", "--target", "0.3", "--n", "3,3", "--dlt", "0,1", "--cutoff-eli", "2"],
     "'--cutoff-eli': must be < 1."),
    (["boin", "protocol", "--target", "0.3", "--doses", "4", "--n-earlystop", "0", "--out", "unused"],
     "'--n-earlystop': must be >= 1. Got 0."),
])
def test_the_boin_commands_speak_the_house_words_too(capsys, args, message):
    assert message in _error(capsys, *args)
