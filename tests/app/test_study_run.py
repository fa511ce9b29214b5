"""`adcbridge run study.yaml --out DIR`: the bundled JSKN003-like study end to end (the stated truths of its
generator recovered, byte-identical reruns, the command's own records), bad study files (every problem at once,
nothing written) and a failing analysis (its dependents skipped, the others run, exit 1)."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from tests.clirun import run

STUDY = Path(str(resources.files("adcbridge.examples").joinpath("jskn003_study/study.yaml")))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled study, run once for the module by the README's main job, ``adcbridge demo --out DIR``: (exit
    code, stdout, output folder)."""
    import contextlib
    import io

    from adcbridge.cli import main
    out = tmp_path_factory.mktemp("study") / "out"
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        code = main(["demo", "--out", str(out), "--quiet"])
    return code, buf.getvalue(), out


def _result(out: Path, analysis_id: str) -> dict:
    return json.loads((out / "results" / f"{analysis_id}.json").read_text())


def test_the_bundled_study_runs_every_analysis(bundled):
    code, text, out = bundled
    assert code == 0, text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["study"].startswith("JSKN003")
    assert {a["status"] for a in summary["analyses"].values()} == {"ok"}
    assert len(summary["analyses"]) == 16
    report = (out / "report.html").read_text()
    for a in summary["analyses"]:
        assert f'id="{a}"' in report
    assert report.count("data:image/png;base64,") >= 10 and "Start dose" in report and "Provenance" in report
    assert f"wrote {out / 'report.html'}" in text


def test_the_report_recovers_the_stated_truths(bundled):
    _, _, out = bundled
    kin = _result(out, "her2_kinetics")["record"]
    assert kin["KD"]["estimate"] == pytest.approx(2.2e-10, rel=0.05)           # generator's truth 2.2e-10 M
    assert _result(out, "her2_kinetics_parental")["record"]["KD"]["estimate"] == pytest.approx(2.0e-10, rel=0.05)
    for analysis_id, truths in (("cell_binding", {"NCI-N87": 0.25, "BxPC-3": 0.60}),       # EC50, nM
                                ("cytotoxicity", {"NCI-N87": 1.2, "BT474": 3.5})):         # IC50, nM
        for curve in _result(out, analysis_id)["record"]["curves"]:
            ed50 = curve["ed"]["50"]
            assert ed50["ci_low"] <= truths[curve["curve"]] <= ed50["ci_high"], (analysis_id, curve["curve"])
    assert "IC50 1.13 nM" in _result(out, "cytotoxicity")["conclusion"]
    internal = _result(out, "internalization")
    cmp = internal["record"]["comparison"]
    assert cmp["k_ratio"]["ci_low"] > 1 and cmp["k_equal"]["p"] < 0.05         # faster than DS-8201
    assert "JSKN003 internalizes faster than DS-8201" in internal["conclusion"]
    for model in ("xenograft_n87", "xenograft_bt474"):                          # growth inhibition rising with dose
        tgi = pd.read_csv(out / "results" / f"{model}.csv")
        values = tgi["delta_v"].map(lambda v: json.loads(v)["value"] if isinstance(v, str) else v).tolist()
        assert values == sorted(values) and values[-1] > 80
    pm = pd.read_csv(out / "results" / "cyno_pk_sd_stats.csv")                  # its main table: the power model
    assert pm["slope"].between(0.9, 1.1).all()                                   # linear PK, ADC/TAb/DXd
    assert (pm[pm["PPCAT"] == "ADC"]["conclusion"] == "proportional").all()
    stats = _result(out, "cyno_pk_sd_stats")["conclusion"]
    assert "no sex effect" in stats and "linear PK" in stats
    fih = _result(out, "fih")["record"]
    assert fih["toxicology"]["hnstd"] == 30 and fih["start_dose_mg_per_kg"] == pytest.approx(30 * 12 / 37 / 6)
    human = _result(out, "human_pk")
    assert human["record"]["exposure"][0]["dose"] == 1.0 and "Cmax" in human["conclusion"]
    boin = _result(out, "boin")["record"]
    assert boin["spec"]["dose_levels"] == [1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4] and boin["spec"]["target"] == 0.3
    oc = pd.read_csv(out / "results" / "operating_characteristics.csv")
    assert set(oc["design"]) == {"BOIN", "3+3", "CRM"} and len(oc) == 9


def test_a_record_is_the_one_its_command_prints(bundled, capsys):
    _, _, out = bundled
    data = STUDY.parent / "data" / "kinetics.csv"
    code, text, _ = run(capsys, "fit", "kinetics", data, "--t-on", "60", "--t-off", "360", "--format", "json")
    direct = json.loads(text)
    stored = _result(out, "her2_kinetics")["record"]
    direct["provenance"].pop("created", None)
    assert code == 0 and stored == direct


