"""Ratios of means pooled across a sweep's chunks when the number of patients varies between trials.

The delta-method SE of ``100 mean(a) / mean(b)`` over one run of N trials is
``100 sqrt(sum((a - r b)**2) / (N (N - 1))) / mean(b)``.  A sweep cut into chunks must give the same number (to
rounding) as that formula over all its trials together.  The per-trial values are got here by running each chunk's
trials as the design's simulator runs them (its chunk seed, its own chunking), and the true MTD / contour cells
are found with numpy from their definition -- not through the code under test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from adcbridge.sweep import SweepFile, plan_sweep, run_sweep
from adcbridge.sweep.combine import RATIO_COMOMENT, pool_records


def _one_run_se(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The single-run delta-method SE (percent) of 100 mean(a) / mean(b); ``a`` (trials,) or (trials, doses)."""
    r = a.sum(axis=0) / b.sum()
    resid = a - (r * b[:, None] if a.ndim == 2 else r * b)
    return 100 * resid.std(axis=0, ddof=1) / np.sqrt(b.size) / b.mean()


def _small_chunks(monkeypatch, size: int) -> None:
    from adcbridge.sweep import plan
    monkeypatch.setattr(plan, "CHUNK_TRIALS", size)


# --------------------------------------------------------------------------------------------------- BF-BOIN
BACKFILL = SweepFile(designs=[{"name": "boin-backfill", "target": 0.25, "n_doses": 4, "n_earlystop": 9}],
                     scenarios=[{"name": "A", "p_true": [0.05, 0.12, 0.25, 0.45], "q_true": [0.2, 0.3, 0.4, 0.5]}],
                     trials=2000, seed=21)


