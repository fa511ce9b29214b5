"""Pooling the operating characteristics of a cell's chunks into the cell's: every quantity by its own rule.

A chunk's record (the record body of its operating characteristics) holds four kinds of quantity, and each is
pooled so that the result is that of all the cell's trials together:

* **a mean over trials with its Monte Carlo SE** (``selection_pct``, ``pcs``, ``n_mean``, ``duration_mean``, ...;
  every key of ``se`` except the ratios below): the SE is ``sd / sqrt(n)`` with the sample SD, so the chunk's
  sum of squared deviations is ``(n - 1) * n * se**2``; the pooled mean is ``sum(n * mean) / N`` and the pooled
  variance ``(sum((n - 1) * n * se**2) + sum(n * (mean - pooled mean)**2)) / (N - 1)`` -- exactly the mean and
  SE of the N trials in one run (the law of total variance; no cancellation of large sums of squares).
* **a standard deviation over trials** without an SE of its own (``duration_sd`` of TITE-BOIN, with its mean
  ``duration_mean``): the same pooled variance from each chunk's n, mean and SD.  Averaging the chunks' SDs would
  be wrong (it ignores the spread between the chunks' means, and an SD is not additive).
* **a ratio of means** ``100 x mean(a) / mean(b)`` over the trial's number of patients ``b`` (``n_mean``):
  ``patients_pct``, TITE-BOIN's ``pca`` and ``poa``, the combination design's ``patients_mtd_pct`` and contour
  shares.  The pooled ratio is ``sum(n * mean(b) * ratio) / sum(n * mean(b))``, exactly the ratio of the pooled
  means (a plain average of the chunks' ratios is not).  Its delta-method SE is that of one run over all the
  trials, ``100 sqrt(S / (N (N - 1))) / mean(b)`` with ``S = sum((a - r b)**2)`` over every trial at the pooled
  ratio ``r``.  A chunk of ratio ``r_c`` holds ``S_c = sum((a - r_c b)**2) = (n - 1) * n * (se * mean(b))**2``
  (its SE), ``sum(b**2)`` (from ``n_mean`` and its SE) and, when it carries it, the co-moment
  ``C_c = sum((a - r_c b) * (b - mean(b)))`` of its residuals with the number of patients
  (:data:`RATIO_COMOMENT`, a private key of the chunk records that :func:`.run.simulate_chunk` adds and the
  pooled record leaves out); then ``S = sum(S_c + 2 (r_c - r) C_c + (r_c - r)**2 sum(b**2))`` exactly.  Without
  the co-moment (a chunk that does not carry it) the cross term is left out: exact when every trial has the same
  number of patients, otherwise short by a relative error of order ``1 / sqrt(chunk size)`` of the SE.
* **a setting of the scenario** (``design``, ``target``, ``p_true``, ``q_true``, ``scenario``, ``true_mtd``, ...):
  the same in every chunk, kept as it is (chunks that differ are an error).

A quantity of any other kind is refused (:func:`check_poolable`, run on every cell's two-trial check before the
sweep starts): nothing is averaged by default.  The chunks are pooled in their index order, whatever order the
workers finished them in, with sums taken in that fixed order, so the pooled numbers are the same bits on every
runner.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["RATIO_COMOMENT", "check_poolable", "pool_records", "pooling_rule"]

#: settings of the scenario, the same in every chunk
CONSTANT = frozenset({"design", "method", "target", "p_true", "q_true", "scenario", "accrual", "accrual_rate",
                      "true_mtd", "true_obd", "true_utility", "favourable_doses"})
#: ratios of means, 100 x mean(a) / mean(patients per trial): pooled with the denominator ``n_mean``
RATIO_OF_MEANS = frozenset({"patients_pct", "pca", "poa", "patients_mtd_pct", "patients_contour_pct",
                            "patients_above_contour_pct", "patients_below_contour_pct"})
RATIO_DENOMINATOR = "n_mean"
#: a chunk record's private key: per ratio key, the co-moment ``sum((a - r_c b) * (b - mean(b)))`` of its trials'
#: residuals with their numbers of patients (a number, or a list as the ratio); used in pooling, never written
RATIO_COMOMENT = "_ratio_comoment"
#: standard deviations over trials: key -> the key of the mean
SD_OF = {"duration_sd": "duration_mean"}
_BOOKKEEPING = ("se", "seed", "n_trials")


def pooling_rule(key: str, record: dict) -> str:
    """How ``key`` of a chunk's ``record`` is pooled: ``"mean"``, ``"sd"``, ``"ratio"``, ``"constant"``,
    ``"bookkeeping"`` or ``"private"`` (:data:`RATIO_COMOMENT`: used, then left out; see the module docstring); a
    ValueError for a key without a rule."""
    if key in _BOOKKEEPING:
        return "bookkeeping"
    if key == RATIO_COMOMENT:
        return "private"
    if key in RATIO_OF_MEANS:
        return "ratio"
    if key in SD_OF:
        return "sd"
    if key in (record.get("se") or {}):
        return "mean"
    if key in CONSTANT:
        return "constant"
    raise ValueError(f"design {record.get('design')!r} reports {key!r}, which has no Monte Carlo SE and no pooling "
                     f"rule in adcbridge.sweep.combine, so a sweep cannot pool it exactly")


def check_poolable(record: dict) -> None:
    """Refuse (a ValueError) a chunk record with a quantity the sweep cannot pool exactly."""
    for key in record:
        rule = pooling_rule(key, record)
        if rule == "ratio" and (RATIO_DENOMINATOR not in record
                                or RATIO_DENOMINATOR not in (record.get("se") or {})):
            raise ValueError(f"design {record.get('design')!r} reports the ratio {key!r} without "
                             f"{RATIO_DENOMINATOR!r} and its SE, so a sweep cannot pool it")
        if rule == "sd" and SD_OF[key] not in record:
            raise ValueError(f"design {record.get('design')!r} reports the SD {key!r} without its mean "
                             f"{SD_OF[key]!r}, so a sweep cannot pool it")
        if rule == "private":
            stray = [k for k in record[key] if k not in RATIO_OF_MEANS or k not in record]
            if stray:
                raise ValueError(f"a chunk record of design {record.get('design')!r} carries the co-moment of "
                                 f"{stray[0]!r}, which is not one of its ratios of means")


def _array(value) -> np.ndarray:
    def clean(v):
        if isinstance(v, list):
            return [clean(x) for x in v]
        return np.nan if v is None else v
    return np.asarray(clean(value), dtype=float)


def _listed(a: np.ndarray):
    def fix(v):
        if isinstance(v, list):
            return [fix(x) for x in v]
        return None if not math.isfinite(v) else float(v)
    return fix(a.tolist())


def _out(a: np.ndarray, like):
    return _listed(a) if isinstance(like, list) else _listed(np.asarray(a, dtype=float).reshape(()))


def _sum(terms) -> np.ndarray:
    """The sum of ``terms`` in their order (chunk-index order: the same bits on every runner)."""
    total = None
    for t in terms:
        total = t if total is None else total + t
    return total


def _pool_mean(means, ses, ns, N):
    mean = _sum(n * m for n, m in zip(ns, means)) / N
    within = _sum((n - 1) * n * s * s for n, s in zip(ns, ses))
    between = _sum(n * (m - mean) ** 2 for n, m in zip(ns, means))
    var = np.maximum((within + between) / (N - 1), 0.0)
    return mean, np.sqrt(var / N)


def _pool_sd(means, sds, ns, N):
    mean = _sum(n * m for n, m in zip(ns, means)) / N
    within = _sum((n - 1) * s * s for n, s in zip(ns, sds))
    between = _sum(n * (m - mean) ** 2 for n, m in zip(ns, means))
    return np.sqrt(np.maximum((within + between) / (N - 1), 0.0))


def _pool_ratio(ratios, ses, denominators, denominator_ses, ns, N, comoments=None):
    """Pooled ``100 mean(a) / mean(b)`` and (when ``ses`` is given) its delta-method SE (module docstring);
    ``comoments``: each chunk's co-moment ``sum((a - r_c b) * (b - mean(b)))`` (None: the cross term left out)."""
    weights = [n * b for n, b in zip(ns, denominators)]
    total = sum(weights)
    if not total > 0:
        nan = np.full(np.shape(ratios[0]), np.nan)
        return nan, (None if ses is None else nan)
    ratio = _sum(np.where(w > 0, w * r, 0.0) for w, r in zip(weights, ratios)) / total
    if ses is None:
        return ratio, None
    r = ratio / 100
    if comoments is None:
        comoments = [0.0] * len(ns)
    resid = _sum(np.where(n * b > 0, (n - 1) * n * (s / 100 * b) ** 2, 0.0)
                 + np.where(n * b > 0, (rc / 100 - r) ** 2, 0.0) * ((n - 1) * n * sb * sb + n * b * b)
                 + np.where(n * b > 0, 2 * (rc / 100 - r) * c, 0.0)
                 for n, b, sb, rc, s, c in zip(ns, denominators, denominator_ses, ratios, ses, comoments))
    mean_b = total / N
    return ratio, 100 * np.sqrt(np.maximum(resid, 0.0) / (N * (N - 1))) / mean_b


