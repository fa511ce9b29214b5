"""Sweeps: the sweep file's checks, the plan's seeds, exact pooling of chunks, the results table and the command.

The pooled mean and SE of a cell's chunks must be those of all its trials together (checked against numpy on the
per-trial values, a closed form), and the results must not depend on the runner (in-process here; Dask clusters in
``tests/app/test_sweep_dask.py``)."""

from __future__ import annotations

import json
from itertools import pairwise

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
    records = [_chunk_record(values[a:b], pct[a:b]) for a, b in pairwise(cuts)]
    pooled = pool_records(records, [b - a for a, b in pairwise(cuts)])
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
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4}, None]}, r"^designs\[2\]: must be a mapping.*got None"),
    ({"designs": [{"target": 0.3}]}, r"^designs\[1\]: has no 'name'"),
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4}] * 2}, "design 'boin' is given twice"),
    ({"designs": [{"name": "boin", "target": 0.3, "n_doses": 4, "cohortsize": 3}]},
     r"^designs\['boin'\]\.cohortsize: boin has no parameter 'cohortsize'; did you mean 'cohort_size'\?$"),
    ({"designs": [{"name": "bion", "target": 0.3, "n_doses": 4}]}, "unknown design 'bion'; did you mean 'boin'\\?$"),
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
    with pytest.raises(ValueError, match=r"s.yaml: trails \(line 10\): unknown key 'trails'; did you mean 'trials'\?$"):
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
    assert code == 2 and len(err.strip().splitlines()) == 1 and "scenarios['S1'].p_true[2] (line 11)" in err
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


# ------------------------------------------------------------------------------- pooling: every quantity by its rule
def _sd_chunk(values: np.ndarray) -> dict:
    """A chunk's record of a per-trial quantity with a mean (and SE) and an SD without SE (TITE-BOIN's duration)."""
    return {"design": "x", "duration_mean": float(values.mean()),
            "duration_sd": float(values.std(ddof=1)),
            "se": {"duration_mean": float(values.std(ddof=1) / np.sqrt(values.size))}}


def test_a_pooled_sd_is_the_sd_of_all_trials_not_the_mean_of_the_chunks_sds():
    rng = np.random.default_rng(5)
    # chunks with different means: averaging their SDs misses the spread between them
    parts = [rng.normal(10, 1, 4000), rng.normal(12, 1.5, 4000), rng.normal(11, 2, 2345)]
    pooled = pool_records([_sd_chunk(p) for p in parts], [p.size for p in parts])
    every = np.concatenate(parts)
    assert pooled["duration_sd"] == pytest.approx(every.std(ddof=1), rel=1e-12)
    assert pooled["duration_mean"] == pytest.approx(every.mean(), rel=1e-13)
    assert pooled["se"]["duration_mean"] == pytest.approx(every.std(ddof=1) / np.sqrt(every.size), rel=1e-12)
    assert "duration_sd" not in pooled["se"]


def _ratio_chunk(a: np.ndarray, b: np.ndarray, comoment: bool = False) -> dict:
    """As the designs write a ratio of means (TITE-BOIN's pca, comb-boin's patients_mtd_pct): 100 mean(a)/mean(b)
    with its delta-method SE, besides the mean number of patients ``n_mean`` (b) with its SE; with ``comoment``,
    the private co-moment ``sum((a - r b) (b - mean(b)))`` that sweep chunks carry."""
    from adcbridge.sweep.combine import RATIO_COMOMENT
    w = a.size
    r = a.mean() / b.mean()
    resid = a - r * b
    record = {"design": "x", "n_mean": float(b.mean()), "pca": float(100 * r),
              "patients_pct": [float(100 * a.mean() / b.mean())],
              "se": {"n_mean": float(b.std(ddof=1) / np.sqrt(w)),
                     "pca": float(100 * resid.std(ddof=1) / np.sqrt(w) / b.mean())}}
    if comoment:
        record[RATIO_COMOMENT] = {"pca": float(np.sum(resid * (b - b.mean())))}
    return record


@pytest.mark.parametrize("constant_b,comoment", [(True, False), (False, False), (False, True)])
def test_a_ratio_of_means_is_pooled_as_the_ratio_of_the_pooled_means(constant_b, comoment):
    rng = np.random.default_rng(8)
    cuts = [0, 3000, 6000, 7777]
    b = np.full(cuts[-1], 30.0) if constant_b else rng.integers(3, 31, cuts[-1]).astype(float)
    a = rng.binomial(b.astype(int), np.where(np.arange(cuts[-1]) < 3000, 0.3, 0.5)).astype(float)
    records = [_ratio_chunk(a[i:j], b[i:j], comoment) for i, j in pairwise(cuts)]
    pooled = pool_records(records, [j - i for i, j in pairwise(cuts)])
    r = a.sum() / b.sum()
    assert pooled["pca"] == pytest.approx(100 * r, rel=1e-12)
    assert pooled["patients_pct"][0] == pytest.approx(100 * r, rel=1e-12)
    one_run = 100 * (a - r * b).std(ddof=1) / np.sqrt(a.size) / b.mean()
    # exact when every trial has the same number of patients, or with the chunks' co-moments; otherwise within
    # the chunks' covariance term
    exact = constant_b or comoment
    assert pooled["se"]["pca"] == pytest.approx(one_run, rel=1e-10 if exact else 5e-3)
    if not exact:
        assert pooled["se"]["pca"] != pytest.approx(one_run, rel=1e-6)      # the term the co-moment supplies
    assert "_ratio_comoment" not in pooled