def _backfill_counts(design, p, q, seeds, sizes) -> np.ndarray:
    """Per-trial patients per dose (trials, doses) of the chunks, as ``simulate_backfill`` runs them."""
    from adcbridge.dosefinding.backfill.events import run_trials
    from adcbridge.dosefinding.backfill.simulate import CHUNK, check_scenario
    from adcbridge.dosefinding.backfill.timing import RandomDraws
    pp, qq, accrual, rate = check_scenario(design, p, q)
    counts = []
    for seed, size in zip(seeds, sizes):
        for k, child in enumerate(np.random.SeedSequence(seed).spawn(-(-size // CHUNK))):
            draws = RandomDraws(np.random.default_rng(child), pp, qq, design.dlt_window, accrual, rate)
            counts.append(run_trials(design, pp, draws, min(CHUNK, size - k * CHUNK)).n.astype(float))
    return np.concatenate(counts)


def test_a_backfill_sweeps_patients_pct_se_is_that_of_one_run_over_all_its_trials(monkeypatch):
    _small_chunks(monkeypatch, 700)
    result = run_sweep(BACKFILL, workers=0)
    sizes = [c.trials for c in plan_sweep(BACKFILL)[1]]
    assert sizes == [700, 700, 600]
    scenario = BACKFILL.scenarios[0]
    n = _backfill_counts(result.cells[0].design, scenario.p_true, scenario.truths["q_true"], result.seeds[0], sizes)
    b = n.sum(axis=1)
    assert n.shape == (2000, 4) and np.ptp(b) > 10                     # the sample size varies (stops, n_earlystop)
    rec = result.records[0]
    assert rec["n_mean"] == pytest.approx(b.mean(), rel=1e-13)
    assert rec["patients_pct"] == pytest.approx(list(100 * n.sum(axis=0) / b.sum()), rel=1e-12)
    assert rec["se"]["patients_pct"] == pytest.approx(list(_one_run_se(n, b)), rel=1e-9)
    assert RATIO_COMOMENT not in rec


def test_the_comoment_backed_out_of_a_record_is_the_trials_own():
    """BF-BOIN's record gives the numerator's, the denominator's and the ratio's SEs: the co-moment follows."""
    from adcbridge.sweep.moments import record_comoments
    rng = np.random.default_rng(2)
    n = rng.poisson([4.0, 6.0, 3.0, 0.4], size=(3000, 4)).astype(float)
    n[:, 3] *= rng.random(3000) < 0.05                                 # a dose seldom reached
    b = n.sum(axis=1)
    w = b.size
    r = n.mean(axis=0) / b.mean()
    resid = n - r * b[:, None]
    record = {"design": "x", "n_trials": w, "n_mean": float(b.mean()),
              "patients_mean": n.mean(axis=0).tolist(), "patients_pct": list(100 * r),
              "se": {"n_mean": float(b.std(ddof=1) / np.sqrt(w)),
                     "patients_mean": list(n.std(axis=0, ddof=1) / np.sqrt(w)),
                     "patients_pct": list(100 * resid.std(axis=0, ddof=1) / np.sqrt(w) / b.mean())}}
    expected = (resid * (b - b.mean())[:, None]).sum(axis=0)
    got = np.asarray(record_comoments(record)["patients_pct"])
    scale = np.sqrt((resid ** 2).sum(axis=0) * ((b - b.mean()) ** 2).sum())      # Cauchy-Schwarz bound
    assert np.all(np.abs(got - expected) <= 1e-10 * scale)
    # a ratio that is not the ratio of the record's means gets none
    assert record_comoments({**record, "patients_pct": list(100 * r * 1.01)}) == {}


# ----------------------------------------------------------------------------------------------- comb-BOIN
P_GRID = [[0.05, 0.10, 0.15], [0.10, 0.15, 0.30], [0.15, 0.30, 0.45]]
COMB = {"one MTD": {"name": "comb-boin", "target": 0.3, "grid": [3, 3], "n_cohorts": 10, "n_earlystop": 9},
        "contour": {"name": "comb-boin", "target": 0.3, "grid": [3, 3], "mtd_contour": True}}


def _truth_masks(p: np.ndarray, target: float, p_tox: float, contour: bool) -> dict[str, np.ndarray]:
    """The combinations each ratio counts, from the definitions (docs of comb-boin's OCs)."""
    dist = np.abs(p - target)
    best = dist.min(axis=1, keepdims=True) if contour else dist.min()
    truth = (np.abs(dist - best) <= 1e-12) & (p <= p_tox + 1e-12)
    if not contour:
        return {"patients_mtd_pct": truth}
    above = (p > target) & ~truth
    return {"patients_contour_pct": truth, "patients_above_contour_pct": above,
            "patients_below_contour_pct": ~truth & ~above}


@pytest.mark.parametrize("case", list(COMB))
def test_a_comb_boin_sweeps_ratio_ses_are_those_of_one_run_over_all_its_trials(monkeypatch, case):
    from adcbridge.dosefinding.comb.simulate import run_trials
    _small_chunks(monkeypatch, 700)
    sweep = SweepFile(designs=[COMB[case]], scenarios=[{"name": "A", "p_true": P_GRID}], trials=2000, seed=5)
    result = run_sweep(sweep, workers=0)
    sizes = [c.trials for c in plan_sweep(sweep)[1]]
    design, rec = result.cells[0].design, result.records[0]
    p = np.asarray(P_GRID)
    n = np.concatenate([run.n for seed, size in zip(result.seeds[0], sizes)
                        for run in run_trials(design, p, size, seed)]).astype(float)
    b = n.sum(axis=(1, 2))
    assert b.size == 2000 and np.ptp(b) > 5
    masks = _truth_masks(p, 0.3, design.phi2, design.mtd_contour)
    assert set(masks) <= set(rec) and masks[next(iter(masks))].sum() >= 2      # several cells: ties / a contour
    for key, mask in masks.items():
        a = (n * mask).sum(axis=(1, 2))
        assert rec[key] == pytest.approx(100 * a.sum() / b.sum(), rel=1e-12), key
        if a.any():
            assert rec["se"][key] == pytest.approx(float(_one_run_se(a, b)), rel=1e-9), key
        else:
            assert rec["se"][key] == 0.0, key
    assert RATIO_COMOMENT not in rec


@pytest.mark.parametrize("case", list(COMB))
def test_a_comb_boin_chunk_has_the_record_of_simulate(case):
    """A comb-BOIN chunk's record is simulate's, bit for bit, and carries the co-moments of every patient share
    (the simulator's ``ratio_comoments``) under the private key only."""
    from adcbridge.dosefinding import simulate
    from adcbridge.dosefinding.registry import build_design
    from adcbridge.results import json_ready
    from adcbridge.sweep.run import simulate_chunk
    options = {k: v for k, v in COMB[case].items() if k != "name"}
    design = build_design("comb-boin", **options)
    for target in (None, 0.3):
        chunk = simulate_chunk(design, P_GRID, {}, target, 333, 77)
        assert set(chunk[RATIO_COMOMENT]) == {k for k in chunk if k.startswith("patients_") and k.endswith("_pct")}
        direct = json_ready(simulate(design, P_GRID, n_trials=333, seed=77, target=target).record_body())
        assert json.dumps({k: v for k, v in chunk.items() if k != RATIO_COMOMENT}) == json.dumps(direct)


def test_the_private_comoments_never_reach_the_outputs(tmp_path, monkeypatch):
    from adcbridge.sweep import write_sweep
    _small_chunks(monkeypatch, 300)
    # one chunk (nothing pooled) and several chunks: neither the records nor sweep.json hold the private key
    for trials in (40, 700):
        result = run_sweep(SweepFile(**{**BACKFILL.model_dump(), "trials": trials}), workers=0)
        assert len(result.seeds[0]) == (1 if trials == 40 else 3)
        assert all(RATIO_COMOMENT not in r for r in result.records)
    out = write_sweep(result, tmp_path / "out")
    assert RATIO_COMOMENT not in (out / "sweep.json").read_text()


def test_pooling_without_comoments_in_every_chunk_leaves_the_cross_term_out():
    """A cell whose chunks do not all carry a ratio's co-moment falls back to the SE without the cross term."""
    rng = np.random.default_rng(4)
    b = rng.integers(3, 31, 3000).astype(float)
    a = rng.binomial(b.astype(int), 0.3).astype(float)

    def chunk(i, j, with_c):
        aa, bb = a[i:j], b[i:j]
        r = aa.mean() / bb.mean()
        rec = {"design": "x", "n_mean": float(bb.mean()), "pca": float(100 * r),
               "se": {"n_mean": float(bb.std(ddof=1) / np.sqrt(bb.size)),
                      "pca": float(100 * (aa - r * bb).std(ddof=1) / np.sqrt(bb.size) / bb.mean())}}
        if with_c:
            rec[RATIO_COMOMENT] = {"pca": float(np.sum((aa - r * bb) * (bb - bb.mean())))}
        return rec
    cuts = [(0, 1000), (1000, 2000), (2000, 3000)]
    every = pool_records([chunk(i, j, True) for i, j in cuts], [1000] * 3)
    some = pool_records([chunk(i, j, k != 1) for k, (i, j) in enumerate(cuts)], [1000] * 3)
    none = pool_records([chunk(i, j, False) for i, j in cuts], [1000] * 3)
    assert every["se"]["pca"] == pytest.approx(float(_one_run_se(a, b)), rel=1e-10)
    assert some["se"]["pca"] == none["se"]["pca"] != every["se"]["pca"]
