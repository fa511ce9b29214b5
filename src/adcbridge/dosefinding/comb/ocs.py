"""Operating characteristics of simulated combination BOIN trials (the numbers of BOIN 2.7.2 ``get.oc.comb``).

Per-dose quantities are J x K grids (rows = agent A): ``selection_pct`` (% of trials selecting the combination),
``patients_mean`` and ``dlt_mean``.  The **true MTD** of one-MTD trials is the set of combinations whose true DLT
probability is closest to the target and not above p_tox (``pcs`` sums their selection).

**MTD contour** (the waterfall design): a trial selects at most one combination per level of agent A (row), so
``selection_pct`` sums to at most 100 *in each row* (the whole grid to at most 100 J).  The **true contour** has,
in each row, the combinations of that row closest to the target and not above p_tox (none in a row whose closest
combinations are all above p_tox).  Per row (J lists, ``extra``):

* ``no_mtd_row_pct[a]``: % of trials selecting no combination at level a of A (trials stopped for safety, rows
  eliminated by the first subtrial, rows without an admissible combination); ``selection_pct`` summed over row
  a plus ``no_mtd_row_pct[a]`` is exactly 100;
* ``pcs_row[a]``: % of trials whose selection at level a is correct: a true MTD of row a when the row has one,
  nothing when it has none;

and over the grid: ``pcs``, % of trials whose whole selection is the true contour (every row correct, as
``pcs_row``; the reference's ``pcs.contour``), and ``no_mtd_pct``, % of trials selecting nothing in any row.
Design-specific keys (``extra``):

* one MTD: ``patients_mtd_pct``, % of all patients treated at the true MTD (the reference's ``npercent``);
* waterfall: ``no_mtd_row_pct``, ``pcs_row`` (above), ``patients_contour_pct``, ``patients_above_contour_pct``
  (combinations off the contour whose true probability exceeds the target) and ``patients_below_contour_pct``
  (the others), ratios of mean patients as the reference's ``npercent.contour``, ``npercent.above.contour``,
  ``npercent.below.contour``.

Standard errors (``se``): ``sd / sqrt(n_trials)`` of the per-trial values; for the ratios of means, the delta
method.  ``no_mtd_pct`` counts trials selecting nothing (the reference's ``percentstop``); ``stop_pct`` the trials
stopped for safety; ``early_stop_pct`` the one-MTD trials stopped by n_earlystop.
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, make_provenance

from ..oc import OperatingCharacteristics
from .simulate import END_SAFETY

__all__ = ["comb_oc", "true_cells"]


def true_cells(p: np.ndarray, target: float, toxic: float, contour: bool) -> np.ndarray:
    """(J, K) flags of the true MTD (closest to the target, not above ``toxic``), per row for a contour."""
    dist = np.abs(p - target)
    if contour:
        best = dist.min(axis=1, keepdims=True)
    else:
        best = dist.min()
    return (np.abs(dist - best) <= 1e-12) & (p <= toxic + 1e-12)


def _mean_se(v: np.ndarray):
    N = v.shape[0]
    mean = v.mean(axis=0)
    sd = v.std(axis=0, ddof=1) if N > 1 else np.zeros_like(mean)
    return mean, sd / np.sqrt(N)


def _ratio(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """100 mean(a) / mean(b) with its delta-method SE."""
    ma, mb = a.mean(), b.mean()
    if mb == 0:
        return float("nan"), float("nan")
    r = ma / mb
    resid = a - r * b
    sd = resid.std(ddof=1) if a.size > 1 else 0.0
    return 100 * r, 100 * sd / np.sqrt(a.size) / mb


def _comoment(a: np.ndarray, b: np.ndarray) -> float:
    """``sum((a - r b) * (b - mean(b)))`` at ``r = mean(a) / mean(b)``: what a sweep needs, besides the ratio and
    its SE, to pool runs of a ratio of means exactly (:mod:`adcbridge.sweep.moments`); elementwise products and
    numpy's sums, no BLAS dot, so the same bits whatever the thread count.  NaN when no patient was treated."""
    mb = b.mean()
    if not mb > 0:
        return float("nan")
    return float(((a - a.mean() / mb * b) * (b - mb)).sum())


def _grid(a) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in a)