def test_a_quantity_without_a_pooling_rule_is_refused_not_averaged():
    from adcbridge.sweep.combine import check_poolable
    record = {"design": "new-design", "n_mean": 3.0, "se": {"n_mean": 0.1}, "median_duration": 12.0}
    with pytest.raises(ValueError, match="'median_duration', which has no Monte Carlo SE and no pooling rule"):
        check_poolable(record)
    with pytest.raises(ValueError, match="median_duration"):
        pool_records([record, {**record, "median_duration": 13.0}], [10, 10])
    base = {"design": "d", "n_mean": 3.0, "se": {"n_mean": 0.1}}
    with pytest.raises(ValueError, match="differ in 'q_true'"):
        pool_records([{**base, "q_true": [0.1]}, {**base, "q_true": [0.2]}], [10, 10])


DESIGN_CASES = {
    "boin": ({"target": 0.25, "n_doses": 4}, [0.05, 0.12, 0.25, 0.45], {}),
    "3+3": ({"n_doses": 4}, [0.05, 0.12, 0.25, 0.45], {}),
    "crm": ({"target": 0.25, "n_doses": 4}, [0.05, 0.12, 0.25, 0.45], {}),
    "tite-boin": ({"target": 0.25, "n_doses": 4}, [0.05, 0.12, 0.25, 0.45], {}),
    "boin12": ({"target": 0.3, "n_doses": 4, "efficacy_min": 0.25}, [0.05, 0.12, 0.25, 0.45],
               {"q_true": [0.2, 0.3, 0.4, 0.5]}),
    "boin-backfill": ({"target": 0.25, "n_doses": 4}, [0.05, 0.12, 0.25, 0.45], {"q_true": [0.2, 0.3, 0.4, 0.5]}),
    "comb-boin": ({"target": 0.3, "grid": [2, 3]}, [[0.05, 0.1, 0.2], [0.1, 0.2, 0.3]], {}),
    "comb-boin contour": ({"target": 0.3, "grid": [2, 3], "mtd_contour": True},
                          [[0.05, 0.1, 0.2], [0.1, 0.2, 0.3]], {}),
}


def test_every_registered_design_has_a_pooling_rule_for_everything_it_reports():
    from adcbridge.dosefinding.registry import build_design, design_names
    from adcbridge.sweep.combine import RATIO_COMOMENT, pooling_rule
    from adcbridge.sweep.run import simulate_chunk
    assert set(design_names()) <= {k.split()[0] for k in DESIGN_CASES}, "add the new design to DESIGN_CASES"
    for case, (options, p, truths) in DESIGN_CASES.items():
        design = build_design(case.split()[0], **options)
        ns = [150, 150, 97]
        records = [simulate_chunk(design, p, truths, 0.25 if case == "3+3" else None, n, seed)
                   for n, seed in zip(ns, (11, 12, 13))]
        pooled = pool_records(records, ns)                       # no key without a rule
        assert list(pooled) == [k for k in records[0] if k != RATIO_COMOMENT], case   # the private key left out
        assert pooled["n_trials"] == sum(ns)
        assert pooled["n_mean"] == pytest.approx(sum(n * r["n_mean"] for n, r in zip(ns, records)) / sum(ns))
        rules = {k: pooling_rule(k, records[0]) for k in records[0]}
        assert "mean" in rules.values(), case


@pytest.mark.parametrize("p", [[0.02, 0.05, 0.08, 0.12],      # low toxicity: every trial enrols every cohort
                               [0.25, 0.4, 0.5, 0.6]],         # toxic: trials stop early, N varies
                         ids=["same-n", "varying-n"])