def test_a_rerun_gives_byte_identical_results(bundled, tmp_path, capsys):
    """`adcbridge run` of the bundled study file gives byte for byte the results of `adcbridge demo`."""
    _, _, out = bundled
    again = tmp_path / "again"
    code, _, err = run(capsys, "run", STUDY, "--out", again, "--quiet")
    assert code == 0, err
    files = sorted(p.relative_to(out) for d in ("results", "figures") for p in (out / d).rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for d in ("results", "figures") for p in (again / d).rglob("*")
                           if p.is_file())
    assert {f.suffix for f in files} == {".json", ".csv", ".png", ".svg"}
    for png in (f for f in files if f.suffix == ".png"):                     # every figure also as SVG
        assert png.with_suffix(".svg") in files
    for f in files + [Path("summary.json")]:
        assert (out / f).read_bytes() == (again / f).read_bytes(), f
    # an existing folder is replaced only with --force
    code, _, err = run(capsys, "run", STUDY, "--out", again, "--quiet")
    assert code == 2 and "give --force" in err
    code, _, err = run(capsys, "run", STUDY, "--out", again, "--quiet", "--force")
    assert code == 0 and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]    # no staging left


def _copy_study(tmp_path: Path, text: str) -> Path:
    shutil.copytree(STUDY.parent / "data", tmp_path / "data")
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return path


def test_a_bad_study_file_lists_every_problem_and_writes_nothing(tmp_path, capsys):
    path = _copy_study(tmp_path, """name: bad
analyses:
  - id: k1
    kind: kinetics
    data: data/kinetics.csv
    options: {t_on: 60, t_off: 360, t_offf: 3}
  - id: k1
    kind: kinetcs
  - id: nca1
    kind: nca
    data: data/missing.csv
  - id: stats
    kind: nca-stats
    of: nca2
  - id: sim
    kind: simulate
    designs: [k1]
    scenarios: [{name: a, p_true: [0.1]}]
    options: {plot: x.png}
""")
    out = tmp_path / "out"
    code, text, err = run(capsys, "run", path, "--out", out)
    assert code == 2 and text == "" and not out.exists()
    lines = err.splitlines()
    assert lines[0] == f"adcbridge: error: {path}: 7 problems in the study file"
    for needle in ["analyses[1].options.t_offf (line 6): unknown key 't_offf' for kind kinetics; did you mean 't_off'?",
                   "analyses[2].id (line 7): the id 'k1' is used twice",
                   "analyses[2].kind (line 8): unknown kind 'kinetcs'",
                   "analyses[3].data (line 11): no such file 'data/missing.csv'",
                   "analyses[4].of (line 14): no analysis has the id 'nca2'",
                   "analyses[5].designs[1] (line 17): 'k1' is a kinetics analysis, not design",
                   "analyses[5].options (line 19): unknown option(s) ['plot']"]:
        assert any(needle in line for line in lines[1:]), needle


def test_a_failing_analysis_skips_its_dependents_and_the_others_run(tmp_path, capsys):
    path = _copy_study(tmp_path, """name: partly failing
analyses:
  - id: pk
    kind: nca
    data: data/cyno_pk_sd.csv
    options: {subject: ID, time: TIME, conc: NOT_A_COLUMN, dose: DOSE}
  - id: pk_stats
    kind: nca-stats
    of: pk
  - id: fih
    kind: fih
    data: data/fih_plan.yaml
""")
    out = tmp_path / "out"
    code, text, err = run(capsys, "run", path, "--out", out, "--quiet")
    assert code == 1
    summary = json.loads((out / "summary.json").read_text())["analyses"]
    assert summary["pk"]["status"] == "error" and "NOT_A_COLUMN" in summary["pk"]["error"]
    assert summary["pk_stats"]["status"] == "skipped" and "depends on pk" in summary["pk_stats"]["error"]
    assert summary["fih"]["status"] == "ok"
    report = (out / "report.html").read_text()
    assert "This analysis failed" in report and "Skipped" in report