def _comoments(records: list[dict], key: str):
    """Each chunk's co-moment of the ratio ``key`` (arrays), or None unless every chunk carries it in full."""
    found = [(r.get(RATIO_COMOMENT) or {}).get(key) for r in records]
    if any(c is None for c in found):
        return None
    arrays = [_array(c) for c in found]
    return arrays if all(np.all(np.isfinite(c)) for c in arrays) else None


def pool_records(records: list[dict], ns: list[int]) -> dict:
    """The pooled record of a cell's chunk ``records`` (record bodies of operating characteristics, **in chunk
    index order**) of ``ns`` trials (see the module docstring)."""
    if len(records) != len(ns) or not records:
        raise ValueError("pool_records needs one trial count per chunk record, and at least one record")
    first = records[0]
    for record in records:
        check_poolable(record)
    if len(records) == 1:
        return {k: v for k, v in first.items() if k != RATIO_COMOMENT}
    N = float(sum(ns))
    ns = [float(n) for n in ns]
    se_first = first.get("se") or {}
    out: dict = {}
    pooled_se: dict = {}
    for key, value in first.items():
        rule = pooling_rule(key, first)
        if rule == "private":
            continue
        if rule == "bookkeeping":
            out[key] = value
        elif rule == "constant":
            if any(r.get(key) != value for r in records):
                raise ValueError(f"the chunks of a cell of design {first.get('design')!r} differ in {key!r}, a "
                                 f"setting of the scenario that must be the same in every chunk")
            out[key] = value
        elif rule == "mean":
            mean, se = _pool_mean([_array(r[key]) for r in records], [_array(r["se"][key]) for r in records], ns, N)
            out[key] = _out(mean, value)
            pooled_se[key] = _out(se, se_first[key])
        elif rule == "sd":
            mean_key = SD_OF[key]
            out[key] = _out(_pool_sd([_array(r[mean_key]) for r in records], [_array(r[key]) for r in records],
                                     ns, N), value)
        else:                                                       # a ratio of means
            has_se = key in se_first
            ratio, se = _pool_ratio([_array(r[key]) for r in records],
                                    [_array(r["se"][key]) for r in records] if has_se else None,
                                    [float(_array(r[RATIO_DENOMINATOR])) for r in records],
                                    [float(_array(r["se"][RATIO_DENOMINATOR])) for r in records], ns, N,
                                    _comoments(records, key) if has_se else None)
            out[key] = _out(ratio, value)
            if has_se:
                pooled_se[key] = _out(se, se_first[key])
    out["se"] = {k: pooled_se[k] for k in se_first if k in pooled_se}
    out["n_trials"] = int(N)
    return out
