"""Pooling the operating characteristics of a cell's chunks into the cell's, exactly.

Each chunk's record gives, for every quantity with a Monte Carlo standard error, the mean over its ``n`` trials
and the SE (``sd / sqrt(n)`` with the sample standard deviation; for percentages, of the 0/100 indicator).  From
these the chunk's sum and sum of squares are recovered, ``n * mean`` and ``(n - 1) * n * se**2 + n * mean**2``,
and the pooled mean and SE are those of all the cell's trials together -- the same numbers as one run over all of
them, up to rounding.  Chunks are pooled in their fixed order, so the result does not depend on which worker
finished first.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["pool_records"]

_CONSTANT = ("design", "method", "target", "p_true")


def _array(value) -> np.ndarray:
    def clean(v):
        if isinstance(v, list):
            return [clean(x) for x in v]
        return np.nan if v is None else v
    return np.asarray(clean(value), dtype=float)


def _listed(a: np.ndarray):
    out = a.tolist()

    def fix(v):
        if isinstance(v, list):
            return [fix(x) for x in v]
        return None if not math.isfinite(v) else float(v)
    return fix(out)


def pool_records(records: list[dict], ns: list[int]) -> dict:
    """The pooled record of chunks ``records`` (record bodies of operating characteristics) of ``ns`` trials."""
    if len(records) == 1:
        return dict(records[0])
    first = records[0]
    N = float(sum(ns))
    out = {k: first[k] for k in _CONSTANT if k in first}
    se_keys = list((first.get("se") or {}).keys())
    pooled_se = {}
    for key in se_keys:
        means = [_array(r[key]) for r in records]
        ses = [_array(r["se"][key]) for r in records]
        total = sum(n * m for n, m in zip(ns, means))
        total_sq = sum((n - 1) * n * s * s + n * m * m for n, m, s in zip(ns, means, ses))
        mean = total / N
        var = np.maximum((total_sq - N * mean * mean) / (N - 1), 0.0)
        out[key] = _listed(mean) if isinstance(first[key], list) else float(mean)
        pooled_se[key] = _listed(np.sqrt(var / N)) if isinstance(first[key], list) else float(np.sqrt(var / N))
    for key, value in first.items():
        if key in out or key in ("se", "seed", "n_trials"):
            continue
        values = [r.get(key) for r in records]
        if all(v == value for v in values):
            out[key] = value
        else:                     # a quantity without a standard error that varies by chunk: its pooled mean
            try:
                out[key] = _listed(sum(n * _array(v) for n, v in zip(ns, values)) / N)
            except (TypeError, ValueError):
                out[key] = value
    out["se"] = pooled_se
    out["n_trials"] = int(N)
    return out
