"""The sweep command's inputs: every mistake in the sweep file is one line naming the file, the entry (designs by
label, scenarios by name), the key and the YAML line, in adcbridge's words (never pydantic's), with exit status 2;
``--force`` replaces only a previous sweep's output folder; ``--scheduler`` must be an address."""

from __future__ import annotations

import json
import re

import pytest

from tests.clirun import run

GOOD = """\
designs:
  - name: boin
    target: 0.3
    n_doses: 4
  - name: 3+3
    n_doses: 4
  - name: crm
    target: 0.3
    n_doses: 4
    skeleton: [0.1, 0.2, 0.3, 0.4]
scenarios:
  - name: low
    p_true: [0.05, 0.1, 0.2, 0.3]
    target: 0.3
  - name: high
    p_true: [0.3, 0.4, 0.5, 0.6]
    target: 0.3
trials: 60
seed: 1
"""

#: pydantic's own wording, which must never reach a user
PYDANTIC = re.compile(r"Input should|validation error|list\[|float\]|int\]|type=|Field required|Extra inputs|"
                      r"Value error|For further information")


def _sweep(tmp_path, capsys, text: str, *extra):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "out", "--workers", "0", "--quiet", *extra)
    return code, err.strip()


def _edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def test_the_good_file_runs(tmp_path, capsys):
    code, err = _sweep(tmp_path, capsys, GOOD)
    assert code == 0, err