def test_demo_refuses_an_output_folder_it_cannot_make_before_any_work(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("x")
    code, out, err = run(capsys, "demo", "--out", blocked / "demo", "--quiet")
    assert code == 2 and err.count("\n") == 1 and "file" in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_init_writes_a_valid_template_study_once(tmp_path, capsys):
    from adcbridge.study import load_study
    folder = tmp_path / "my_study"
    code, text, err = run(capsys, "init", folder)
    assert code == 0, err
    assert (folder / "study.yaml").is_file() and (folder / "README.md").is_file()
    assert (folder / "data" / "cyno_pk_sd.csv").is_file()
    header = (folder / "study.yaml").read_text()
    for key in ("name", "description", "seed", "analyses", "id", "kind", "title", "data", "options", "of",
                "from", "designs", "scenarios"):
        assert f"#   {key} " in header or f"#     {key} " in header, key            # every key explained
    assert len(load_study(folder / "study.yaml").order) == 16
    code, _, err = run(capsys, "init", folder)
    assert code == 2 and "give --force" in err
    assert run(capsys, "init", folder, "--force")[0] == 0


def test_study_file_checks_found_by_the_newcomer_review(tmp_path, capsys):
    """Duplicate YAML keys, duplicate scenario names, designs that cannot be compared, bad dose levels and design
    parameters, and an output folder holding the study's own inputs: all refused before any work."""
    path = _copy_study(tmp_path, """name: review
analyses:
  - id: b
    kind: design
    options: {design: boin, target: 0.3, doses: [1, 2, 4], dose_unit: mg/kg}
    options: {design: 3+3, doses: [1, 2, 4], dose_unit: mg/kg}
""")
    code, _, err = run(capsys, "run", path, "--out", tmp_path / "o1")
    assert code == 2 and "the key 'options' is given twice" in err
    path.write_text("""name: review
analyses:
  - id: b
    kind: design
    options: {design: boin, target: 0.3, doses: [1, 2, 4], dose_unit: mg/kg}
  - id: c
    kind: design
    options: {design: boin, target: 0.2, doses: [1, 2, 4], dose_unit: mg/kg, n_cohort: 5}
  - id: d
    kind: design
    options: {design: crm, target: 0.3, doses: [4, 2, 1]}
  - id: sim
    kind: simulate
    designs: [b, c]
    options: {trials: many}
    scenarios: [{name: a, p_true: [0.1, 0.2, 0.3]}, {name: a, p_true: [0.1, 0.2]}]
""")
    code, _, err = run(capsys, "run", path, "--out", tmp_path / "o2")
    assert code == 2 and not (tmp_path / "o2").exists()
    for needle in ["analyses[2].options", "n_cohort",
                   "analyses[3].options.doses (line 11): the dose levels must increase",
                   "analyses[3].options (line 11): give the unit of the dose levels",
                   "analyses[4].designs (line 14): the designs compared have different targets [0.2, 0.3]",
                   "analyses[4].options.trials (line 15): expected a whole number of trials",
                   "analyses[4].scenarios[2].name (line 16): the scenario name 'a' is used twice",
                   "analyses[4].scenarios[2].p_true (line 16): 2 probabilities for 3 dose levels"]:
        assert needle in err, needle
    # --force never replaces a folder that holds the study's inputs
    path.write_text("name: ok\nanalyses:\n  - id: fih\n    kind: fih\n    data: data/fih_plan.yaml\n")
    code, _, err = run(capsys, "run", path, "--out", tmp_path, "--force")
    assert code == 2 and "would hold the input" in err and path.exists()
    code, _, err = run(capsys, "run", path, "--out", tmp_path / "data", "--force")
    assert code == 2 and (tmp_path / "data" / "fih_plan.yaml").exists()


def test_a_pk_fit_analysis_runs_its_command(tmp_path, capsys):
    from tests.refdata import REFERENCE
    data = pd.read_csv(REFERENCE / "pk" / "r_oracle_input.csv")
    (tmp_path / "data").mkdir()
    data[data["ID"].isin(["SD002", "SD027"])].to_csv(tmp_path / "data" / "pk.csv", index=False)
    path = tmp_path / "study.yaml"
    path.write_text("""name: pk fit
analyses:
  - id: pk
    kind: pk-fit
    data: data/pk.csv
    options: {model: 2cmt, tinf: TINF, by: ID, n_starts: 1}
""")
    code, _, err = run(capsys, "run", path, "--out", tmp_path / "out", "--quiet")
    assert code == 0, err
    result = _result(tmp_path / "out", "pk")
    direct = json.loads(run(capsys, "pk", "fit", tmp_path / "data" / "pk.csv", "--model", "2cmt", "--tinf", "TINF",
                            "--by", "ID", "--n-starts", "1", "--format", "json")[1])
    assert [p["estimate"] for p in result["record"]["parameters"]] == [p["estimate"] for p in direct["parameters"]]
    assert "median individual estimates: CL" in result["conclusion"]
    assert (tmp_path / "out" / "figures" / "pk.png").exists() and (tmp_path / "out" / "figures" / "pk.svg").exists()
