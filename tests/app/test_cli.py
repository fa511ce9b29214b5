"""The command-line contract: JSON shapes, exit status 2 with one line for bad arguments."""

import json
import subprocess
import sys

import pytest

from tests.clirun import run


def test_boin_table_contract(capsys):
    code, out, _ = run(capsys, "boin", "table", "--target", "0.3", "--cohort-size", "3", "--cohorts", "10",
                       "--format", "json")
    assert code == 0
    obj = json.loads(out)
    assert set(obj) == {"lambda_e", "lambda_d", "table", "result_type", "spec", "issues", "provenance"}
    assert obj["lambda_e"] == pytest.approx(0.236490685236468, rel=1e-12)
    assert obj["table"][0] == {"n": 1, "escalate_if_dlt_le": 0, "deescalate_if_dlt_ge": 1, "eliminate_if_dlt_ge": None}
    assert obj["table"][29] == {"n": 30, "escalate_if_dlt_le": 7, "deescalate_if_dlt_ge": 11, "eliminate_if_dlt_ge": 14}


def test_boin_table_extrasafe_and_earlystop(capsys):
    code, out, _ = run(capsys, "boin", "table", "--target", "0.3", "--n-earlystop", "12", "--extrasafe",
                       "--offset", "0.05", "--format", "json")
    rows = json.loads(out)["table"]
    assert len(rows) == 12 and rows[2]["stop_trial_if_dlt_ge"] == 2     # reference t0.30_extrasafe


@pytest.mark.parametrize("fmt,needle", [("csv", "n,escalate_if_dlt_le"), ("markdown", "| Rule |"),
                                        ("html", "<table"), ("text", "lambda_e = 0.2365")])
def test_boin_table_formats(capsys, fmt, needle):
    code, out, _ = run(capsys, "boin", "table", "--target", "0.3", "--format", fmt)
    assert code == 0 and needle in out


def test_boin_next_contract(capsys):
    code, out, _ = run(capsys, "boin", "next", "--target", "0.3", "--doses", "5", "--outcomes", "1NNN 2NTN",
                       "--format", "json")
    obj = json.loads(out)
    assert code == 0
    assert {k: obj[k] for k in ("next_dose", "decision", "eliminated")} == \
        {"next_dose": 2, "decision": "stay", "eliminated": []}
    assert "stay" in obj["reason"]


def test_boin_next_from_counts_and_csv(capsys, tmp_path):
    code, out, _ = run(capsys, "boin", "next", "--target", "0.3", "--doses", "3", "--n", "3,6,0", "--dlt", "0,1,0",
                       "--current-dose", "2", "--format", "json")
    assert json.loads(out)["next_dose"] == 3
    f = tmp_path / "data.csv"
    f.write_text("dose,n,dlt\n1,3,0\n2,3,0\n2,3,1\n")
    code, out, _ = run(capsys, "boin", "next", "--target", "0.3", "--doses", "3", "--data", str(f),
                       "--current-dose", "2", "--format", "json")
    assert code == 0 and json.loads(out)["decision"] == "escalate"
    f.write_text("dose,n,dlt\n1,3,0\n2,3,5\n")
    code, _, err = run(capsys, "boin", "next", "--target", "0.3", "--doses", "3", "--data", str(f),
                       "--current-dose", "2")
    assert code == 2 and err == (f"adcbridge: error: {f}: column 'dlt', line 3 (dose 2): expected a whole number "
                                 f">= 0 and <= 3 (the 'n' on the same line), got '5'\n")


def test_simulate_refuses_a_flag_the_design_does_not_have(capsys):
    code, _, err = run(capsys, "simulate", "--design", "3+3", "--target", "0.3", "--p-true", "0.05,0.1,0.2",
                       "--cohorts", "10")
    assert code == 2 and err.startswith("adcbridge: error: Invalid value for '--cohorts': applies to --design boin "
                                        "or crm or ") and err.endswith(", not 3+3\n") and err.count("\n") == 1


def test_boin_mtd_contract(capsys):
    code, out, _ = run(capsys, "boin", "mtd", "--target", "0.3", "--n", "3,6,9,3", "--dlt", "0,1,3,2",
                       "--format", "json")
    obj = json.loads(out)
    assert obj["mtd"] == 3 and len(obj["estimates"]) == 4
    assert set(obj["estimates"][0]) == {"dose", "n", "dlt", "p_hat", "ci_low", "ci_high", "p_overdose", "eliminated"}
    code, out, _ = run(capsys, "boin", "mtd", "--target", "0.3", "--n", "3,3", "--dlt", "3,3", "--format", "json")
    assert json.loads(out)["mtd"] is None


