"""Sweeps: the sweep file's checks, the plan's seeds, exact pooling of chunks, the results table and the command.

The pooled mean and SE of a cell's chunks must be those of all its trials together (checked against numpy on the
per-trial values, a closed form), and the results must not depend on the runner (in-process here; Dask clusters in
``tests/app/test_sweep_dask.py``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from adcbridge.sweep import CHUNK_TRIALS, SweepFile, load_sweep, plan_sweep, run_sweep
from adcbridge.sweep.combine import pool_records
from tests.clirun import run

SWEEP = {
    "designs": [{"name": "boin", "target": 0.3, "n_doses": 4}, {"name": "3+3", "n_doses": 4}],
    "scenarios": [{"name": "S1", "p_true": [0.05, 0.15, 0.3, 0.5], "target": 0.3},
                  {"name": "S2", "p_true": [0.3, 0.45, 0.6, 0.7], "target": 0.3}],
    "trials": 2000, "seed": 11,
}


def _chunk_record(values: np.ndarray, pct: np.ndarray) -> dict:
    """A chunk's record as the OC code writes it: means, and SEs sd/sqrt(n) (percentages: of the indicator)."""
    n = values.size
    p = pct.mean() / 100
    return {"design": "x", "n_mean": float(values.mean()), "pcs": float(pct.mean()),
            "se": {"n_mean": float(values.std(ddof=1) / np.sqrt(n)),
                   "pcs": float(100 * np.sqrt(p * (1 - p) / (n - 1)))}}


def test_pooling_chunks_gives_the_mean_and_se_of_all_trials_together():
    rng = np.random.default_rng(3)
    values = rng.gamma(3.0, 4.0, size=12_345)
    pct = 100.0 * (rng.random(12_345) < 0.37)
    cuts = [0, 5000, 10_000, 12_345]
    records = [_chunk_record(values[a:b], pct[a:b]) for a, b in zip(cuts, cuts[1:])]
    pooled = pool_records(records, [b - a for a, b in zip(cuts, cuts[1:])])
    assert pooled["n_trials"] == values.size
    assert pooled["n_mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert pooled["se"]["n_mean"] == pytest.approx(values.std(ddof=1) / np.sqrt(values.size), rel=1e-9)
    assert pooled["pcs"] == pytest.approx(pct.mean(), rel=1e-12)
    assert pooled["se"]["pcs"] == pytest.approx(pct.std(ddof=1) / np.sqrt(pct.size), rel=1e-9)


def test_designs_of_a_scenario_share_chunk_seeds_and_chunks_depend_only_on_the_file():
    sweep = SweepFile(**{**SWEEP, "trials": 2 * CHUNK_TRIALS + 7})
    cells, chunks = plan_sweep(sweep)
    assert [(c.label, c.scenario) for c in cells] == [("boin", "S1"), ("boin", "S2"), ("3+3", "S1"), ("3+3", "S2")]
    by_cell = {c.index: [ch for ch in chunks if ch.cell == c.index] for c in cells}
    assert [ch.trials for ch in by_cell[0]] == [CHUNK_TRIALS, CHUNK_TRIALS, 7]
    assert [ch.seed for ch in by_cell[0]] == [ch.seed for ch in by_cell[2]]        # boin and 3+3 in S1
    assert [ch.seed for ch in by_cell[0]] != [ch.seed for ch in by_cell[1]]        # another scenario
    assert len({ch.seed for ch in by_cell[0]}) == 3
    again = plan_sweep(SweepFile(**{**SWEEP, "trials": 2 * CHUNK_TRIALS + 7}))[1]
    assert [ch.seed for ch in again] == [ch.seed for ch in chunks]


def test_a_sweep_in_process_matches_simulate_on_one_chunk():
    from adcbridge.dosefinding import boin, simulate
    result = run_sweep(SweepFile(**SWEEP), workers=0)
    _, chunks = plan_sweep(SweepFile(**SWEEP))
    direct = simulate(boin(0.3, 4), SWEEP["scenarios"][0]["p_true"], n_trials=2000, seed=chunks[0].seed,
                      target=0.3)
    assert result.records[0]["selection_pct"] == list(direct.selection_pct)
    assert result.records[0]["se"]["pcs"] == direct.se["pcs"]
    table = result.table()
    assert len(table) == 4 * 4
    assert list(table.columns[:6]) == ["design", "design_name", "scenario", "n_cohorts", "dose", "p_true"]
    s1 = table[(table["design"] == "boin") & (table["scenario"] == "S1")]
    assert s1["selection_pct"].sum() + s1["no_mtd_pct"].iloc[0] == pytest.approx(100.0)


def test_sample_sizes_set_each_designs_number_of_cohorts():
    sweep = SweepFile(**{**SWEEP, "designs": [SWEEP["designs"][0]], "sample_sizes": [6, 12], "trials": 500})
    result = run_sweep(sweep, workers=0)
    assert [c.design.n_cohorts for c in result.cells] == [6, 6, 12, 12]
    n = {(c.n_cohorts, c.scenario): r["n_mean"] for c, r in zip(result.cells, result.records)}
    assert n[(6, "S1")] <= 18 and n[(12, "S1")] > 18


@pytest.mark.parametrize("change,message", [
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4}, None]}, "entry 2 is None"),
    ({"designs": [{"target": 0.3}]}, "entry 1 has no 'name'"),
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4}] * 2}, "design 'boin' is given twice"),
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4, "cohortsize": 3}]}, "no parameter 'cohortsize'"),
    ({"designs": [{"name": "bion", "target": 0.3, "n_doses": 4}]}, "Unknown design 'bion'"),
    ({"scenarios": [{"name": "S1", "p_true": [0.1, 0.2, 0.3, 0.4], "q_true": [0.1, 0.2, 0.3, 0.4]}]},
     "no design of the sweep takes 'q_true'"),
    ({"scenarios": [{"name": "S1", "p_true": [0.1, 0.2, 0.3]}]}, "one probability per dose"),
    ({"sample_sizes": []}, "sample_sizes"),
    ({"sample_sizes": [10], "designs": [{"name": "3+3", "n_doses": 4}]}, "3\\+3 has no n_cohorts"),
    ({"trials": 0}, "trials"),
    ({"seed": -1}, "seed"),
])
def test_bad_sweeps_are_refused_naming_the_entry(change, message):
    with pytest.raises(ValueError, match=message):
        run_sweep(SweepFile(**{**SWEEP, **change}), workers=0)