@pytest.mark.parametrize("text,expected", [
    # a design's option, in the third design: the entry by its name, the option, the position, the line
    (_edit("[0.1, 0.2, 0.3, 0.4]", "[0.1, 0.2, abc, 0.4]"),
     "designs['crm'].skeleton[3] (line 10): must be a number, got 'abc'"),
    (_edit("    target: 0.3\n    n_doses: 4\n  - name: 3+3", "    target: 3\n    n_doses: 4\n  - name: 3+3"),
     "designs['boin'].target (line 3): must be in [0.05, 0.6], got 3"),
    (_edit("    target: 0.3\n    n_doses: 4\n  - name: 3+3", "    target: 0.3\n    cohortsize: 3\n    n_doses: 4\n"
                                                      "  - name: 3+3"),
     "designs['boin'].cohortsize (line 4): boin has no parameter 'cohortsize'; did you mean 'cohort_size'?"),
    (_edit("    n_doses: 4\n    skeleton", "    n_doses: four\n    skeleton"),
     "designs['crm'].n_doses (line 9): must be a whole number, got 'four'"),
    (_edit("  - name: 3+3\n    n_doses: 4", "  - name: 3+3\n    n_doses: true"),
     "designs['3+3'].n_doses (line 6): must be a number, got True"),
    (_edit("name: crm", "name: cmr"), "designs[3].name (line 7): unknown design 'cmr'; did you mean 'crm'?"),
    (_edit("  - name: 3+3\n    n_doses: 4\n", "  - 3+3\n"), "designs[2] (line 5): must be a mapping"),
    (_edit("  - name: 3+3\n    n_doses: 4\n", "  - n_doses: 4\n"), "designs[2] (line 5): has no 'name'"),
    (_edit("name: 3+3", "name: boin\n    target: 0.3"),
     "designs[2] (line 5): design 'boin' is given twice (also designs[1]): give each a distinct 'label'"),
    (_edit("name: crm", "name: crm\n    label: ''"), "designs[3].label (line 8): must be non-empty text"),
    # a scenario's truths: by the scenario's name
    (_edit("[0.3, 0.4, 0.5, 0.6]", "[0.3, 0.4, abc, 0.6]"),
     "scenarios['high'].p_true[3] (line 16): must be a number in [0, 1], got 'abc'"),
    (_edit("[0.3, 0.4, 0.5, 0.6]", "[0.3, 0.4, 1.5, 0.6]"),
     "scenarios['high'].p_true[3] (line 16): must be a number in [0, 1], got 1.5"),
    (_edit("[0.3, 0.4, 0.5, 0.6]", "[0.3, 0.4, true, 0.6]"),
     "scenarios['high'].p_true[3] (line 16): must be a number, got True"),
    (_edit("[0.3, 0.4, 0.5, 0.6]", "[]"), "scenarios['high'].p_true (line 16): is empty"),
    (_edit("[0.3, 0.4, 0.5, 0.6]", "0.3"), "scenarios['high'].p_true (line 16): must be a list of probabilities"),
    (_edit("[0.3, 0.4, 0.5, 0.6]", "[0.3, 0.4, 0.5]"),
     "scenarios['high'].p_true (line 16): design 'boin': must have one probability per dose (4), got 3"),
    (_edit("    p_true: [0.3, 0.4, 0.5, 0.6]\n", ""), "scenarios['high'].p_true (line 15): is required"),
    (_edit("    p_true: [0.3, 0.4, 0.5, 0.6]\n",
           "    p_true: [0.3, 0.4, 0.5, 0.6]\n    q_true: [0.1, 0.2, 0.3, 0.4]\n"),
     "scenarios['high'].q_true (line 17): no design of the sweep takes 'q_true'"),
    (_edit("  - name: high\n    p_true: [0.3, 0.4, 0.5, 0.6]\n    target: 0.3",
           "  - name: high\n    p_true: [0.3, 0.4, 0.5, 0.6]\n    target: 0.25"),
     "scenarios['high'].target (line 17): sets the target of designs without one (3+3); design 'boin' has its own"),
    (_edit("name: high", "name: low"), "scenarios[2] (line 15): scenario 'low' is given twice (also scenarios[1])"),
    (_edit("name: high", "name: ''"), "scenarios[2].name (line 15): must be non-empty text"),
    # the top level
    (GOOD + "trails: 5\n", "trails (line 20): unknown key 'trails'; did you mean 'trials'?"),
    (GOOD.replace("seed: 1\n", ""), "sweep.yaml: seed: is required"),
    (GOOD.replace("seed: 1", "seed: -1"), "seed (line 19): must be a whole number from 0 to 2**63 - 1, got -1"),
    (GOOD.replace("seed: 1", "seed: 1.5"), "seed (line 19): must be a whole number"),
    (GOOD.replace("trials: 60", "trials: 0"), "trials (line 18): must be a whole number of trials per cell from 1"),
    (GOOD.replace("trials: 60", "trials: -5"), "trials (line 18): must be a whole number"),
    (GOOD.replace("trials: 60", "trials: 60.5"), "trials (line 18): must be a whole number"),
    (GOOD.replace("trials: 60", "trials: '60'"), "trials (line 18): is the text '60': write the number without quotes"),
    (GOOD.replace("trials: 60", "trials: true"), "trials (line 18): must be a whole number"),
    (GOOD.replace(GOOD[:GOOD.index("scenarios:")], "designs: []\n"), "designs (line 1): is empty"),
    (GOOD[:GOOD.index("scenarios:")] + "scenarios: []\ntrials: 5\nseed: 1\n", "scenarios (line 11): is empty"),
    (GOOD + "sample_sizes: []\n", "sample_sizes (line 20): is empty"),
    (GOOD + "sample_sizes: [10, 12.5]\n",
     "sample_sizes[2] (line 20): must be a whole number of cohorts >= 1, got 12.5"),
    (GOOD + "sample_sizes: [10, '12']\n",
     "sample_sizes[2] (line 20): is the text '12': write the number without quotes"),
    (GOOD + "sample_sizes: [0]\n", "sample_sizes[1] (line 20): must be a whole number of cohorts >= 1, got 0"),
    (GOOD + "sample_sizes: [10, 10]\n", "sample_sizes[2] (line 20): the number of cohorts 10 is given twice"),
    (GOOD + "sample_sizes: [10]\n",
     "designs['3+3'] (line 5): sample_sizes sets the number of cohorts, but 3+3 has no n_cohorts"),
    (_edit("name: boin\n    target: 0.3\n    n_doses: 4", "name: boin\n    target: 0.3\n    n_doses: 4\n"
                                                         "    n_cohorts: 8") + "sample_sizes: [10]\n",
     "designs['boin'].n_cohorts (line 5): sample_sizes sets each design's number of cohorts"),
    ("trials: 5\ntrials: 6\n", "the key 'trials' is given twice"),
    ("- 1\n- 2\n", "expected a mapping of settings"),
    ("", "is empty; a sweep file sets designs"),
])
def test_a_mistake_in_the_sweep_file_is_one_line_naming_the_entry_and_the_line(tmp_path, capsys, text, expected):
    code, err = _sweep(tmp_path, capsys, text)
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"adcbridge: error: {tmp_path / 'sweep.yaml'}"), err
    assert expected in err, err
    assert not PYDANTIC.search(err), err
    assert not (tmp_path / "out").exists()


