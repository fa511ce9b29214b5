"""The count tables of a combination BOIN design: BOIN's single-agent boundaries, and the desirability scores of
the candidate combinations.

The boundaries are exactly BOIN's (:func:`adcbridge.dosefinding.boin.boundaries.count_tables`, computed for a
single-agent BOIN design with the same target, p_saf, p_tox, cutoff_eli, extrasafe and offset): for n patients at
a combination, escalate if ``y <= E(n)``, de-escalate if ``y >= D(n)`` (``y / n > lambda_d``), eliminate if
``y >= X(n)`` (``Pr(p > phi | Beta(y + 1, n - y + 1)) > cutoff_eli``, n >= 3), and with the extra safety rule stop
the trial if ``y >= S(n)`` at (1, 1).

The score of a candidate combination with n patients and y DLTs (Lin & Yin 2017; BOIN 2.7.2 ``next.comb``) is
``Pr(lambda_e < p < lambda_d | Beta(y + 0.5, n - y + 0.5)) + 0.0005 n``: the posterior probability (Jeffreys
prior) that its DLT rate lies in the target interval, plus a small bonus for combinations already treated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import betainc

from ..boin.boundaries import NEVER, count_tables
from ..boin.design import BoinDesign

__all__ = ["NEVER", "SCORE_BONUS", "SCORE_PRIOR", "CombTables", "comb_tables"]

SCORE_PRIOR = 0.5      # Jeffreys prior Beta(0.5, 0.5) of the scores
SCORE_BONUS = 0.0005   # bonus per treated patient


@dataclass(frozen=True)
class CombTables:
    """Thresholds indexed by n = 0..n_max (``NEVER`` where a count does not exist) and ``score[n, y]``."""

    lambda_e: float
    lambda_d: float
    escalate_le: np.ndarray      # E(n)
    deescalate_ge: np.ndarray    # D(n), capped at X(n)
    eliminate_ge: np.ndarray     # X(n)
    stop_lowest_ge: np.ndarray   # S(n)
    score: np.ndarray            # (n_max + 1, n_max + 1)
    direction: np.ndarray        # [n, y]: 0 escalate (y <= E(n)), 1 de-escalate (y >= D(n)), 2 stay
    hit: np.ndarray              # [n, y]: y >= X(n) (eliminates the quadrant)
    high: np.ndarray             # [n, y]: n > 0 and y / n >= lambda_d

    @property
    def n_max(self) -> int:
        return self.escalate_le.size - 1


def single_agent(design) -> BoinDesign:
    """The single-agent BOIN design whose boundaries the combination design uses."""
    return BoinDesign(target=design.target, n_doses=1, p_saf=design.p_saf, p_tox=design.p_tox,
                      cutoff_eli=design.cutoff_eli, extrasafe=design.extrasafe, offset=design.offset)


def comb_tables(design, n_max: int) -> CombTables:
    """The tables of ``design`` for n = 0..n_max (cached: designs are immutable)."""
    return _comb_tables(design.target, design.p_saf, design.p_tox, design.cutoff_eli, design.extrasafe,
                        design.offset, int(n_max))


@lru_cache(maxsize=64)
def _comb_tables(target, p_saf, p_tox, cutoff_eli, extrasafe, offset, n_max) -> CombTables:
    proxy = BoinDesign(target=target, n_doses=1, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli,
                       extrasafe=extrasafe, offset=offset)
    t = count_tables(proxy, n_max)
    n = np.arange(n_max + 1)[:, None].astype(float)
    y = np.arange(n_max + 1)[None, :].astype(float)
    a, b = y + SCORE_PRIOR, np.maximum(n - y, 0) + SCORE_PRIOR
    score = betainc(a, b, t.lambda_d) - betainc(a, b, t.lambda_e) + SCORE_BONUS * n
    score = np.where(y <= n, score, 0.0)
    ni, yi = np.arange(n_max + 1)[:, None], np.arange(n_max + 1)[None, :]
    direction = np.where(yi <= t.escalate_le[:, None], 0, np.where(yi >= t.deescalate_ge[:, None], 1, 2))
    hit = yi >= t.eliminate_ge[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        high = np.where(ni > 0, yi / np.maximum(ni, 1), 0.0) >= t.lambda_d
    arrays = (score, direction.astype(np.int64), hit, high)
    for a in arrays:
        a.setflags(write=False)
    return CombTables(t.lambda_e, t.lambda_d, t.escalate_le, t.deescalate_ge, t.eliminate_ge, t.stop_lowest_ge,
                      *arrays)
