"""Newcomer review of the dose-finding command line: every error one line naming the flag, file, row or column
and what to do; write failures name the user's path; single-file outputs refuse a missing folder as the output
folders do; help labels list exactly the designs that take each flag."""

from __future__ import annotations

import re

import pytest

from tests.clirun import run


def _error(capsys, *args) -> str:
    code, out, err = run(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and err.startswith("adcbridge: error: "), (code, out, err)
    assert "Traceback" not in err
    return err.removeprefix("adcbridge: error: ").rstrip("\n")


def _file(tmp_path, text, name="h.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


BOIN12 = ["next", "--design", "boin12", "--target", "0.3", "--efficacy-min", "0.25", "--doses", "5"]
RESPONSES = """patient,cohort,dose,dlt,efficacy
1,1,1,0,1
2,1,1,0,0
3,1,1,0,0
4,2,2,0,1
5,2,2,0,1
6,2,2,0,1
"""


# 1. BOIN12 utilities ----------------------------------------------------------------------------------------------
def test_boin12_utilities_above_100_are_refused_not_nan(capsys, tmp_path):
    h = _file(tmp_path, RESPONSES)
    err = _error(capsys, *BOIN12, "--history", h, "--utility", "80,60")
    assert err.startswith("Invalid value for '--utility': must have u11 + u00 at most 100, got 80 + 60 = 140")
    code, out, _ = run(capsys, *BOIN12, "--history", h, "--utility", "65,25")
    assert code == 0 and "nan" not in out.lower()


def test_boin12_fraction_utilities_are_refused(capsys, tmp_path):
    err = _error(capsys, *BOIN12, "--history", _file(tmp_path, RESPONSES), "--utility", "0.6,0.4")
    assert err == ("Invalid value for '--utility': must be on a 0-100 scale, as utilities are (a response without "
                   "DLT scores 100): give 60,40, not fractions; got 0.6,0.4.")


# 2, 3. write failures and missing folders -------------------------------------------------------------------------
SIM = ["simulate", "--design", "boin", "--target", "0.3", "--p-true", "0.1,0.2,0.3", "--trials", "20"]
PATHWAYS = ["pathways", "--design", "boin", "--target", "0.3", "--doses", "3"]


@pytest.mark.parametrize("args", [[*SIM, "--plot", "{dir}/nodir/x.png"], [*PATHWAYS, "--out", "{dir}/nodir/pw.csv"],
                                  [*SIM, "--plot", "{dir}/a/b/x.png"]])
def test_a_file_output_in_a_missing_folder_is_refused_and_no_folder_is_made(capsys, tmp_path, args):
    args = [a.replace("{dir}", str(tmp_path)) for a in args]
    target = args[-1]
    err = _error(capsys, *args)
    folder = target.rsplit("/", 1)[0]
    assert err == f"{target}: the folder {folder} does not exist; create it first or choose another path"
    assert list(tmp_path.iterdir()) == []


def test_a_file_output_in_a_relative_missing_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _error(capsys, *PATHWAYS, "--out", "nodir/pw.csv")
    assert err == "nodir/pw.csv: the folder nodir does not exist; create it first or choose another path"
    assert not (tmp_path / "nodir").exists()
    code, out, _ = run(capsys, *PATHWAYS, "--out", "pw.csv")
    assert code == 0 and (tmp_path / "pw.csv").exists()


@pytest.mark.parametrize("args,target", [([*SIM, "--plot", "/proc/adcbridge-x.png"], "/proc/adcbridge-x.png"),
                                         ([*PATHWAYS, "--out", "/proc/adcbridge-pw.csv"], "/proc/adcbridge-pw.csv")])
def test_a_write_failure_names_the_users_path(capsys, args, target):
    import os
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    err = _error(capsys, *args)
    assert err.startswith(f"{target}: ") and ".tmp" not in err


def test_output_folders_are_still_made(capsys, tmp_path):
    code, _, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", tmp_path / "p")
    assert code == 0 and (tmp_path / "p" / "decision_table.csv").exists(), err
    err = _error(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", tmp_path / "q" / "p")
    assert err == f"{tmp_path / 'q' / 'p'}: the folder {tmp_path / 'q'} does not exist; create it first or choose " \
                  f"another path"


# 4. comb-boin skip ------------------------------------------------------------------------------------------------
def test_comb_boin_skip_names_the_column_of_the_agent_that_skips(capsys, tmp_path):
    h = _file(tmp_path, "patient,cohort,dose_a,dose_b,dlt\n1,1,1,1,0\n2,1,1,1,0\n3,1,1,1,0\n"
                        "4,2,1,3,0\n5,2,1,3,0\n6,2,1,3,0\n")
    err = _error(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "3x3", "--history", h)
    assert err.startswith(f"{h}: column 'dose_b', line 5 (patient '4'): (1, 3) skips untried combinations: agent B "
                          f"moves 2 levels from (1, 1)")


# 5. --p-true shapes -----------------------------------------------------------------------------------------------
def test_a_tall_p_true_grid_for_the_waterfall_names_p_true_and_how_to_rotate(capsys):
    err = _error(capsys, "simulate", "--design", "comb-boin", "--mtd-contour", "--target", "0.3", "--p-true",
                 "0.1,0.2;0.2,0.3;0.3,0.4", "--trials", "10")
    assert err.startswith("Invalid value for '--p-true': is a 3x2 grid") and "transpose --p-true to 2x3" in err
    assert "give agent A as the agent with fewer levels" in err


def test_too_many_p_true_values_name_p_true(capsys):
    err = _error(capsys, "simulate", "--design", "boin", "--target", "0.3", "--p-true", ",".join(["0.1"] * 60),
                 "--trials", "10")
    assert err == ("Invalid value for '--p-true': has 60 values, one per dose level, but boin's number of dose "
                   "levels must be <= 50. Got 60.")


def test_a_p_true_grid_out_of_range_names_p_true(capsys):
    err = _error(capsys, "simulate", "--design", "comb-boin", "--target", "0.3", "--p-true",
                 ";".join(["0.1,0.2"] * 9), "--trials", "10")
    assert err.startswith("Invalid value for '--p-true': is a 9x2 grid")


# 6. oversized cohorts ---------------------------------------------------------------------------------------------
def test_an_oversized_cohort_in_outcomes_names_outcomes_and_what_to_do(capsys):
    err = _error(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "3", "--outcomes", "1NNNN")
    assert err == ("Invalid value for '--outcomes': cohort 1 ('1NNNN') has 4 patients, but boin treats cohorts of 3: "
                   "split it into cohorts of at most 3 (e.g. '1NNN 1N'), or set --cohort-size 4 if that is the "
                   "trial's cohort size")


def test_an_oversized_cohort_in_a_history_points_at_the_extra_patient(capsys, tmp_path):
    h = _file(tmp_path, "patient,cohort,dose,dlt\n1,1,1,0\n2,1,1,0\n3,1,1,0\n4,1,1,0\n")
    err = _error(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "3", "--history", h)
    assert err.startswith(f"{h}: column 'cohort', line 5 (patient '4'): cohort 1 has 4 patients, but boin treats "
                          f"cohorts of 3, and this is patient 4 of it: give it the next cohort number")
    assert "--cohort-size 4" in err


# 7. smaller messages ----------------------------------------------------------------------------------------------
def test_a_grid_without_levels_says_levels_must_be_at_least_one(capsys):
    err = _error(capsys, "next", "--design", "comb-boin", "--target", "0.3", "--grid", "0x5", "--outcomes", "1,1NNN")
    assert err.startswith("Invalid value for '--grid': each agent needs at least one level (levels of A and of B "
                          ">= 1)")


def test_doses_message_agrees_with_the_rule(capsys):
    err = _error(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "0", "--outcomes", "1NNN")
    assert "the number of dose levels (a whole number >= 1, e.g. 5) or the dose values (two or more" in err
    code, _, _ = run(capsys, "next", "--design", "boin", "--target", "0.3", "--doses", "1", "--outcomes", "1NNN")
    assert code == 0


def test_crm_prior_mtd_beyond_the_doses_is_one_plain_sentence(capsys):
    err = _error(capsys, "next", "--design", "crm", "--target", "0.3", "--doses", "5", "--prior-mtd", "9",
                 "--outcomes", "1NNN")
    assert err == ("Invalid value for '--prior-mtd': must be one of the 5 dose levels, 1..5 (the level whose "
                   "skeleton value is the target). Got 9.")


def test_backfill_cap_zero_is_refused_with_the_rule(capsys):
    err = _error(capsys, "next", "--design", "boin-backfill", "--target", "0.3", "--doses", "5", "--n-cap", "0",
                 "--outcomes", "1NNN")
    assert err.startswith("Invalid value for '--n-cap': must be at least the cohort size, 3")
    assert "1 patients" not in err


# 8. help labels ---------------------------------------------------------------------------------------------------
_LABEL = re.compile(r"^(?:BOIN family \()?(?P<names>[a-z0-9+-]+(?:, [a-z0-9+-]+)*)\)?: ")


def _accepting(flag: str) -> set[str]:
    from adcbridge.cli.designs import _PARAMETER_OF_FLAG, _has_parameter
    from adcbridge.dosefinding.registry import design_class, design_names
    param = "stop_cutoff" if flag == "--no-safety-stop" else \
        _PARAMETER_OF_FLAG.get(flag, flag.lstrip("-").replace("-", "_"))
    return {d for d in design_names() if _has_parameter(design_class(d), param)}


def test_every_design_flag_help_names_exactly_the_designs_that_take_it():
    from adcbridge.cli.designs import DESIGN_FLAGS
    from adcbridge.dosefinding.registry import design_names
    wrong = []
    for _, _, option in DESIGN_FLAGS:
        flag, text = option.param_decls[0], option.help
        accepting = _accepting(flag)
        m = _LABEL.match(text)
        if m:
            labelled = set(m.group("names").split(", "))
        elif "every design but 3+3" in text or "not for 3+3" in text:
            labelled = set(design_names()) - {"3+3"}
        else:
            labelled = set(design_names())
        if labelled != accepting:
            wrong.append(f"{flag}: help says {sorted(labelled)}, the designs taking it are {sorted(accepting)}")
    assert not wrong, "\n".join(wrong)


def test_simulate_scenario_flags_help_names_exactly_the_designs_that_take_them():
    import inspect

    from adcbridge.cli.designs import SCENARIO_FLAGS
    from adcbridge.cli.dosefinding import simulate_cmd
    from adcbridge.dosefinding.registry import design_class, design_names
    options = {p.default.param_decls[0]: p.default for p in inspect.signature(simulate_cmd).parameters.values()
               if hasattr(p.default, "param_decls")}
    for flag, name in SCENARIO_FLAGS.items():
        accepting = {d for d in design_names() if name in design_class(d).scenario_options}
        m = _LABEL.match(options[flag].help)
        assert m and set(m.group("names").split(", ")) == accepting, (flag, options[flag].help, accepting)


def test_pathways_help_tells_cohorts_from_n_cohorts(capsys):
    code, out, _ = run(capsys, "pathways", "--help")
    text = " ".join(out.replace("│", " ").split())
    assert code == 0 and "Depth of the pathway table" in text and "The design's maximum number of cohorts" in text