def test_a_sweep_built_in_python_has_the_same_messages():
    from adcbridge.sweep import SweepFile
    with pytest.raises(ValueError, match=r"^scenarios\['high'\]\.p_true\[2\]: must be a number in \[0, 1\], "
                                         r"got 'x'$"):
        SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 2}],
                  scenarios=[{"name": "high", "p_true": [0.1, "x"]}], trials=5, seed=1)
    with pytest.raises(ValueError) as info:
        SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 2}],
                  scenarios=[{"name": "high", "p_true": [[0.1], [0.2, 0.3]]}], trials=5, seed=1)
    assert str(info.value).startswith("scenarios['high'].p_true[2]: has 2 probabilities, row 1 has 1")
    assert not PYDANTIC.search(str(info.value))


# ----------------------------------------------------------------------------------------------------- --force
def _out(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(GOOD)
    return path


def test_force_replaces_a_previous_sweeps_output(tmp_path, capsys):
    path = _out(tmp_path, capsys)
    out = tmp_path / "out"
    assert run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet")[0] == 0
    first = (out / "sweep.json").read_bytes()
    path.write_text(GOOD.replace("seed: 1", "seed: 2"))
    code, _, err = run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet", "--force")
    assert code == 0, err
    assert (out / "sweep.json").read_bytes() != first and json.loads((out / "sweep.json").read_text())["seed"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "sweep", path, "--out", empty, "--workers", "0", "--quiet", "--force")
    assert code == 0 and (empty / "results.parquet").exists(), err


@pytest.mark.parametrize("make,why", [
    (lambda d: (d / "notes.txt").write_text("my notes"), "this one holds notes.txt"),
    (lambda d: (d / "data").mkdir(), "this one holds data"),
    (lambda d: (d / "sweep.json").write_text('{"mine": 1}'), "has no sweep.json of a sweep"),
    (lambda d: (d / "results.parquet").write_text("x"), "has no sweep.json of a sweep"),
])
def test_force_refuses_a_folder_that_is_not_a_sweeps_output(tmp_path, capsys, make, why):
    path = _out(tmp_path, capsys)
    folder = tmp_path / "mine"
    folder.mkdir()
    make(folder)
    before = sorted(p.name for p in folder.iterdir())
    code, _, err = run(capsys, "sweep", path, "--out", folder, "--workers", "0", "--quiet", "--force")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{folder}: --force replaces only a folder written by adcbridge sweep" in err and why in err, err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_force_refuses_a_sweep_folder_with_a_file_added(tmp_path, capsys):
    path = _out(tmp_path, capsys)
    out = tmp_path / "out"
    assert run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet")[0] == 0
    (out / "analysis.R").write_text("library(BOIN)")
    code, _, err = run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet", "--force")
    assert code == 2 and "holds analysis.R" in err
    assert (out / "analysis.R").exists() and (out / "sweep.json").exists()


def test_write_sweep_checks_the_folder_too(tmp_path):
    from adcbridge.sweep import SweepFile, run_sweep, write_sweep
    result = run_sweep(SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 2}],
                                 scenarios=[{"name": "S", "p_true": [0.1, 0.3]}], trials=20, seed=1), workers=0)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "keep.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="holds keep.csv"):
        write_sweep(result, folder, force=True)
    assert (folder / "keep.csv").exists()


