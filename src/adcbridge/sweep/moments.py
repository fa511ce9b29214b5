"""The co-moments a chunk carries so that its ratios of means pool to the SE of one run over all the trials.

A ratio of means ``r = mean(a) / mean(b)`` (``b``: the trial's number of patients) has the delta-method SE
``sqrt(sum((a - r b)**2) / (N (N - 1))) / mean(b)``.  Pooling the chunks' sums of squared residuals at the pooled
ratio needs, besides what the chunk's record holds, the co-moment ``C = sum((a - r_c b) * (b - mean(b)))`` of the
chunk's residuals (at its own ratio ``r_c``) with the numbers of patients (:mod:`.combine`).  It is zero when every
trial has the same number of patients, and it is found in one of two ways:

* **from the simulator** (``ratio_comoments`` of the operating characteristics, never part of the record), where
  it keeps the trials or the sums that give it: TITE-BOIN's ``pca`` and ``poa`` (``sum(a b) - r sum(b**2)``), the
  combination design's ``patients_mtd_pct`` and contour shares (from its trials' patient counts);
* **from the record** (:func:`record_comoments`), for a ratio whose numerator is a mean of the record with its SE:
  ``patients_pct[j] = 100 patients_mean[j] / n_mean`` (BF-BOIN).  The SEs of the numerator, of ``n_mean`` and of
  the ratio give the three sample variances ``V(a)``, ``V(b)`` and ``V(a - r b)``, hence
  ``C = (n - 1) (V(a) - r**2 V(b) - V(a - r b)) / (2 r)`` (zero when ``r`` is zero: no patient ever there).

A ratio with neither leaves out the cross term in its pooled SE (:mod:`.combine`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["NUMERATOR_OF", "record_comoments"]

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

