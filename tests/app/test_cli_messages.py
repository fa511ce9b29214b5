"""Messages a newcomer found unclear or wrong, each now one line naming what was given.

* The parser's own checks of an option's type and range speak the house's words, with the value given: Typer
  checks them with pydantic, whose ``Input should be a valid integer, unable to parse string as an integer`` used
  to reach the user as it was (``simulate --trials 2.5``, ``pathways --n-cohorts 30``, ``sweep --workers -1``).
* An empty path (``--out ""``) is refused: it is the current folder.
* Outcomes a design cannot take, an infinite accrual rate, YAML numbers in exponent notation and quoted numbers."""

from __future__ import annotations

import json

import pytest

from adcbridge.cli import parser_words
from tests.clirun import run

SIM = ["simulate", "--design", "boin", "--target", "0.3", "--p-true", "0.1,0.2,0.3"]
PATHS = ["pathways", "--design", "boin", "--target", "0.3", "--doses", "3"]


@pytest.mark.parametrize("args,message", [
    (SIM + ["--trials", "1e9"], "Invalid value for '--trials': must be an integer in [1, 100000000]. Got 1000000000."),
    (SIM + ["--trials", "1.5e0"], "Invalid value for '--trials': must be a whole number. Got 1.5e0."),
    (SIM + ["--trials", "2.5"], "Invalid value for '--trials': must be a whole number. Got 2.5."),
    (SIM + ["--trials=1.5"], "Invalid value for '--trials': must be a whole number. Got 1.5."),
    (SIM + ["--seed", "abc"], "Invalid value for '--seed': must be a whole number. Got 'abc'."),
    (PATHS + ["--n-cohorts", "30"], "Invalid value for '--n-cohorts': must be <= 8. Got 30."),
    (PATHS + ["--n-cohorts", "0"], "Invalid value for '--n-cohorts': must be >= 1. Got 0."),
    (["sweep", "s.yaml", "--out", "o", "--workers", "-1"], "Invalid value for '--workers': must be >= 0. Got -1."),
    (["sweep", "s.yaml", "--out", "o", "--workers", "two"],
     "Invalid value for '--workers': must be a whole number. Got 'two'."),
    (["boin", "table", "--target", "0.3", "--cohort-size", "x"],
     "Invalid value for '--cohort-size': must be a whole number. Got 'x'."),
    (["simulate", "--design", "boin", "--target", "abc", "--p-true", "0.1"],
     "Invalid value for '--target': must be a number. Got 'abc'."),
])
def test_type_and_range_errors_are_in_house_words(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err == f"adcbridge: error: {message}\n"


def test_other_messages_are_left_alone():
    text = "Invalid value for '--design': 'boinn' is not one of 'boin', '3+3'."
    assert parser_words(text, ["--design", "boinn"]) == text
    assert parser_words("Missing option '--target'.", []) == "Missing option '--target'."


# ------------------------------------------------------------------------------------- empty paths
@pytest.mark.parametrize("args,flag", [
    (["boin", "protocol", "--target", "0.3", "--doses", "3", "--out", ""], "'--out'"),
    (["trial", "--out", ""], "'--out'"),
    (["sweep", "s.yaml", "--out=", "--workers", "0"], "'--out'"),
    (["run", "study.yaml", "--out", "  "], "'--out'"),
    (["next", "--design", "boin", "--target", "0.3", "--doses", "3", "--history", ""], "'--history'"),
    (["sweep", "", "--out", "x"], "'SWEEP'"),
    (["init", ""], "'FOLDER'"),
])
def test_an_empty_path_is_refused_before_anything_is_written(capsys, tmp_path, monkeypatch, args, flag):
    # Path("") is the current folder: `boin protocol --out ""` and `trial --out ""` used to write their files there
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err == f"adcbridge: error: Invalid value for {flag}: an empty path; give a file or folder name\n"
    assert list(tmp_path.iterdir()) == []


def test_an_empty_text_option_is_not_a_path(capsys):
    code, out, err = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "3", "--outcomes", "")
    assert code == 2 and "an empty path" not in err and "'--outcomes'" in err


# ------------------------------------------------------------------------ outcomes a design cannot take
@pytest.mark.parametrize("args,design,why", [
    (["--design", "comb-boin", "--target", "0.3", "--grid", "2x2"], "comb-boin",
     "two agents: each patient has dose_a and dose_b"),
    (["--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--doses", "3"], "boin12",
     "toxicity and efficacy: each patient has an efficacy outcome"),
])
def test_outcomes_a_design_cannot_take_name_the_option(capsys, args, design, why):
    # the grammar was turned into a history first, and the error named a column 'dose' (comb-boin) or 'efficacy'
    # (boin12) of a 'patient row 1' the user never wrote
    code, out, err = run(capsys, "next", *args, "--outcomes", "1NNN")
    assert (code, out) == (2, "")
    assert err == (f"adcbridge: error: Invalid value for '--outcomes': gives one dose level and the DLTs of each "
                   f"cohort, which cannot describe a {design} trial ({why}): give a patient history instead.\n")


