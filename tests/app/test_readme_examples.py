"""The README's command lines that use the shipped dose-finding examples (``src/adcbridge/examples/dosefinding/``)
run as written from the repository root: each is taken from the README's ``## Command line`` block (``\\``
continuations joined, ``#`` comments dropped) and run through the CLI in-process, exit status 0 and a decision of
the design named.  A line naming a file that is not shipped fails here.  The sweep's line is run with ``--workers 0``
(in this process, instead of starting a local Dask cluster: the numbers do not depend on the workers, docs/sweep.md)
and its ``--out`` in the test's folder."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.clirun import override, run

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLES = "src/adcbridge/examples/dosefinding/"
SHIPPED = ["crm_history.csv", "tite_history.csv", "comb_history.csv", "boin12_history.csv", "sweep.yaml"]

pytestmark = pytest.mark.skipif(not README.is_file(), reason="no source checkout")


def readme_commands() -> list[list[str]]:
    """The argument lists (without ``adcbridge``) of the README's command-line lines naming the examples."""
    text = README.read_text()
    block = text.split("## Command line", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        commands.append(current + line)
        current = ""
    assert current == "", "the command-line block ends in a continuation"
    out = []
    for command in commands:
        if "examples/dosefinding/" in command:
            args = shlex.split(command, comments=True)
            assert args[0] == "adcbridge", command
            out.append(args[1:])
    return out


def _by_file() -> dict[str, list[str]]:
    """The README's commands by the shipped file they name."""
    out = {}
    for args in readme_commands():
        named = [a for a in args if a.startswith(EXAMPLES)]
        assert len(named) == 1, args
        out[named[0][len(EXAMPLES):]] = args
    return out


def test_the_readme_names_every_shipped_example_and_each_file_exists():
    commands = _by_file()
    assert sorted(commands) == sorted(SHIPPED)
    for name in commands:
        assert (ROOT / EXAMPLES / name).is_file(), f"README.md names {EXAMPLES}{name}, which is not shipped"


HISTORIES = {       # file: (design, decision, next dose) of the README line
    "crm_history.csv": ("crm", "de-escalate", 3),
    "tite_history.csv": ("tite-boin", "escalate", 2),
    "comb_history.csv": ("comb-boin", "stay", [2, 3]),
    "boin12_history.csv": ("boin12", "escalate", 3),
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_readme_next_line_runs_as_written(name, monkeypatch, capsys):
    args = _by_file()[name]
    assert args[0] == "next" and args[args.index("--history") + 1] == EXAMPLES + name
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *args)                  # the line as written (text or JSON)
    assert code == 0 and err == "", err                  # no warning either (a patient pending past the window)
    design, decision, next_dose = HISTORIES[name]
    assert f"design: {design}" in out or f'"design": "{design}"' in out
    code, out, err = run(capsys, *override(args, "--format", "json"))
    assert code == 0, err
    record = json.loads(out)
    assert record["result_type"] == "NextDose" and record["design"] == design
    assert (record["decision"], record["next_dose"]) == (decision, next_dose)
    assert record["issues"] == []
    if isinstance(next_dose, list):                     # a combination (a, b) on the 3 x 5 grid
        assert record["spec"]["grid"] == [3, 5]
        assert all(1 <= level <= size for level, size in zip(record["next_dose"], record["spec"]["grid"]))
    else:
        assert 1 <= record["next_dose"] <= record["spec"]["n_doses"] == 5
    assert len(record["history"]) == sum(1 for _ in open(ROOT / EXAMPLES / name)) - 1


def test_readme_sweep_line_runs(tmp_path, monkeypatch, capsys):
    """The README's sweep line, with --workers 0 (in this process) and --out in tmp_path; 4 cells x 20,000 trials
    take a few seconds."""
    args = _by_file()["sweep.yaml"]
    assert args[:2] == ["sweep", EXAMPLES + "sweep.yaml"]
    monkeypatch.chdir(ROOT)
    out_dir = tmp_path / "sweep_dir"
    code, out, err = run(capsys, *override(args, "--out", out_dir, "--workers", "0"))
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["results.parquet", "summary.html", "sweep.json"]
    assert "4 cells x 20,000 trials" in out


def test_shipped_sweep_file_is_accepted_and_runs():
    """The shipped sweep.yaml is a valid sweep, small enough for an example; run here with 500 trials a cell."""
    from adcbridge.sweep import SweepFile, load_sweep, run_sweep

    sweep = load_sweep(ROOT / EXAMPLES / "sweep.yaml")
    assert [d["name"] for d in sweep.designs] == ["boin", "crm"] and len(sweep.scenarios) == 2
    assert sweep.trials <= 20_000
    small = SweepFile(**{**sweep.model_dump(), "trials": 500})
    result = run_sweep(small, workers=0)
    assert len(result.records) == 4
    for record in result.records:
        assert sum(record["selection_pct"]) + record["no_mtd_pct"] == pytest.approx(100)