def test_a_tite_boin_sweep_pools_like_one_run_over_all_its_trials(monkeypatch, p):
    """The pooled duration_sd, duration_mean with its SE, the ratios pca, poa and patients_pct of a TITE-BOIN sweep
    cut into several chunks equal numpy's over the per-trial values of all the chunks' trials together -- the
    ratios' SEs too when the number of patients varies between trials (the simulator's co-moments)."""
    from adcbridge.dosefinding.oc import true_mtd
    from adcbridge.dosefinding.tite.simulate import _chunk
    from adcbridge.dosefinding.tite.times import check_scenario
    from adcbridge.dosefinding.tite.trials import run_chunk
    from adcbridge.sweep import plan
    monkeypatch.setattr(plan, "CHUNK_TRIALS", 700)
    sweep = SweepFile(designs=[{"name": "tite-boin", "target": 0.3, "n_doses": 4}],
                      scenarios=[{"name": "low", "p_true": p}], trials=2000, seed=4)
    result = run_sweep(sweep, workers=0)
    cell, rec = result.cells[0], result.records[0]
    assert [c.trials for c in plan_sweep(sweep)[1]] == [700, 700, 600]
    design = cell.design
    rate, a1, a2, accrual = check_scenario(3.0, 0.5, 0.5, "poisson")
    dur, at, ab, nt, per_dose = [], [], [], [], []
    correct = true_mtd(np.asarray(p), 0.3, design.overly_toxic(0.3))
    above = np.arange(len(p)) > (correct.max() if correct.size else -1)
    for seed, size in zip(result.seeds[0], [700, 700, 600]):       # the chunks' trials, as the simulator runs them
        chunk = _chunk(design)
        for k, ss in enumerate(np.random.SeedSequence(seed).spawn(-(-size // chunk))):
            batch, _ = run_chunk(design, np.asarray(p), min(chunk, size - k * chunk), np.random.default_rng(ss),
                                 rate, a1, a2, accrual)
            n, _ = batch.final_counts()
            dur.append(batch.duration())
            nt.append(n.sum(axis=1).astype(float))
            at.append(n[:, correct].sum(axis=1).astype(float))
            ab.append(n[:, above].sum(axis=1).astype(float))
            per_dose.append(n.astype(float))
    dur, at, ab, nt, per_dose = map(np.concatenate, (dur, at, ab, nt, per_dose))
    assert dur.size == 2000 and (np.ptp(nt) == 0) == (p[0] < 0.1)
    assert rec["duration_mean"] == pytest.approx(dur.mean(), rel=1e-13)
    assert rec["duration_sd"] == pytest.approx(dur.std(ddof=1), rel=1e-10)
    assert rec["se"]["duration_mean"] == pytest.approx(dur.std(ddof=1) / np.sqrt(dur.size), rel=1e-10)
    r = at.sum() / nt.sum()
    assert rec["pca"] == pytest.approx(100 * r, rel=1e-12)
    assert rec["se"]["pca"] == pytest.approx(100 * (at - r * nt).std(ddof=1) / np.sqrt(at.size) / nt.mean(),
                                             rel=1e-9)
    r = ab.sum() / nt.sum()
    assert rec["poa"] == pytest.approx(100 * r, rel=1e-12)
    assert rec["se"]["poa"] == pytest.approx(100 * (ab - r * nt).std(ddof=1) / np.sqrt(ab.size) / nt.mean(),
                                             rel=1e-9)
    assert rec["patients_pct"] == pytest.approx(list(100 * per_dose.sum(axis=0) / nt.sum()), rel=1e-12)


TITE = SweepFile(designs=[{"name": "tite-boin", "target": 0.25, "n_doses": 4},
                          {"name": "boin", "target": 0.25, "n_doses": 4}],
                 scenarios=[{"name": "A", "p_true": [0.05, 0.12, 0.25, 0.45]},
                            {"name": "B", "p_true": [0.25, 0.35, 0.5, 0.6]}],
                 trials=CHUNK_TRIALS + 20_001, seed=7)


def test_chunks_finishing_in_any_order_give_the_same_bits(monkeypatch):
    import random

    import adcbridge.sweep.run as run_module
    from adcbridge.sweep import plan
    monkeypatch.setattr(plan, "CHUNK_TRIALS", 300)
    sweep = SweepFile(**{**TITE.model_dump(), "trials": 1000})
    reference = run_sweep(sweep, workers=0).records
    planned = run_module.plan_sweep

    def shuffled(s):
        cells, chunks = planned(s)
        chunks = list(chunks)
        random.Random(3).shuffle(chunks)
        return cells, chunks
    monkeypatch.setattr(run_module, "plan_sweep", shuffled)
    assert run_sweep(sweep, workers=0).records == reference


def test_the_results_do_not_depend_on_the_number_of_blas_threads():
    """A BLAS dot product sums in an order that depends on its threads (TITE-BOIN's sum of squared durations):
    each chunk runs with one BLAS thread, in this process as in Dask's worker processes."""
    from adcbridge.sweep.blas import blas_controls
    controls = blas_controls()
    if not controls:
        pytest.skip("no BLAS library here whose threads can be set")
    before = [get() for _, get in controls]
    try:
        runs = []
        for threads in (4, 1):
            for set_threads, _ in controls:
                set_threads(threads)
            runs.append(run_sweep(TITE, workers=0).records)
        assert [get() for _, get in controls] == [1] * len(controls)      # the guard restores the setting
    finally:
        for (set_threads, _), n in zip(controls, before):
            set_threads(n)
    assert runs[0] == runs[1]