COHORTS = ["--cohort-size", "3", "--cohorts", "10"]


@pytest.mark.parametrize("design,extra", [("boin", COHORTS), ("3+3", []),
                                          ("crm", COHORTS + ["--skeleton", "0.1,0.2,0.3,0.4,0.5"])])
def test_simulate_contract(capsys, design, extra):
    code, out, _ = run(capsys, "simulate", "--design", design, "--target", "0.3", "--p-true",
                       "0.05,0.1,0.2,0.3,0.5", "--trials", "2000", "--seed", "1", *extra, "--format", "json")
    obj = json.loads(out)
    assert code == 0
    for key in ("selection_pct", "no_mtd_pct", "stop_pct", "patients_mean", "dlt_mean", "n_mean", "se"):
        assert key in obj
    assert len(obj["selection_pct"]) == 5 and obj["seed"] == 1
    assert sum(obj["selection_pct"]) + obj["no_mtd_pct"] == pytest.approx(100)
    assert len(obj["se"]["selection_pct"]) == 5


def test_simulate_exact(capsys):
    code, out, _ = run(capsys, "simulate", "--target", "0.3", "--p-true", "0.3,0.4,0.5,0.6,0.7,0.8,0.9",
                       "--exact", "--format", "json")
    obj = json.loads(out)
    assert obj["method"] == "exact" and obj["selection_pct"][0] == pytest.approx(55.1392573880623, rel=1e-9)


