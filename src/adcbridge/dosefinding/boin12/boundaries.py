"""BOIN12's numbers: the benchmark utility, the count boundaries and the desirability of a dose.

Utility of one patient (Lin et al. 2020): 100 for a response without DLT, 0 for a DLT without response, ``u11``
for both and ``u00`` for neither.

* **Benchmark** ``u_b = ubar + (100 - ubar) / 2``, ``ubar`` the mean utility of a dose with DLT rate ``target``
  and response rate ``efficacy_min`` (outcomes independent):
  ``ubar = phiE phiT u11 + (1 - phiT) phiE 100 + (1 - phiT)(1 - phiE) u00``.
* **Count boundaries** at n patients (phase12designs 0.2.0 ``get.boundary``, SPEC 7.2):

  - (escalate if #DLT <= Esc(n), de-escalate if #DLT >= D(n)) is the pair 0 <= m1 < m2 <= n minimising
    ``P(Y <= m1 | target) + P(Y >= m2 | target) + P(Y > m1 | p_saf) + P(Y <= m2 - 1 | p_tox)``, Y ~ Bin(n, .),
    the first minimum scanning m1 then m2 upward (for the default p_saf / p_tox these are BOIN's counts);
  - eliminate for toxicity if #DLT >= X(n), the smallest x in **3**..n with
    ``Pr(pT > target | Beta(x + 1, n - x + 1)) > cutoff_eli`` (none for n < 3): BOIN's elimination count with
    the search started at 3 (reference oddity B12-1, reproduced); D(n) is capped at X(n);
  - eliminate for futility if #responses <= F(n), the largest x in n..0 with
    ``Pr(pE < efficacy_min | Beta(x + 1, n - x + 1)) > cutoff_futility`` (none for n < 3).

  The reference computes them at multiples of the cohort size only; adcbridge at every n (the same numbers there),
  so a live trial with a short cohort is decided on its real sample size.
* **Desirability** of a treated dose: with the quasi-successes ``x = (u11 yE/n + (1 - yT/n) u00) / 100 * n``
  (this order of operations, as the reference), ``R = 1 - pbeta(u_b / 100, 1 + x, n - x + 1)``: the posterior
  probability that the dose's mean utility exceeds the benchmark.  An untried dose has its prior value
  ``1 - u_b / 100``, an eliminated dose 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import betainc

from ..boin.boundaries import NEVER, _binomial_cdf_table, _first_count_exceeding

if TYPE_CHECKING:
    from .design import Boin12Design

__all__ = ["benchmark_utility", "Boin12Tables", "boin12_tables", "escalation_counts", "futility_counts",
           "quasi_successes", "desirability", "NEVER", "NONE_BELOW"]

#: "no futility count" (no number of responses is low enough): responses are never <= NONE_BELOW
NONE_BELOW = -1


def benchmark_utility(target: float, efficacy_min: float, u11: float, u00: float) -> float:
    """u_b, on the 0-100 scale (SPEC 7.1; evaluated in the reference's order)."""
    ubar = efficacy_min * target * u11 + (1 - target) * efficacy_min * 100 + (1 - target) * (1 - efficacy_min) * u00
    return ubar + (100 - ubar) / 2


def escalation_counts(target: float, p_saf: float, p_tox: float, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(Esc(n), D(n)) for n = 0..n_max by the minimisation of the module docstring (index 0: -1, unused)."""
    esc = np.full(n_max + 1, -1, dtype=np.int64)
    dee = np.full(n_max + 1, -1, dtype=np.int64)
    c_t, c_s, c_x = (_binomial_cdf_table(float(p), max(n_max, 1)) for p in (target, p_saf, p_tox))
    for n in range(1, n_max + 1):
        m1 = np.arange(n + 1)[:, None]
        m2 = np.arange(n + 1)[None, :]
        below = c_t[n, :n + 1]                              # P(Y <= k | target)
        cdf_m2m1 = np.concatenate(([0.0], below[:-1]))      # P(Y <= m2 - 1 | target)
        obj = (below[m1] + (1.0 - cdf_m2m1[m2]) + (1.0 - c_s[n, :n + 1][m1])
               + np.concatenate(([0.0], c_x[n, :n]))[m2])
        obj = np.where(m1 < m2, obj, np.inf)
        k = int(np.argmin(obj))                             # first minimum in (m1, m2) scan order
        esc[n], dee[n] = divmod(k, n + 1)
    return esc, dee


def futility_counts(efficacy_min: float, cutoff: float, n_max: int) -> np.ndarray:
    """F(n) for n = 0..n_max: the largest x with Pr(pE < efficacy_min | Beta(x+1, n-x+1)) > cutoff
    (:data:`NONE_BELOW` when none, or n < 3)."""
    out = np.full(n_max + 1, NONE_BELOW, dtype=np.int64)
    for n in range(3, n_max + 1):
        x = np.arange(n + 1)
        ok = np.flatnonzero(betainc(x + 1.0, n - x + 1.0, efficacy_min) > cutoff)
        if ok.size:
            out[n] = int(ok.max())
    return out


@dataclass(frozen=True)
class Boin12Tables:
    """Everything a decision reads, indexed by n = 0..n_max: Esc, D (capped at X), X (:data:`NEVER` = none),
    F (:data:`NONE_BELOW` = none); the benchmark ``u_b`` (0-100) and the untried dose's desirability."""

    escalate_le: np.ndarray
    deescalate_ge: np.ndarray
    eliminate_ge: np.ndarray
    futility_le: np.ndarray
    benchmark: float
    prior_desirability: float

    @property
    def n_max(self) -> int:
        return len(self.escalate_le) - 1


def boin12_tables(design: Boin12Design, n_max: int | None = None) -> Boin12Tables:
    """The tables of ``design`` up to ``n_max`` patients at a dose (default: the maximum sample size)."""
    n_max = design.max_sample_size if n_max is None else max(int(n_max), design.max_sample_size)
    return _tables(design.target, design.efficacy_min, design.phi1, design.phi2, design.cutoff_eli,
                   design.cutoff_futility, tuple(design.utility), n_max)


@lru_cache(maxsize=64)
def _tables(target, efficacy_min, p_saf, p_tox, cutoff_eli, cutoff_futility, utility, n_max) -> Boin12Tables:
    esc, dee = escalation_counts(target, p_saf, p_tox, n_max)
    elim = _first_count_exceeding(target, cutoff_eli, n_max, lowest=3)
    dee = np.where(elim < NEVER, np.minimum(dee, elim), dee)
    fut = futility_counts(efficacy_min, cutoff_futility, n_max)
    ub = benchmark_utility(target, efficacy_min, *utility)
    for a in (esc, dee, elim, fut):
        a.setflags(write=False)
    return Boin12Tables(esc, dee, elim, fut, ub, 1 - ub / 100)


def quasi_successes(n, y_tox, y_eff, u11: float, u00: float) -> np.ndarray:
    """x = (u11 yE/n + (1 - yT/n) u00) / 100 * n (0 where n = 0), in the reference's order of operations."""
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    x = (u11 * np.asarray(y_eff) / safe + (1 - np.asarray(y_tox) / safe) * u00) / 100 * safe
    return np.where(n > 0, x, 0.0)


def desirability(n, y_tox, y_eff, u11: float, u00: float, benchmark: float) -> np.ndarray:
    """R = Pr(mean utility > u_b | data) for treated doses, ``1 - u_b/100`` for untried ones (elimination is
    applied by the caller).  Utilities with u11 + u00 > 100 (or one outside [0, 100]) are refused: the
    quasi-successes could exceed n and the Beta posterior would have a non-positive parameter (NaN)."""
    if not (0 <= u11 <= 100 and 0 <= u00 <= 100 and u11 + u00 <= 100):
        raise ValueError(f"boin12's utilities (u11, u00) = ({u11:g}, {u00:g}) must each be in [0, 100] with u11 + "
                         f"u00 at most 100: otherwise the desirability is undefined")
    n = np.asarray(n, dtype=float)
    x = quasi_successes(n, y_tox, y_eff, u11, u00)
    r = 1 - betainc(1 + x, n - x + 1, benchmark / 100)
    return np.where(n > 0, r, 1 - benchmark / 100)
