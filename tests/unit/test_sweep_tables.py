"""The sweep's results table for drug combinations: one row per combination of the J x K grid, with its levels of
agents A and B, and the MTD contour's per-row quantities (one value per level of agent A) on every combination of
that row -- the values of ``sweep.json``, read back from ``results.parquet``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from adcbridge.sweep import SweepFile, run_sweep, write_sweep

GRID_A = [[0.05, 0.10, 0.20], [0.10, 0.20, 0.30]]
GRID_B = [[0.10, 0.25, 0.40], [0.30, 0.45, 0.60]]
SWEEP = SweepFile(designs=[{"name": "comb-boin", "label": "waterfall", "target": 0.3, "grid": [2, 3],
                            "mtd_contour": True},
                           {"name": "comb-boin", "label": "one-mtd", "target": 0.3, "grid": [2, 3]}],
                  scenarios=[{"name": "A", "p_true": GRID_A}, {"name": "B", "p_true": GRID_B}],
                  trials=900, seed=3)
ROW_KEYS = ("no_mtd_row_pct", "pcs_row")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    from adcbridge.sweep import plan
    out = tmp_path_factory.mktemp("sweep") / "out"
    saved = plan.CHUNK_TRIALS
    plan.CHUNK_TRIALS = 400                                   # three chunks a cell: pooled values
    try:
        write_sweep(run_sweep(SWEEP, workers=0), out)
    finally:
        plan.CHUNK_TRIALS = saved
    return pd.read_parquet(out / "results.parquet"), json.loads((out / "sweep.json").read_text())


def test_every_combination_is_a_row_with_its_levels(written):
    table, record = written
    assert len(table) == 2 * 2 * 6
    assert list(table.columns[:8]) == ["design", "design_name", "scenario", "n_cohorts", "dose", "dose_a", "dose_b",
                                       "p_true"]
    assert str(table["dose_a"].dtype) == "Int64" and str(table["dose_b"].dtype) == "Int64"
    assert (table["dose"] == table["dose_a"].astype(str) + "," + table["dose_b"].astype(str)).all()
    for cell in record["cells"]:
        rows = table[(table["design"] == cell["design"]) & (table["scenario"] == cell["scenario"])]
        p = np.asarray(cell["oc"]["p_true"])
        assert rows["p_true"].tolist() == [p[a - 1, b - 1] for a, b in zip(rows["dose_a"], rows["dose_b"])]
        assert rows["selection_pct"].tolist() == [cell["oc"]["selection_pct"][a - 1][b - 1]
                                                  for a, b in zip(rows["dose_a"], rows["dose_b"])]


def test_the_contours_per_row_quantities_are_on_the_combinations_of_their_row(written):
    table, record = written
    contour = [c for c in record["cells"] if c["design"] == "waterfall"]
    assert len(contour) == 2 and all(c["oc"]["n_trials"] == 900 for c in contour)
    for cell in contour:
        oc = cell["oc"]
        rows = table[(table["design"] == "waterfall") & (table["scenario"] == cell["scenario"])]
        for key in ROW_KEYS:
            assert len(oc[key]) == 2 and len(oc["se"][key]) == 2
            for a in (1, 2):
                in_row = rows[rows["dose_a"] == a]
                assert len(in_row) == 3
                assert (in_row[key] == oc[key][a - 1]).all(), key
                assert (in_row[f"{key}_se"] == oc["se"][key][a - 1]).all(), key
        # the table's own arithmetic: a row's selection % and its no-MTD % make 100
        by_row = rows.groupby("dose_a").agg(sel=("selection_pct", "sum"), none=("no_mtd_row_pct", "first"))
        assert (by_row["sel"] + by_row["none"]).tolist() == pytest.approx([100.0, 100.0])


def test_a_one_mtd_design_has_no_per_row_values(written):
    table, _ = written
    one = table[table["design"] == "one-mtd"]
    for key in ROW_KEYS:
        assert one[key].isna().all() and one[f"{key}_se"].isna().all()


def test_a_single_agent_table_has_no_combination_levels():
    sweep = SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 3}],
                      scenarios=[{"name": "S", "p_true": [0.1, 0.3, 0.5]}], trials=50, seed=1)
    table = run_sweep(sweep, workers=0).table()
    assert "dose_a" not in table and "dose_b" not in table
    assert table["dose"].tolist() == ["1", "2", "3"]


def test_each_row_names_the_target_its_cell_is_scored_against():
    """Designs with different targets may share a sweep (a sensitivity analysis); found tabulated together with
    nothing saying which target each PCS is against."""
    sweep = SweepFile(designs=[{"name": "boin", "target": 0.3, "n_doses": 3, "label": "boin30"},
                               {"name": "boin", "target": 0.25, "n_doses": 3, "label": "boin25"}],
                      scenarios=[{"name": "S", "p_true": [0.1, 0.3, 0.5]}], trials=50, seed=1)
    table = run_sweep(sweep, workers=0).table()
    assert table.groupby("design")["target"].first().to_dict() == {"boin30": 0.3, "boin25": 0.25}
    assert table.columns.tolist()[:7] == ["design", "design_name", "scenario", "n_cohorts", "dose", "p_true", "target"]