@pytest.mark.parametrize("args,needle", [
    (["boin", "table", "--target", "0.7"], "'--target'"),
    (["boin", "table", "--target", "abc"], "--target"),
    (["boin", "table"], "--target"),
    (["boin", "table", "--target", "0.3", "--p-saf", "0.3"], "'--p-saf'"),
    (["boin", "table", "--target", "0.3", "--cohorts", "0"], "'--cohorts'"),
    (["boin", "next", "--target", "0.3", "--doses", "3", "--outcomes", "1NNN 3NNN"], "skips an untried dose"),
    (["boin", "next", "--target", "0.3", "--doses", "3", "--outcomes", "4NNN"], "dose level 4"),
    (["boin", "mtd", "--target", "0.3", "--n", "3,3", "--dlt", "0,4"], "'--dlt'"),
    (["boin", "mtd", "--target", "0.3", "--n", "3,-3", "--dlt", "0,0"], "'--n'"),
    (["simulate", "--target", "0.3", "--p-true", "0.1,1.2"], "'--p-true'"),
    (["simulate", "--target", "0.3", "--p-true", "0.1,x"], "--p-true"),
    (["simulate", "--target", "0.3", "--p-true", "0.1,0.2", "--trials", "0"], "'--trials'"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, args, needle):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_console_script_exit_status():
    proc = subprocess.run([sys.executable, "-m", "adcbridge", "boin", "table", "--target", "0.9"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "target" in proc.stderr


def test_trial_writes_outputs(capsys, tmp_path):
    code, out, _ = run(capsys, "trial", "--trials", "300", "--out", str(tmp_path / "t"))
    assert code == 0 and "Decision table" in out and "Scenario 4" in out
    for name in ("decision_table.csv", "decision_table.md", "decision_table.html", "protocol.txt",
                 "oc_summary.csv", "oc_scenario1.png", "dose_transition_pathways.csv"):
        assert (tmp_path / "t" / name).stat().st_size > 0


def test_protocol_command(capsys, tmp_path):
    out = tmp_path / "protocol"
    code, stdout, _ = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "1,2.1,4.2", "--out", out)
    assert code == 0 and "Bayesian optimal interval" in (out / "protocol.txt").read_text()
    assert f"wrote {out / 'design.json'}" in stdout
    # a new folder, as trial, sweep and run write (found: written into any folder, beside what it held)
    code, stdout, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", out)
    assert (code, err) == (2, f"adcbridge: error: {out}: the output folder exists; give --force to replace it\n")
    code, stdout, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", out, "--force")
    assert code == 0 and '"n_doses": 3' in (out / "design.json").read_text()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    code, stdout, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", other, "--force")
    assert code == 2 and "--force replaces only a folder written by adcbridge boin protocol" in err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("args,needle", [
    (["boin", "table", "--target", "0.3", "--out", "{tmp}"], "is a folder"),
    (["boin", "mtd", "--target", "0.3", "--n", "3", "--dlt", "inf"], "--dlt"),
    (["boin", "mtd", "--target", "0.3", "--n", "nan", "--dlt", "0"], "--n"),
    (["simulate", "--design", "3+3", "--target", "0.3", "--p-true", "0.1,0.2,0.3", "--titration"], "--titration"),
    (["simulate", "--design", "boin", "--target", "0.3", "--p-true", "0.1,0.2,0.3", "--skeleton", "0.1,0.2,0.3"],
     "--skeleton"),
    (["boin", "protocol", "--target", "0.3", "--doses", "2.5", "--out", "{tmp}/p"], "--doses"),
    (["boin", "protocol", "--target", "0.3", "--doses", "3", "--pathways", "20", "--out", "{tmp}/p"], "--pathways"),
    (["boin", "next", "--target", "0.3", "--doses", "3", "--data", "{tmp}", "--current-dose", "1"], "is a folder"),
    (["boin", "next", "--target", "0.3", "--doses", "3", "--outcomes", "1NNN", "--current-dose", "2"],
     "'--current-dose' (2)"),
    (["trial", "--trials", "0"], "--trials"),
    (["demo", "--trials", "0"], "--trials"),
])
def test_more_bad_arguments(capsys, tmp_path, args, needle):
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2 and needle in err and err.count("\n") == 1 and not out


@pytest.mark.parametrize("yaml_text,needle", [
    ("name: x\ntarget: 0.3\ndose_levels: [1, 2, 3]\noptions: {boin: {n_doses: 4}}\n", "repeats"),
    ("name: x\ntarget: 0.3\ndose_levels: [1, 2, 3]\noptions: {boin: 5}\n", "options.boin"),
    ("name: x\ntarget: 0.3\ndose_levels: [1, 2, 3]\noptions: {boin: {cutoff_eli: 2}}\n",
     "'options.boin.cutoff_eli' (line 4): must be < 1, got 2"),
    ("name: x\ntarget: 0.3\ndose_levels: [1, 2, 3\n", "malformed YAML"),
    ("name: x\ntarget: 0.3\ndose_levels: [1, 2, 3]\nscenarios: [{name: a, p_true: [0.1]}]\n",
     "'scenarios[1].p_true' (line 4): has 1 probability for 3 dose levels"),
])
def test_bad_trial_yaml_names_the_file_and_field(capsys, tmp_path, yaml_text, needle):
    f = tmp_path / "trial.yaml"
    f.write_text(yaml_text)
    code, out, err = run(capsys, "trial", str(f))
    assert code == 2 and str(f) in err and needle in err and not out


@pytest.mark.parametrize("args,needle", [
    (["boin", "mtd", "--target", "0.3", "--n", "3,,6", "--dlt", "0,,1"], "'--n': has an empty entry"),
    (["boin", "mtd", "--target", "0.3", "--n", "3,6,", "--dlt", "0,1,"], "'--n': has an empty entry"),
    (["simulate", "--target", "0.3", "--p-true", "0.1,,0.5"], "'--p-true': has an empty entry"),
    (["boin", "protocol", "--target", "0.3", "--doses", "1,,2", "--out", "{tmp}/p"], "'--doses': has an empty entry"),
    (["pk", "project", "--param", "CL=20:mL/day/kg", "--param", "V1=40:mL/kg", "--dose", "1,,2"],
     "'--dose': has an empty entry"),
    (["pk", "project", "--param", "CL=20:mL/day/kg", "--param", "CL=30:mL/day/kg", "--param", "V1=40:mL/kg"],
     "gives CL twice"),
    (["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "CL=2", "--dose", "1", "--tmax", "24"],
     "gives CL twice"),
    (["fit", "dose-response", "{tmp}/x.csv", "--fix", "c=inf"], "'--fix'"),
    (["nca", "{tmp}/x.csv", "--subject", "ID", "--time", "T", "--conc", "C", "--group", "SEX,", "--out", "{tmp}/o.csv"],
     "'--group': has an empty entry"),
])
def test_list_and_name_value_options_refuse_empty_repeated_and_non_finite_entries(capsys, tmp_path, args, needle):
    (tmp_path / "x.csv").write_text("ID,T,C,DOSE,SEX\n1,0,1,1,M\n1,1,2,1,M\n")
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "p").exists() and not (tmp_path / "o.csv").exists()


def test_a_command_group_without_a_command_shows_its_help(capsys):
    code, out, err = run(capsys, "boin")
    assert code == 0 and "table" in out and "next" in out and err == ""


def test_protocol_files_are_written_all_or_none_and_a_read_only_output_is_kept(capsys, tmp_path):
    out = tmp_path / "protocol"
    out.mkdir()
    blocked = out / "protocol.txt"
    blocked.write_text("signed version\n")
    blocked.chmod(0o444)
    code, stdout, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "1,2,3", "--out", out)
    assert code == 2 and "exists; give --force to replace it" in err and err.count("\n") == 1
    code, stdout, err = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "1,2,3", "--out", out,
                            "--force")      # not a previous output (no design.json): kept as it is
    assert code == 2 and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["protocol.txt"] and blocked.read_text() == "signed version\n"


def test_new_outputs_follow_the_umask(capsys, tmp_path):
    import os
    old = os.umask(0o027)
    try:
        code, _, _ = run(capsys, "boin", "protocol", "--target", "0.3", "--doses", "3", "--out", tmp_path / "p")
    finally:
        os.umask(old)
    assert code == 0
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "p").iterdir()} == {oct(0o640)}


