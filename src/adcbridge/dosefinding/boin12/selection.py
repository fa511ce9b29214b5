"""Selection of the optimal biological dose (OBD) at the end of a BOIN12 trial, for many trials at once.

The rules of the reference (phase12designs 0.2.0, SPEC 7.5), reproduced:

1. **Toxicity**: raw ``(yT + 0.05) / (n + 0.1)`` for *all* doses (an untried dose counts as 0.5 with weight 0.1,
   eliminated doses take part), non-decreasing weighted PAVA with weights ``n + 0.1``, plus ``0.001 j``.
2. **Efficacy**: raw ``pe = (yE + 0.05) / (n + 0.1)``, weights ``n + 0.5``; for every mode m the unimodal fit
   f^(m) (:mod:`.unimodal`, Iso 0.0-18.1); likelihood ``L_m = prod_j Binom(yE_j; n_j, f^(m)_j)`` (an untried
   dose contributes 1); model weights ``L_m / sum L``; estimate ``sum_m pi_m f^(m)_j + 0.01 j``.  With
   ``efficacy_fit="isotonic"`` (what the same reference code gives with Iso >= 0.0-19): ``PAVA(pe, n + 0.5) +
   0.01 j``.
3. **Utility** ``u11 pE_j + u00 (1 - pT_j)``, set to -100 for eliminated (in-trial flags) and untried doses.
4. **Estimated MTD**: the dose whose toxicity estimate is closest to the target among *all* doses (first on ties).
5. **OBD**: the dose of highest utility among doses 1..MTD (first on ties).  When all of them are at -100 this
   is dose 1, even untried or eliminated (reference oddity B12-9, reproduced: it can only happen when a
   trial ends -- by its sample size -- with every dose up to the estimated MTD eliminated for futility).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..isotonic import pava_rows
from .unimodal import unimodal_fits

__all__ = ["ObdSelection", "select_obd", "UNUSABLE"]

#: the utility given to eliminated and untried doses
UNUSABLE = -100.0


@dataclass(frozen=True)
class ObdSelection:
    """Arrays over trials (B) and doses (J); ``obd`` and ``mtd`` are 0-based."""

    raw_tox: np.ndarray
    pava_tox: np.ndarray
    p_est: np.ndarray
    raw_eff: np.ndarray
    fits: np.ndarray | None          # (B, J modes, J doses); None for the isotonic fit
    likelihood: np.ndarray | None
    model_weight: np.ndarray | None
    q_est: np.ndarray
    utility: np.ndarray
    mtd: np.ndarray
    obd: np.ndarray


def _binomial_pmf(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """C(n, k) p^k (1-p)^(n-k) elementwise (whole arrays; 1 where n = 0)."""
    top = int(n.max()) if n.size else 0
    comb = _comb_table(top)
    return comb[n, k] * p ** k * (1.0 - p) ** (n - k)


@lru_cache(maxsize=8)
def _comb_table(top: int) -> np.ndarray:
    return np.array([[math.comb(m, j) for j in range(top + 1)] for m in range(top + 1)], dtype=float)


def select_obd(design, n, y_tox, y_eff, eliminated) -> ObdSelection:
    """The end-of-trial selection (module docstring) for counts of shape (B, J) and the in-trial elimination
    flags (B, J) (booleans)."""
    n = np.atleast_2d(np.asarray(n, dtype=np.int64))
    y_tox = np.atleast_2d(np.asarray(y_tox, dtype=np.int64))
    y_eff = np.atleast_2d(np.asarray(y_eff, dtype=np.int64))
    eliminated = np.atleast_2d(np.asarray(eliminated, dtype=bool))
    B, J = n.shape
    j = np.arange(1, J + 1)
    nf = n.astype(float)
    raw_tox = (y_tox + 0.05) / (nf + 0.1)
    pava_tox = pava_rows(raw_tox, np.broadcast_to(nf + 0.1, raw_tox.shape))
    p_est = pava_tox + 0.001 * j
    raw_eff = (y_eff + 0.05) / (nf + 0.1)
    w_eff = nf + 0.5
    fits = likelihood = model_weight = None
    if design.efficacy_fit == "unimodal":
        fits = unimodal_fits(raw_eff, w_eff)
        pmf = _binomial_pmf(y_eff[:, None, :], n[:, None, :], fits)
        likelihood = pmf[:, :, 0].copy()                 # products and sums column by column: J is small
        for d in range(1, J):
            likelihood *= pmf[:, :, d]
        total = likelihood[:, 0].copy()
        for m in range(1, J):
            total += likelihood[:, m]
        model_weight = likelihood / total[:, None]
        q_est = model_weight[:, 0:1] * fits[:, 0]
        for m in range(1, J):
            q_est = q_est + model_weight[:, m:m + 1] * fits[:, m]
        q_est = q_est + 0.01 * j
    else:
        q_est = pava_rows(raw_eff, w_eff) + 0.01 * j
    u11, u00 = design.utility
    utility = u11 * q_est + u00 * (1 - p_est)
    utility = np.where(eliminated | (n == 0), UNUSABLE, utility)
    dist = np.abs(p_est - design.target)
    mtd, best = np.zeros(B, dtype=np.int64), dist[:, 0].copy()
    obd, top = np.zeros(B, dtype=np.int64), utility[:, 0].copy()
    for d in range(1, J):                                # first minimum / first maximum (up to the MTD)
        closer = dist[:, d] < best
        mtd, best = np.where(closer, d, mtd), np.where(closer, dist[:, d], best)
    for d in range(1, J):
        better = (utility[:, d] > top) & (d <= mtd)
        obd, top = np.where(better, d, obd), np.where(better, utility[:, d], top)
    return ObdSelection(raw_tox, pava_tox, p_est, raw_eff, fits, likelihood, model_weight, q_est, utility, mtd, obd)