def comb_oc(design, p: np.ndarray, runs, *, n_trials: int, seed: int, target: float) -> OperatingCharacteristics:
    J, K = design.grid
    n = np.concatenate([r.n for r in runs]).astype(float)
    y = np.concatenate([r.y for r in runs]).astype(float)
    sel = np.concatenate([r.selected for r in runs]).astype(float)
    early = np.concatenate([r.early for r in runs]).astype(float)
    safety = np.concatenate([r.end for r in runs]) == END_SAFETY
    sel_pct, sel_se = _mean_se(100 * sel)
    pts, pts_se = _mean_se(n)
    dlt, dlt_se = _mean_se(y)
    n_tot, y_tot = n.sum(axis=(1, 2)), y.sum(axis=(1, 2))
    none = 100.0 * (sel.sum(axis=(1, 2)) == 0)
    truth = true_cells(p, target, design.phi2, design.mtd_contour)
    if design.mtd_contour:
        has = truth.any(axis=1)
        row_ok = np.where(has[None, :], (sel * truth).sum(axis=2) == sel.sum(axis=2), sel.sum(axis=2) == 0)
        row_ok &= np.where(has[None, :], sel.sum(axis=2) == 1, True)
        correct = 100.0 * row_ok.all(axis=1)
    else:
        correct = 100.0 * (sel * truth).sum(axis=(1, 2)) if truth.any() else none
    over = ((n * (p > target)).sum(axis=(1, 2)))
    npts = design.max_sample_size
    per_trial = {"no_mtd_pct": none, "stop_pct": 100.0 * safety, "early_stop_pct": 100.0 * early,
                 "pcs": correct, "n_mean": n_tot, "dlt_total_mean": y_tot,
                 "overdose60_pct": 100.0 * (over > 0.6 * npts), "overdose80_pct": 100.0 * (over > 0.8 * npts)}
    vals, se = {}, {}
    for k, v in per_trial.items():
        m, s = _mean_se(v)
        vals[k], se[k] = float(m), float(s)
    if design.mtd_contour:
        vals["early_stop_pct"] = se["early_stop_pct"] = float("nan")
    se.update({"selection_pct": sel_se.tolist(), "patients_mean": pts_se.tolist(), "dlt_mean": dlt_se.tolist()})
    extra = {}
    if design.mtd_contour:
        # per level of agent A: no MTD selected in the row (the row's selection % plus this is 100), and the row's
        # selection is correct (a true MTD of the row; none when the row has none)
        for key, v in (("no_mtd_row_pct", 100.0 * (sel.sum(axis=2) == 0)), ("pcs_row", 100.0 * row_ok)):
            m, s = _mean_se(v)
            extra[key], se[key] = m.tolist(), s.tolist()
        above = (p > target + 1e-12) & ~truth
        masks = {"patients_contour_pct": truth, "patients_above_contour_pct": above,
                 "patients_below_contour_pct": ~truth & ~above}
    else:
        masks = {"patients_mtd_pct": truth}
    comoments = {}
    for key, mask in masks.items():
        a = (n * mask).sum(axis=(1, 2))
        extra[key], se[key] = _ratio(a, n_tot)
        comoments[key] = _comoment(a, n_tot)
    a_idx, b_idx = np.divmod(np.arange(J * K), K)
    table = ColumnTable({             # a DataFrame only when someone reads ``oc.table`` (fast start-up)
        "dose": [f"({a + 1}, {b + 1})" for a, b in zip(a_idx, b_idx)],
        "dose_a": a_idx + 1, "dose_b": b_idx + 1,
        "dose_label": design.dose_labels() or [f"({a + 1}, {b + 1})" for a, b in zip(a_idx, b_idx)],
        "p_true": p.ravel(), "true_mtd": truth.ravel(),
        "selection_pct": sel_pct.ravel(), "selection_se": sel_se.ravel(),
        "patients_mean": pts.ravel(), "patients_se": pts_se.ravel(),
        "dlt_mean": dlt.ravel(), "dlt_se": dlt_se.ravel(),
    })
    return OperatingCharacteristics(
        spec=design, table=table, provenance=make_provenance(design, p, n_trials, seed=seed), method="monte-carlo",
        design=design.spec_name, target=float(target), p_true=_grid(p), n_trials=n_trials, seed=seed,
        selection_pct=_grid(sel_pct), patients_mean=_grid(pts), dlt_mean=_grid(dlt), se=se, extra=extra,
        ratio_comoments=comoments, **vals)
