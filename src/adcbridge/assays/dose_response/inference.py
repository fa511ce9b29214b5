"""Effective doses, relative potency and parameter ratios from a fitted dose-response model.

All use the delta method on the fit's variance-covariance matrix V (the ``se`` flavour chosen in the spec unless
``vcov`` is given) and Student t quantiles on the residual degrees of freedom, as drc does for continuous data.

* **EDp** (:func:`effective_doses`): see :meth:`DoseResponseModel.effective_dose`.  SE = sqrt(g'Vg).  The delta
  interval is ED +- t SE; the log-scale interval (drc's ``"tfls"``) is exp(ln ED +- t SE/ED) (asymmetric, always
  positive).
* **Relative potency** (:func:`relative_potency`, drc's ``EDcomp``): R = ED_p1(curve 1) / ED_p2(curve 2), with
  gradient (g1 - R g2)/ED2, the t-test of H0: R = 1 (t = (R - 1)/SE), and three intervals: delta (R +- t SE),
  log scale (exp(ln R +- t SE/R)) and Fieller's: the set of R with (ED1 - R ED2)^2 <= t^2 (v11 - 2R v12 + R^2 v22),
  the roots of (ED2^2 - t^2 v22) R^2 - 2 (ED1 ED2 - t^2 v12) R + (ED1^2 - t^2 v11) = 0.  When
  ED2^2 <= t^2 v22 (ED2 not significantly different from 0) the Fieller set is unbounded and reported as missing.
* **Parameter comparisons** (:func:`compare_parameters`, drc's ``compParm``): ratios (``"/"``, t-test of
  ratio = 1) or differences (``"-"``, t-test of difference = 0) of one curve-specific parameter between curves.

Curve pairs default to every pair (i, j), i < j, in the fit's curve order (order of first appearance in the data);
drc orders ``EDcomp`` alphabetically and ``compParm`` by fitted parameter, so pass ``pairs`` to reproduce a drc
table.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from .fit import DoseResponseFit

__all__ = ["compare_parameters", "effective_doses", "fieller_interval", "relative_potency"]


def _quantile(fit, confidence: float | None) -> float:
    level = fit.spec.confidence if confidence is None else confidence
    if not 0 < level < 1:
        raise ValueError(f"confidence must be in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2, fit.df_residual))


def _curve_positions(fit, curves: Iterable[str] | None) -> list[int]:
    labels = list(fit.curves)
    if curves is None:
        return list(range(len(labels)))
    out = []
    for c in curves:
        if str(c) not in labels:
            raise ValueError(f"no curve {c!r}; the fit has curves {labels}")
        out.append(labels.index(str(c)))
    return out


def _ed_rows(fit, level: float, curve: int, type: str):
    """(estimate, gradient over the parameter vector) of one ED."""
    model = fit.dose_response_model
    theta = fit.curve_parameters_array()[curve]
    ed, g5 = model.effective_dose(level, theta, type=type)
    grad = np.zeros(len(fit.estimates))
    for j in range(5):
        pos = fit.index[curve, j]
        if pos >= 0:
            grad[pos] += g5[j]
    return float(ed), grad


def effective_doses(fit: DoseResponseFit, levels: Iterable[float] = (10, 50, 90), *, type: str = "relative",
                    curves: Iterable[str] | None = None, confidence: float | None = None,
                    vcov: str | None = None) -> pd.DataFrame:
    """EDp of each curve with delta-method SE and both intervals.

    Columns: ``curve``, ``level`` (p, or the response level for ``type="absolute"``), ``type``, ``estimate``,
    ``se``, ``ci_low``, ``ci_high`` (delta method), ``ci_low_log``, ``ci_high_log`` (log scale), ``label``
    (drc's row name ``e:<curve>:<p>``).  A level that the curve does not reach gives NaN."""
    V = fit.vcov(vcov)
    tq = _quantile(fit, confidence)
    rows = []
    for k in _curve_positions(fit, curves):
        for p in levels:
            ed, g = _ed_rows(fit, float(p), k, type)
            se = float(np.sqrt(g @ V @ g)) if np.isfinite(ed) else np.nan
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                lo_log, hi_log = np.exp(np.log(ed) - tq * se / ed), np.exp(np.log(ed) + tq * se / ed)
            rows.append({"curve": fit.curves[k], "level": float(p), "type": type, "estimate": ed, "se": se,
                         "ci_low": ed - tq * se, "ci_high": ed + tq * se, "ci_low_log": float(lo_log),
                         "ci_high_log": float(hi_log), "label": f"e:{fit.curves[k]}:{p:g}"})
    return pd.DataFrame(rows, columns=["curve", "level", "type", "estimate", "se", "ci_low", "ci_high",
                                       "ci_low_log", "ci_high_log", "label"])


def fieller_interval(a: float, b: float, v11: float, v22: float, v12: float, tq: float) -> tuple[float, float]:
    """Fieller's interval for a/b given var(a) = v11, var(b) = v22, cov = v12 and the quantile ``tq``; (nan, nan)
    when the set is unbounded (b not significantly different from 0)."""
    t2 = tq * tq
    qa = b * b - t2 * v22
    qb = a * b - t2 * v12
    qc = a * a - t2 * v11
    disc = qb * qb - qa * qc
    if qa <= 0 or disc < 0:
        return (np.nan, np.nan)
    root = np.sqrt(disc)
    return ((qb - root) / qa, (qb + root) / qa)


def _pairs(fit, pairs) -> list[tuple[int, int]]:
    labels = list(fit.curves)
    if pairs is None:
        return list(combinations(range(len(labels)), 2))
    out = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"a pair must name two curves, got {pair!r}")
        i, j = _curve_positions(fit, pair)
        if i == j:
            raise ValueError(f"a pair must name two different curves, got {pair!r}")
        out.append((i, j))
    return out


