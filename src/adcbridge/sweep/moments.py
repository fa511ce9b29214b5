"""The co-moments a chunk carries so that its ratios of means pool to the SE of one run over all the trials.

A ratio of means ``r = mean(a) / mean(b)`` (``b``: the trial's number of patients) has the delta-method SE
``sqrt(sum((a - r b)**2) / (N (N - 1))) / mean(b)``.  Pooling the chunks' sums of squared residuals at the pooled
ratio needs, besides what the chunk's record holds, the co-moment ``C = sum((a - r_c b) * (b - mean(b)))`` of the
chunk's residuals (at its own ratio ``r_c``) with the numbers of patients (:mod:`.combine`).  It is zero when every
trial has the same number of patients, and it is found in one of three ways:

* **from the simulator** (``ratio_comoments`` of the operating characteristics), where it keeps the sums that give
  it (TITE-BOIN's ``pca`` and ``poa``: ``sum(a b) - r sum(b**2)``);
* **from the record** (:func:`record_comoments`), for a ratio whose numerator is a mean of the record with its SE:
  ``patients_pct[j] = 100 patients_mean[j] / n_mean`` (BF-BOIN).  The SEs of the numerator, of ``n_mean`` and of
  the ratio give the three sample variances ``V(a)``, ``V(b)`` and ``V(a - r b)``, hence
  ``C = (n - 1) (V(a) - r**2 V(b) - V(a - r b)) / (2 r)`` (zero when ``r`` is zero: no patient ever there).
* **from the trials** (:func:`comb_chunk`), for the combination design, whose ratios (``patients_mtd_pct``,
  the contour shares) sum the patients over sets of combinations: the chunk is simulated as
  :func:`adcbridge.dosefinding.simulate` does it (the same record, bit for bit) and the co-moments are computed
  from its trials' patient counts.  A ratio whose recomputed value is not the record's gets no co-moment.

A ratio with none of these leaves out the cross term in its pooled SE (:mod:`.combine`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["NUMERATOR_OF", "comb_chunk", "record_comoments"]

#: ratios of means whose numerator is a mean of the record (with its SE): ratio key -> numerator key
NUMERATOR_OF = {"patients_pct": "patients_mean"}
_DENOMINATOR = "n_mean"
_RTOL = 1e-12


def _values(value) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(value, dtype=object))], dtype=float)


def _shaped(c: np.ndarray, like):
    """``c`` as a number or a list, as the ratio ``like`` is written; None when a value is not finite."""
    if not np.all(np.isfinite(c)):
        return None
    return [float(v) for v in c] if isinstance(like, list) else float(c[0])


def record_comoments(record: dict) -> dict:
    """The co-moments of the ratios of ``record`` (a chunk's record body) whose numerator is a mean of the record
    with its SE (:data:`NUMERATOR_OF`), backed out of the SEs (see the module docstring)."""
    se = record.get("se") or {}
    n = record.get("n_trials")
    out: dict = {}
    if not isinstance(n, int) or n < 1 or _DENOMINATOR not in se or record.get(_DENOMINATOR) is None:
        return out
    b, se_b = float(record[_DENOMINATOR]), se[_DENOMINATOR]
    if se_b is None or not b > 0:
        return out
    for key, numerator in NUMERATOR_OF.items():
        if key not in record or key not in se or numerator not in record or numerator not in se:
            continue
        r = _values(record[key]) / 100
        mean_a, se_a, se_r = _values(record[numerator]), _values(se[numerator]), _values(se[key])
        if r.shape != mean_a.shape or not np.allclose(r * b, mean_a, rtol=_RTOL, atol=0.0):
            continue                                   # not the ratio of these means: nothing to back out
        var_a, var_b, var_e = n * se_a * se_a, n * float(se_b) ** 2, n * (se_r / 100 * b) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            cov_eb = np.where(r > 0, (var_a - r * r * var_b - var_e) / (2 * r), 0.0)
        out[key] = _shaped((n - 1) * cov_eb, record[key])
    return {k: v for k, v in out.items() if v is not None}


def _comoment(a: np.ndarray, b: np.ndarray) -> float:
    """``sum((a - r b) * (b - mean(b)))`` at ``r = mean(a) / mean(b)`` (elementwise products and numpy's sums: no
    BLAS dot, so the same bits whatever the thread count)."""
    mb = b.mean()
    if not mb > 0:
        return float("nan")
    r = a.mean() / mb
    return float(((a - r * b) * (b - mb)).sum())


def comb_chunk(design, p_true, target, trials: int, seed: int):
    """A combination design's chunk: its operating characteristics (those of
    ``adcbridge.dosefinding.simulate(design, p_true, n_trials=trials, seed=seed, target=target)``) and the
    co-moments of its ratios of means (see the module docstring)."""
    from adcbridge.dosefinding.comb.ocs import comb_oc, true_cells
    from adcbridge.dosefinding.comb.simulate import check_p_true, run_trials
    p = check_p_true(design, p_true)
    runs = run_trials(design, p, int(trials), int(seed))
    tgt = design.target if target is None else float(target)
    oc = comb_oc(design, p, runs, n_trials=int(trials), seed=int(seed), target=tgt)
    n = np.concatenate([r.n for r in runs]).astype(float)
    b = n.sum(axis=(1, 2))
    truth = true_cells(p, tgt, design.phi2, design.mtd_contour)
    if design.mtd_contour:
        above = (p > tgt + 1e-12) & ~truth
        masks = {"patients_contour_pct": truth, "patients_above_contour_pct": above,
                 "patients_below_contour_pct": ~truth & ~above}
    else:
        masks = {"patients_mtd_pct": truth}
    extra = oc.extra or {}
    comoments = {}
    for key, mask in masks.items():
        a = (n * mask).sum(axis=(1, 2))
        reported = extra.get(key)
        if reported is None or not b.mean() > 0:
            continue
        if not np.isclose(100 * a.mean() / b.mean(), reported, rtol=_RTOL, atol=0.0):
            continue                                   # the design's definition moved: no co-moment, no error
        c = _comoment(a, b)
        if np.isfinite(c):
            comoments[key] = c
    return oc, comoments