def test_trial_outputs_are_all_or_none(capsys, tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "oc_scenario2.png").mkdir()                     # not a trial's output: refused before the work
    code, stdout, err = run(capsys, "trial", "--trials", "200", "--out", out)
    assert code == 2 and "the output folder exists; give --force" in err and "Scenario" not in stdout
    code, stdout, err = run(capsys, "trial", "--trials", "200", "--out", out, "--force")
    assert code == 2 and "--force replaces only a folder written by adcbridge trial" in err
    assert [p.name for p in out.iterdir()] == ["oc_scenario2.png"]


def test_trial_force_replaces_a_previous_trial_output_whole(capsys, tmp_path):
    # a newcomer's finding: a second trial with fewer scenarios left the first one's scenario files beside its own
    out = tmp_path / "t"
    assert run(capsys, "trial", "--trials", "50", "--out", out)[0] == 0
    assert (out / "oc_scenario4.json").exists()
    spec = tmp_path / "one.yaml"
    from importlib import resources
    text = resources.files("adcbridge.examples").joinpath("jskn003_trial.yaml").read_text()
    import yaml
    raw = yaml.safe_load(text)
    raw["scenarios"] = raw["scenarios"][:1]
    spec.write_text(yaml.safe_dump(raw))
    code, stdout, err = run(capsys, "trial", str(spec), "--trials", "50", "--out", out, "--force")
    assert code == 0, err
    assert sorted(p.name for p in out.glob("oc_scenario*")) == ["oc_scenario1.json", "oc_scenario1.png"]


def test_every_option_of_every_command_has_help_text():
    import typer

    from adcbridge.cli import app
    missing = []

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        missing.extend((" ".join(path), p.opts[0]) for p in command.params
                       if type(p).__name__.endswith("Option") and not getattr(p, "help", None)
                       and "--help" not in p.opts)

    walk(typer.main.get_command(app), [])
    assert not missing


def test_a_bad_choice_is_one_plain_line(capsys):
    code, _, err = run(capsys, "boin", "table", "--target", "0.3", "--format", "xml")
    assert code == 2 and err == ("adcbridge: error: Invalid value for '--format': 'xml' is not one of 'text', 'json', "
                                 "'csv', 'markdown', 'html'.\n")