def test_write_sweep_replaces_a_previous_sweep_and_checks_again_just_before(tmp_path, monkeypatch):
    from adcbridge.sweep import SweepFile, run_sweep, summary, write_sweep
    result = run_sweep(SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 2}],
                                 scenarios=[{"name": "S", "p_true": [0.1, 0.3]}], trials=20, seed=1), workers=0)
    out = tmp_path / "out"
    out.mkdir()
    write_sweep(result, out, force=True)                                   # an empty folder
    (out / "summary.html").write_text("edited")
    write_sweep(result, out, force=True)                                   # a previous sweep: replaced
    assert (out / "summary.html").read_text() != "edited"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    html = summary.summary_html

    def meanwhile(*args):
        (out / "notes.txt").write_text("written meanwhile")
        return html(*args)
    monkeypatch.setattr(summary, "summary_html", meanwhile)
    with pytest.raises(ValueError, match="adcbridge sweep, and this one holds notes.txt; choose another folder"):
        write_sweep(result, out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {**before, "notes.txt": b"written meanwhile"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_force_refuses_a_link_to_a_sweeps_output(tmp_path, capsys):
    path = _out(tmp_path, capsys)
    out = tmp_path / "out"
    assert run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet")[0] == 0
    link = tmp_path / "link"
    link.symlink_to(out)
    code, _, err = run(capsys, "sweep", path, "--out", link, "--workers", "0", "--quiet", "--force")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{link}: is a link; --force replaces only a folder written by adcbridge sweep" in err
    assert link.is_symlink() and sorted(p.name for p in out.iterdir()) == ["results.parquet", "summary.html",
                                                                          "sweep.json"]


# ------------------------------------------------------------------------------------------------- --scheduler
@pytest.mark.parametrize("address,words", [
    ("notanaddress", "expects the address of a running Dask scheduler, tcp://HOST:PORT"),
    ("tcp://127.0.0.1", "expects the address of a running Dask scheduler, tcp://HOST:PORT"),
    ("http://127.0.0.1:8786", "expects tcp://HOST:PORT (or tls://, ws://, wss://), got the scheme 'http'"),
    ("tcp://127.0.0.1:70000", "expects a port from 1 to 65535"),
    ("  ", "is empty"),
])
def test_a_bad_scheduler_address_names_the_flag_and_the_form(tmp_path, capsys, address, words):
    path = _out(tmp_path, capsys)
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", address)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "'--scheduler'" in err and words in err, err
    assert not (tmp_path / "o").exists()


def test_run_sweep_refuses_a_bad_address_before_any_work():
    from adcbridge.sweep import SweepFile, run_sweep
    sweep = SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 2}],
                      scenarios=[{"name": "S", "p_true": [0.1, 0.3]}], trials=20, seed=1)
    with pytest.raises(ValueError, match="the scheduler address expects .*tcp://HOST:PORT"):
        run_sweep(sweep, scheduler="notanaddress")


def test_more_local_workers_than_four_per_cpu_are_refused_before_any_work(tmp_path):
    """--workers 1000000 used to start processes until memory ran out, printing nothing."""
    import os

    from adcbridge.sweep import SweepFile, run_sweep
    sweep = SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 3}],
                      scenarios=[{"name": "A", "p_true": [0.1, 0.2, 0.3]}], trials=100, seed=1)
    too_many = 4 * (os.cpu_count() or 1) + 1
    with pytest.raises(ValueError, match=f"--workers {too_many}: a local cluster has at most"):
        run_sweep(sweep, workers=too_many)


def test_the_sweep_docs_example_runs(tmp_path):
    """The sweep file shown at the top of docs/sweep.md is a valid sweep (it once set sample_sizes with 3+3)."""
    import re
    from pathlib import Path

    import yaml

    from adcbridge.sweep import load_sweep, run_sweep
    docs = Path(__file__).resolve().parents[2] / "docs" / "sweep.md"
    if not docs.is_file():
        pytest.skip("no source checkout")
    text = re.search(r"```yaml\n(designs:.*?)```", docs.read_text(), re.S).group(1)
    data = yaml.safe_load(text)
    data["trials"] = 200
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    result = run_sweep(load_sweep(tmp_path / "s.yaml"), workers=0)
    assert len(result.records) == len(data["designs"]) * len(data["scenarios"])