def test_the_sweep_file_names_the_line_of_a_bad_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("designs:\n  - name: boin\n    target: 0.3\n    n_doses: 4\nscenarios:\n  - name: S1\n"
                    "    p_true: [0.1, 0.2, 0.3, 0.5]\ntrials: 100\nseed: 1\ntrails: 5\n")
    with pytest.raises(ValueError, match=r"s.yaml: field 'trails' \(line 10\)"):
        load_sweep(path)
    path.write_text("designs: []\ntrials: 1\ntrials: 2\n")
    with pytest.raises(ValueError, match="the key 'trials' is given twice"):
        load_sweep(path)


def test_the_command_writes_the_three_outputs_at_once(tmp_path, capsys):
    import yaml
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**SWEEP, "trials": 600}))
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet")
    assert code == 0, err
    assert "4 cells x 600 trials, seed 11, in-process" in stdout
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["design"]) == {"boin", "3+3"} and len(table) == 16
    record = json.loads((out / "sweep.json").read_text())
    assert record["seed"] == 11 and len(record["cells"][0]["chunk_seeds"]) == 1
    html = (out / "summary.html").read_text()
    assert "Scenario S1" in html and "<svg" in html and "PCS %" in html
    code, _, err = run(capsys, "sweep", path, "--out", out, "--workers", "0", "--quiet")
    assert code == 2 and "the output folder exists; give --force" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**SWEEP, "scenarios": [{"name": "S1", "p_true": [0.1, 2.0, 0.3, 0.4]}]}))
    code, _, err = run(capsys, "sweep", bad, "--out", tmp_path / "o2", "--workers", "0")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "scenario 'S1'" in err
    assert not (tmp_path / "o2").exists()
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "o3", "--workers", "2", "--scheduler",
                       "tcp://127.0.0.1:1")
    assert code == 2 and "--workers" in err


@pytest.mark.parametrize("change,message", [
    ({"scenarios": [{"name": "S1", "p_true": [0.05, 0.15, 0.3, 0.5], "target": 0.4}]}, "has its own \\(0.3\\)"),
    ({"trials": True}, "trials"),
    ({"seed": True}, "seed"),
    ({"scenarios": [{"name": "S1", "p_true": [0.05, True, 0.3, 0.5]}]}, "p_true"),
    ({"scenarios": [{"name": "S1", "p_true": [0.05, "0.15", 0.3, 0.5]}]}, "p_true"),
    ({"trials": "100"}, "trials"),
])
def test_no_silent_change_of_target_or_type(change, message):
    with pytest.raises(ValueError, match=message):
        run_sweep(SweepFile(**{**SWEEP, **change}), workers=0)