@pytest.mark.parametrize("args,expected", [
    (["fit", "dose-response", "{ryegrass}", "--y", "rootl", "--fix", "z=0"],
     "Invalid value for '--fix': can fix only b, c, d or f; got 'z'."),
    (["simulate", "--design", "crm", "--target", "0.3", "--p-true", "0.1,0.2,0.3", "--prior-mtd", "9"],
     "Invalid value for '--prior-mtd': must be one of the 3 dose levels, 1..3 (the level whose skeleton value is "
     "the target). Got 9."),
    (["pk", "project", "--param", "CL=20:mL/day/kg", "--param", "V1=40:mL/kg", "--body-weight", "-1"],
     "Invalid value for '--body-weight': must be > 0. Got -1.0."),
    (["fih", "--hnstd", "-30", "--species", "cynomolgus"], "Invalid value for '--hnstd': must be > 0."),
    (["translate", "ladder", "--start", "1", "--levels", "0"], "Invalid value for '--levels'"),
    (["translate", "allometry", "--param", "CL=18:mL/day/kg", "--exponent", "XX=0.85"],
     "Invalid value for '--exponent'"),
])
def test_specification_errors_name_the_flag_typed_and_show_the_value_once(capsys, args, expected):
    from tests.refdata import REFERENCE
    ryegrass = REFERENCE / "fit" / "data" / "drc_ryegrass.csv"
    code, _, err = run(capsys, *[a.replace("{ryegrass}", str(ryegrass)) for a in args])
    assert code == 2 and expected in err and err.count("\n") == 1 and err.lower().count("got") <= 1, err


@pytest.mark.parametrize("args,expected", [
    (["nca", "{theoph}", "--subject", "Subject", "--time", "Time", "--conc", "conc", "--dose", "Dose", "--sheet", "Foo",
      "--out", "{tmp}/pp.csv"], "sheet 'Foo' was asked for, but this is a text table"),
    (["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "V=10", "--dose", "1", "--times", "24,1,0"],
     "'--times': must be increasing times >= 0"),
    (["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "V=10", "--dose", "1", "--times", "0,1",
      "--tmax", "100"], "give --times or --tmax (with --points), not both"),
    (["fit", "internalization", "{pct}", "--time-unit", "fortnights"], "'fortnights' is not one of"),
    (["fit", "internalization", "{pct}", "--method", "foo"], "'foo' is not one of 'quench', 'acid_strip'"),
])
def test_options_that_would_be_ignored_or_nonsense_are_refused(capsys, tmp_path, args, expected):
    from tests.refdata import REFERENCE
    subst = {"{theoph}": str(REFERENCE / "nca" / "data" / "theoph.csv"), "{tmp}": str(tmp_path),
             "{pct}": str(REFERENCE / "fit" / "internalization" / "internalization_pct.csv")}
    def fill(arg: str) -> str:
        for key, value in subst.items():
            arg = arg.replace(key, value)
        return arg

    code, _, err = run(capsys, *map(fill, args))
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert not list(tmp_path.iterdir())


def test_nca_stats_refuses_an_unknown_parameter(capsys, tmp_path):
    from tests.refdata import REFERENCE
    cyno = REFERENCE / "nca" / "data" / "cyno_adc_sd.csv"
    code, _, _ = run(capsys, "nca", cyno, "--subject", "ID", "--time", "TIME", "--conc", "CONC", "--dose", "DOSE",
                     "--route", "ROUTE", "--duration", "TINF", "--group", "SEX,DOSE", "--analyte", "ANALYTE",
                     "--blq", "BLQ", "--metabolite", "PAYLOAD", "--conc-unit", "CONCU", "--out", tmp_path / "pp.csv")
    assert code == 0
    code, _, err = run(capsys, "nca-stats", tmp_path / "pp.csv", "--parameters", "CMAX,FOO", "--out", tmp_path / "s")
    assert code == 2 and "'--parameters': 'FOO' is not a PPTESTCD" in err and not (tmp_path / "s").exists()


@pytest.mark.parametrize("args,expected", [
    (["translate", "ladder", "--scheme", "list", "--doses", "1,2,4", "--start", "5"],
     "'--start': does not apply to --scheme list"),
    (["translate", "ladder", "--start", "1", "--doses", "1,2,4"], "'--doses': applies to --scheme list only"),
    (["pk", "simulate", "--model", "1cmt", "--param", "CL=1", "--param", "V=10", "--dose", "1", "--tau", "24",
      "--n", "3", "--tmax", "72", "--cycle", "5"], "Invalid value for '--cycle': must be a dose number in 1..3"),
])
def test_more_ignored_or_unnamed_options(capsys, args, expected):
    code, _, err = run(capsys, *args)
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_trial_fails_at_once_when_its_output_folder_cannot_be_made(capsys, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    code, out, err = run(capsys, "trial", "--trials", "100", "--out", blocked / "demo")
    assert code == 2 and "is a file, so the output folder cannot be made" in err and "Scenario" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
