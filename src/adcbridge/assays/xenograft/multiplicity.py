"""Multiple comparisons: Dunnett's single-step adjustment of many-to-one contrasts, and Holm's step-down.

**Dunnett (single step)**, as R ``multcomp::glht(..., mcp(group = "Dunnett"))`` with ``adjusted("single-step")``:
the adjusted p value of contrast i is P(max_j |T_j| >= |t_i|) under the joint null, where T = Z / S with
Z ~ N(0, R) and S = 1 (normal, e.g. a mixed model's Wald z) or S ~ sqrt(chi2_nu / nu) (Student t with nu df).

For treatment-minus-control contrasts the group estimates are independent, so the correlations have the product
form R_ij = l_i l_j with l_i = sqrt(v_C / (v_C + v_i)) (v the variances of the control and treated estimates).
Conditional on the common control term, the contrasts are independent, and the probability is a one- (normal)
or two-dimensional (t) integral, evaluated here by adaptive quadrature to ~1e-12 -- deterministic, where
multcomp's ``mvtnorm`` uses randomised quasi-Monte Carlo (error ~1e-5, and it prints 0 for p < ~1e-10).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special, stats

__all__ = ["dunnett_adjusted_p", "holm"]


def _normal_tail(c: float, lam: np.ndarray) -> float:
    """P(max_i |Z_i| >= c) for Z_i = lam_i Z0 + sqrt(1 - lam_i^2) E_i: the trapezoid rule over Z0 on a fine grid
    (spectrally accurate for this smooth, rapidly decaying integrand) that covers the region z ~ c / lam."""
    if c > 38.0:                    # beyond double precision: the union (Bonferroni) bound is exact here
        return float(min(1.0, lam.size * 2 * special.ndtr(-c)))
    half = c / float(np.min(lam)) + 12.0
    z = np.linspace(-half, half, int(2 * half / 0.04) + 1)
    s = np.sqrt(1.0 - lam ** 2)
    outside = special.ndtr((-c + lam * z[:, None]) / s) + special.ndtr((-c - lam * z[:, None]) / s)
    with np.errstate(divide="ignore"):
        tail = -np.expm1(np.sum(np.log1p(-np.clip(outside, 0.0, 1.0)), axis=1))
    return float(np.trapezoid(tail * np.exp(-0.5 * z * z), z) / math.sqrt(2 * math.pi))


def _t_tail(c: float, lam: np.ndarray, df: float) -> float:
    """E_S[P(max_i |Z_i| >= c S)] with S = sqrt(chi2_df / df), integrated over u = ln S (adaptive quadrature on
    the range that holds all but ~1e-300 of S's distribution)."""
    logk = (df / 2) * math.log(df / 2) - special.gammaln(df / 2) + math.log(2.0)

    def f(u):
        s = math.exp(u)
        return _normal_tail(c * s, lam) * math.exp(logk + df * u - df * s * s / 2)

    lo = max(-700.0 / df, -40.0)
    hi = 0.5 * math.log(2 * 700.0 / df + 1.0)
    width = 1.0 / math.sqrt(2 * df)
    points = sorted({max(lo, -4 * width), 0.0, min(hi, 4 * width)})
    return integrate.quad(f, lo, hi, points=points, epsabs=1e-15, epsrel=1e-8, limit=200)[0]


def dunnett_adjusted_p(stat: np.ndarray, var_control: float, var_treated: np.ndarray,
                       df: float | None = None) -> np.ndarray:
    """Single-step adjusted two-sided p values of treatment-minus-control statistics ``stat`` (t or z).

    ``var_control`` and ``var_treated`` are the sampling variances (any common scale) of the control estimate and
    of each treated estimate; ``df=None`` uses the normal distribution (Wald z), otherwise Student t with ``df``."""
    stat = np.abs(np.asarray(stat, dtype=float))
    vt = np.asarray(var_treated, dtype=float)
    lam = np.sqrt(var_control / (var_control + vt))
    lam = np.minimum(lam, 1 - 1e-12)
    out = np.empty_like(stat)
    for i, c in enumerate(stat):
        if not np.isfinite(c):
            out[i] = np.nan
        elif stat.size == 1:
            out[i] = 2 * (stats.norm.sf(c) if df is None else stats.t.sf(c, df))
        else:
            out[i] = _normal_tail(c, lam) if df is None or not np.isfinite(df) else _t_tail(c, lam, df)
    return np.clip(out, 0.0, 1.0)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (R ``p.adjust(p, "holm")``); missing values are left out of the count."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out