def relative_potency(fit: DoseResponseFit, levels: tuple[float, float] = (50, 50), *,
                     pairs: Iterable[tuple[str, str]] | None = None, confidence: float | None = None,
                     vcov: str | None = None) -> pd.DataFrame:
    """Relative potency R = ED_{levels[0]}(curve 1) / ED_{levels[1]}(curve 2) for curve pairs (drc ``EDcomp``).

    Long table, one row per pair and interval (``delta``, ``fieller``, ``log``): ``curve1``, ``curve2``,
    ``comparison`` (``"<curve1>/<curve2>:<p1>/<p2>"``), ``interval``, ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``t`` and ``p`` (H0: R = 1, two-sided).  Report it for parallel curves only (see the docs)."""
    if len(fit.curves) < 2:
        raise ValueError("relative potency needs a fit of at least two curves")
    p1, p2 = (float(v) for v in levels)
    V = fit.vcov(vcov)
    tq = _quantile(fit, confidence)
    rows = []
    for i, j in _pairs(fit, pairs):
        a, ga = _ed_rows(fit, p1, i, "relative")
        b, gb = _ed_rows(fit, p2, j, "relative")
        r = a / b
        g = (ga - r * gb) / b
        se = float(np.sqrt(g @ V @ g))
        t = (r - 1.0) / se
        pval = float(2 * stats.t.sf(abs(t), fit.df_residual))
        fl = fieller_interval(a, b, float(ga @ V @ ga), float(gb @ V @ gb), float(ga @ V @ gb), tq)
        base = {"curve1": fit.curves[i], "curve2": fit.curves[j],
                "comparison": f"{fit.curves[i]}/{fit.curves[j]}:{p1:g}/{p2:g}", "estimate": r, "se": se,
                "t": t, "p": pval}
        rows.append({**base, "interval": "delta", "ci_low": r - tq * se, "ci_high": r + tq * se})
        rows.append({**base, "interval": "fieller", "ci_low": fl[0], "ci_high": fl[1]})
        rows.append({**base, "interval": "log", "ci_low": float(np.exp(np.log(r) - tq * se / r)),
                     "ci_high": float(np.exp(np.log(r) + tq * se / r))})
    return pd.DataFrame(rows, columns=["curve1", "curve2", "comparison", "interval", "estimate", "se", "ci_low",
                                       "ci_high", "t", "p"])


def compare_parameters(fit: DoseResponseFit, parameter: str = "e", operator: str = "/", *,
                       pairs: Iterable[tuple[str, str]] | None = None, confidence: float | None = None,
                       vcov: str | None = None) -> pd.DataFrame:
    """Pairwise ratios (``"/"``) or differences (``"-"``) of a curve-specific parameter (drc ``compParm``).

    Columns: ``curve1``, ``curve2``, ``comparison`` (``"<curve1>/<curve2>"``), ``operator``, ``estimate``,
    ``se``, ``ci_low``, ``ci_high`` (delta method), ``t`` and ``p`` (H0: ratio = 1 or difference = 0)."""
    if operator not in ("/", "-"):
        raise ValueError(f"operator must be '/' or '-', got {operator!r}")
    if parameter not in ("b", "c", "d", "e", "f"):
        raise ValueError(f"parameter must be one of b, c, d, e, f; got {parameter!r}")
    j = "bcdef".index(parameter)
    positions = fit.index[:, j]
    if len(fit.curves) < 2 or positions.min() < 0 or len(set(positions.tolist())) < len(positions):
        raise ValueError(f"parameter {parameter!r} is not estimated separately for each curve in this fit")
    V = fit.vcov(vcov)
    tq = _quantile(fit, confidence)
    est = fit.estimates
    rows = []
    for i, k in _pairs(fit, pairs):
        a, b = est[positions[i]], est[positions[k]]
        g = np.zeros(len(est))
        if operator == "/":
            value = a / b
            g[positions[i]], g[positions[k]] = 1 / b, -a / b ** 2
            null = 1.0
        else:
            value = a - b
            g[positions[i]], g[positions[k]] = 1.0, -1.0
            null = 0.0
        se = float(np.sqrt(g @ V @ g))
        t = (value - null) / se
        rows.append({"curve1": fit.curves[i], "curve2": fit.curves[k],
                     "comparison": f"{fit.curves[i]}{operator}{fit.curves[k]}", "operator": operator,
                     "estimate": float(value), "se": se, "ci_low": value - tq * se, "ci_high": value + tq * se,
                     "t": float(t), "p": float(2 * stats.t.sf(abs(t), fit.df_residual))})
    return pd.DataFrame(rows, columns=["curve1", "curve2", "comparison", "operator", "estimate", "se", "ci_low",
                                       "ci_high", "t", "p"])