# ----------------------------------------------------------------------------------- infinite rates
@pytest.mark.parametrize("design,extra", [("boin-backfill", ["--q-true", "0.2,0.3,0.4"]), ("tite-boin", [])])
def test_an_infinite_accrual_rate_is_named_as_not_finite(capsys, design, extra):
    code, out, err = run(capsys, "simulate", "--design", design, "--target", "0.3", "--p-true", "0.1,0.2,0.3",
                         *extra, "--accrual-rate", "inf", "--trials", "10")
    assert code == 2 and "'--accrual-rate'" in err and "finite" in err and "Got inf." in err


# ------------------------------------------------------------------------------------ YAML numbers
SWEEP = """designs:
  - name: boin
    target: {target}
    n_doses: 3
scenarios:
  - name: a
    p_true: [0.1, {p2}, 0.3]
trials: {trials}
seed: 1
"""


def _sweep(tmp_path, capsys, target="0.3", p2="0.2", trials="200"):
    path = tmp_path / "s.yaml"
    path.write_text(SWEEP.format(target=target, p2=p2, trials=trials))
    return run(capsys, "sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "0", "--quiet")


def test_exponent_numbers_are_numbers(tmp_path, capsys):
    # PyYAML (YAML 1.1) reads 1e-1 and 2e2 as text: `target: 3e-1` was refused as "got '3e-1'"
    code, out, err = _sweep(tmp_path, capsys, target="3e-1", p2="2E-1", trials="2e2")
    assert (code, err) == (0, "")
    record = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert record["trials"] == 200 and isinstance(record["trials"], int)


@pytest.mark.parametrize("where,kw,text", [
    ("designs['boin'].target (line 3)", {"target": '"0.3"'}, "'0.3'"),
    ("scenarios['a'].p_true[2] (line 7)", {"p2": "'0.2'"}, "'0.2'"),
])
def test_a_quoted_number_is_refused_like_a_quoted_trials(tmp_path, capsys, where, kw, text):
    # a quoted design target was converted by pydantic while a quoted `trials` was refused: now both are refused
    code, out, err = _sweep(tmp_path, capsys, **kw)
    assert code == 2
    assert err.endswith(f"s.yaml: {where}: is the text {text}: write the number without quotes (a quoted value "
                        f"is text in YAML)\n")
    code, out, err = _sweep(tmp_path, capsys, trials='"200"')
    assert code == 2 and "trials (line 8): is the text '200': write the number without quotes" in err


def test_a_fractional_trials_is_still_refused(tmp_path, capsys):
    code, out, err = _sweep(tmp_path, capsys, trials="2.505e2")
    assert code == 2 and "trials (line 8): must be a whole number" in err and "got 250.5" in err


def test_a_quoted_number_in_a_study_design_is_refused(tmp_path, capsys):
    code, out, err = run(capsys, "init", str(tmp_path / "st"))
    study = tmp_path / "st" / "study.yaml"
    text = study.read_text()
    assert "design: boin, target: 0.3," in text
    study.write_text(text.replace("design: boin, target: 0.3,", 'design: boin, target: "0.3",', 1))
    code, out, err = run(capsys, "run", str(study), "--out", str(tmp_path / "out"))
    assert code == 2
    assert ".options.target (line " in err and "is the text '0.3': write the number without quotes" in err


def test_a_quoted_boolean_is_refused_too(tmp_path, capsys):
    # `extrasafe: "yes"` was converted to True by pydantic while a quoted number is refused
    path = tmp_path / "s.yaml"
    path.write_text(SWEEP.format(target="0.3", p2="0.2", trials="100") + "")
    text = path.read_text().replace("    n_doses: 3\n", "    n_doses: 3\n    extrasafe: \"off\"\n")
    path.write_text(text)
    code, out, err = run(capsys, "sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "0")
    assert code == 2 and err.endswith("designs['boin'].extrasafe (line 5): is the text 'off': write true or false "
                                      "without quotes (adcbridge reads YAML 1.2: yes, no, on and off are text, and "
                                      "so is a quoted value)\n")


# ------------------------------------------------------------------ write failures name the user's path
@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs /proc (Linux)")
@pytest.mark.parametrize("args", [["init", "/proc/adcbridge-out"],
                                  ["sweep", "SWEEP", "--out", "/proc/adcbridge-out", "--workers", "0", "--quiet"]])
def test_a_folder_that_cannot_be_made_is_named_not_its_staging_folder(tmp_path, capsys, args):
    # the error named a hidden staging folder (/proc/.adcbridge-out.ckxc7ew3) instead of the folder asked for
    path = tmp_path / "s.yaml"
    path.write_text(SWEEP.format(target="0.3", p2="0.2", trials="50"))
    code, out, err = run(capsys, *[str(path) if a == "SWEEP" else a for a in args])
    assert code == 2 and err.startswith("adcbridge: error: /proc/adcbridge-out: ") and err.count("\n") == 1


@pytest.mark.parametrize("given", [["--trials", "1e3"], ["--trials=1e3"], ["--trials", "1000.0"], ["--trials", "1E3"]])
def test_a_whole_number_in_exponent_notation_is_read_as_the_number(capsys, given):
    code, out, err = run(capsys, *SIM, *given, "--seed", "1", "--format", "json")
    assert code == 0 and json.loads(out)["n_trials"] == 1000


def test_a_library_parameter_is_named_by_the_flag_the_user_gave(capsys):
    """Found: `pk project --n-doses 0` named project_human_pk's parameter (n_doses maps to --doses elsewhere)."""
    code, out, err = run(capsys, "pk", "project", "--param", "CL=20:mL/day/kg", "--param", "V1=40:mL/kg",
                         "--n-doses", "0")
    assert (code, err) == (2, "adcbridge: error: Invalid value for '--n-doses': must be >= 1. Got 0.\n")


def test_a_database_that_cannot_be_reached_or_does_not_exist_is_one_line(capsys, tmp_path, monkeypatch):
    """Found: `db upgrade` on an unreachable server printed a 159-line traceback (exit 1); `audit verify` on a
    missing SQLite file created an empty one."""
    code, out, err = run(capsys, "db", "upgrade", "--db", "postgresql://x@127.0.0.1:1/none")
    assert code == 2 and err.startswith("adcbridge: error: the database cannot be used: ") and err.count("\n") == 1
    missing = tmp_path / "none.db"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long password 123\n"))
    for args in (["audit", "verify"], ["users", "create", "--username", "u", "--role", "viewer", "--password-stdin"]):
        code, out, err = run(capsys, *args, "--db", f"sqlite:///{missing}")
        assert (code, err) == (2, f"adcbridge: error: no database file {missing}: make it with 'adcbridge db upgrade "
                                  f"--db sqlite:///{missing}'\n")
        assert not missing.exists()


@pytest.mark.parametrize("args,message", [
    (["fih", "--hnstd", "30", "--species", "cynomolgus", "--occupancy", "0.2"],
     "Invalid value for '--occupancy': sets the receptor occupancy of the occupancy dose, which needs --kd (the KD, "
     "nM)"),
    (["fit", "dose-response", "tests/reference/data/fit/data/drc_ryegrass.csv", "--x", "conc", "--y", "rootl",
      "--parallel"],
     "Invalid value for '--parallel': compares the curves of --curve (a common slope): give --curve, the column that "
     "names each curve"),
    (["nca", "tests/reference/data/nca/data/theoph.csv", "--subject", "Subject", "--time", "Time", "--conc", "conc",
      "--tau", "TAU", "--out", "{tmp}/pp.csv"],
     "Invalid value for '--tau': names a column of the --dosing table, which is not given"),
])
def test_an_option_that_would_be_ignored_is_refused(capsys, tmp_path, args, message):
    """Found ignored with exit 0: --occupancy without --kd, --parallel without --curve (one curve fitted to all the
    data), --tau / --dose-time without --dosing."""
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert (code, err) == (2, f"adcbridge: error: {message}\n")


def test_an_infusion_longer_than_the_sampling_is_refused(capsys, tmp_path):
    """Found: `--duration 5000` (hours meant as minutes?) gave a negative MRT with exit 0: a time past the data."""
    data = tmp_path / "c.csv"
    data.write_text("ID,TIME,CONC,DOSE\n" + "".join(f"S1,{t},{c},1\n" for t, c in ((0, 0), (1, 9), (4, 6), (24, 2),
                                                                                   (48, 1))))
    args = ["nca", data, "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE", "--route",
            "iv-infusion", "--out", tmp_path / "pp.csv"]
    code, out, err = run(capsys, *args, "--duration", "5000")
    assert (code, err) == (2, f"adcbridge: error: {data}: the infusion duration 5000 ends after the last sample (48) "
                              f"of the profile of ID=S1: no sample follows the end of the infusion (MRT would come "
                              f"out negative); check the duration and its unit (the times' unit)\n")
    assert not (tmp_path / "pp.csv").exists()
    code, out, err = run(capsys, *args, "--duration", "0.5")
    assert code == 0, err


def test_fih_flags_beside_a_plan_file_are_refused(capsys):
    """Found: `fih --config plan.yaml --kd 3 --occupancy 0.5 --species rat` ignored the three flags (exit 0)."""
    plan = "src/adcbridge/examples/jskn003_fih.yaml"
    code, out, err = run(capsys, "fih", "--config", plan, "--kd", "3", "--occupancy", "0.5", "--species", "rat")
    assert (code, err) == (2, "adcbridge: error: Invalid value for '--config': the plan file sets the start dose's "
                              "inputs: --species, --kd, --occupancy would be ignored; set them in the file\n")
    assert run(capsys, "fih", "--config", plan, "--format", "json")[0] == 0
