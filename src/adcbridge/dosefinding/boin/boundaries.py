"""BOIN interval boundaries and the count-based decision table (rules of BOIN 2.7.2 ``get.boundary``).

With target phi, p_saf phi1 and p_tox phi2 (Liu & Yuan 2015, local optimal boundaries under a non-informative
1/3-1/3-1/3 prior on the three hypotheses)::

    lambda_e = log((1 - phi1) / (1 - phi)) / log(phi (1 - phi1) / (phi1 (1 - phi)))
    lambda_d = log((1 - phi) / (1 - phi2)) / log(phi2 (1 - phi) / (phi (1 - phi2)))

For n patients at the current dose and y DLTs among them:

* escalate if ``y <= E(n) = floor(lambda_e * n)`` (no tolerance: the floating-point value decides, as in the
  reference, so target 0.6 / p_saf 0.4 gives lambda_e = 0.49999999999999994 and E(2) = 0);
* de-escalate if ``y >= D(n)``, ``D(n) = ceil(lambda_d * n)``, plus one when ``lambda_d * n`` lies within 1e-12 of
  an integer -- i.e. de-escalate iff ``y / n > lambda_d`` (strict);
* eliminate the dose and all higher doses if ``y >= X(n)``, the smallest x in 1..n with
  ``Pr(p > phi | Beta(x + 1, n - x + 1)) > cutoff_eli``; no X(n) for n < 3 or when no x qualifies;
* D(n) is capped at X(n) where X(n) exists, so an eliminated dose is always de-escalated from.

With the extra safety rule the trial stops when, at the lowest dose with n >= 3,
``Pr(p_1 > phi | Beta(y + 1, n - y + 1)) > cutoff_eli - offset``; the stopping counts are S(n).
Where the reference crashes because no stopping count exists (target 0.6 with extrasafe), adcbridge returns a
missing value instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from adcbridge.results import ColumnTable, Result, json_ready, make_provenance

from .design import BoinDesign

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["interval_boundaries", "CountTables", "count_tables", "BoinBoundaries", "decision_table",
           "posterior_prob_above", "NEVER"]

#: sentinel count meaning "no such count" (never reached)
NEVER = 1_000_000


def interval_boundaries(target: float, p_saf: float, p_tox: float) -> tuple[float, float]:
    """(lambda_e, lambda_d), evaluated in the same order of operations as the reference."""
    lambda_e = math.log((1 - p_saf) / (1 - target)) / math.log(target * (1 - p_saf) / (p_saf * (1 - target)))
    lambda_d = math.log((1 - target) / (1 - p_tox)) / math.log(p_tox * (1 - target) / (target * (1 - p_tox)))
    return lambda_e, lambda_d


def posterior_prob_above(target: float, y, n, a: float = 1.0, b: float = 1.0):
    """Pr(p > target | y DLTs in n) under a Beta(a, b) prior: ``1 - I_target(y + a, n - y + b)``.

    For whole-number ``a`` and ``b`` (BOIN's uniform prior) this is the binomial lower tail
    ``Pr(Binomial(n + a + b - 1, target) <= y + a - 1)``, summed exactly from a table of binomial probabilities
    (no scipy; agrees with the regularised incomplete beta function to about 1e-15) for n up to
    ``EXACT_TABLE_MAX``.  Larger n and other priors use :func:`scipy.special.betainc`."""
    if float(a).is_integer() and float(b).is_integer() and a >= 1 and b >= 1:
        yi = np.asarray(y, dtype=np.int64)
        ni = np.asarray(n, dtype=np.int64)
        m = ni + int(a) + int(b) - 1
        k = yi + int(a) - 1
        m_max = int(m.max()) if m.size else 0
        if m_max <= EXACT_TABLE_MAX:
            cdf = _binomial_cdf_table(float(target), m_max)
            return np.where(k < 0, 0.0, cdf[m, np.clip(k, 0, m)])
    from scipy.special import betainc
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    return 1.0 - betainc(y + a, n - y + b, target)


#: the largest n + 1 summed from the table (8 MB); beyond it -- designs of more than about a thousand patients --
#: the incomplete beta function of scipy is used
EXACT_TABLE_MAX = 1000


@lru_cache(maxsize=16)
def _binomial_cdf_table(p: float, m_max: int) -> np.ndarray:
    """``cdf[m, k] = Pr(Binomial(m, p) <= k)`` for 0 <= k <= m <= m_max (1 for k >= m), built row by row with
    Pascal's recurrence ``pmf_m(k) = (1-p) pmf_{m-1}(k) + p pmf_{m-1}(k-1)`` -- every term positive, so the
    rounding error stays at a few units in the last place.  Read-only and cached (designs are immutable)."""
    pmf = np.zeros((m_max + 1, m_max + 1))
    pmf[0, 0] = 1.0
    for m in range(1, m_max + 1):
        pmf[m, : m + 1] = (1.0 - p) * pmf[m - 1, : m + 1]
        pmf[m, 1: m + 1] += p * pmf[m - 1, : m]
    cdf = np.minimum(np.cumsum(pmf, axis=1), 1.0)
    cdf[np.triu_indices(m_max + 1, 1)] = 1.0
    cdf.setflags(write=False)
    return cdf


def _first_count_exceeding(target: float, cutoff: float, n_max: int, lowest: int = 1) -> np.ndarray:
    """For n = 0..n_max the smallest x in lowest..n with Pr(p > target | Beta(x+1, n-x+1)) > cutoff (NEVER if
    none, or n < 3).  The probability increases with x, so a vectorised bisection over all n finds it."""
    n = np.arange(n_max + 1)
    lo = np.full(n_max + 1, lowest)
    hi = n + 1                                   # hi = n + 1 means "none"
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        active = lo < hi
        ok = posterior_prob_above(target, np.minimum(mid, n), n) > cutoff
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    out = np.where((lo <= n) & (n >= 3), lo, NEVER)
    return out.astype(np.int64)


@dataclass(frozen=True)
class CountTables:
    """Count thresholds indexed by n = 0..n_max (index 0 unused).  ``NEVER`` marks a missing count."""

    lambda_e: float
    lambda_d: float
    escalate_le: np.ndarray      # E(n)
    deescalate_ge: np.ndarray    # D(n), capped at X(n)
    eliminate_ge: np.ndarray     # X(n)
    stop_lowest_ge: np.ndarray   # S(n) (extra safety at the lowest dose)


def count_tables(design: BoinDesign, n_max: int | None = None) -> CountTables:
    """All count thresholds for ``n = 0..n_max`` (default: the most patients one dose can ever hold).

    Raises ``ValueError`` for a design whose rules contradict each other: a cut-off so low that a dose without any
    DLT would be eliminated (or the trial stopped by the extra safety rule), or that the same number of DLTs would
    both escalate and eliminate.  (Tables are cached: designs are immutable.)"""
    if n_max is None:
        n_max = design.max_sample_size + design.n_doses + design.cohort_size
    return _count_tables(design, int(n_max))


@lru_cache(maxsize=128)
def _count_tables(design: BoinDesign, n_max: int) -> CountTables:
    lambda_e, lambda_d = interval_boundaries(design.target, design.phi1, design.phi2)
    n = np.arange(n_max + 1)
    esc = np.floor(lambda_e * n).astype(np.int64)
    prod = lambda_d * n
    deesc = np.ceil(prod).astype(np.int64)
    near = np.abs(prod - np.round(prod)) < 1e-12
    deesc = np.where(near, np.round(prod).astype(np.int64) + 1, deesc)
    elim = _first_count_exceeding(design.target, design.cutoff_eli, n_max)
    deesc = np.minimum(deesc, elim)
    stop = _first_count_exceeding(design.target, design.cutoff_eli - design.offset, n_max)
    _check_coherent(design, n, esc, elim, stop)
    esc[0] = deesc[0] = -1
    for a in (esc, deesc, elim, stop):
        a.setflags(write=False)
    return CountTables(lambda_e, lambda_d, esc, deesc, elim, stop)


def _check_coherent(design: BoinDesign, n, esc, elim, stop) -> None:
    """Reject cut-offs under which the rules contradict each other (see :func:`count_tables`)."""
    big = n >= 3
    if np.any(big & (posterior_prob_above(design.target, 0, n) > design.cutoff_eli)):
        k = int(n[big & (posterior_prob_above(design.target, 0, n) > design.cutoff_eli)][0])
        raise ValueError(f"The 'cutoff_eli' parameter of boin ({design.cutoff_eli:g}) is too low for target "
                         f"{design.target:g}: a dose with 0 DLTs in {k} patients would be eliminated.")
    clash = big & (elim <= esc)
    if np.any(clash):
        k = int(n[clash][0])
        raise ValueError(f"The 'cutoff_eli' parameter of boin ({design.cutoff_eli:g}) is too low for target "
                         f"{design.target:g}: with {k} patients, {int(elim[k])} DLT(s) would both escalate and "
                         f"eliminate the dose.")
    if design.extrasafe and np.any(big & (posterior_prob_above(design.target, 0, n) >
                                          design.cutoff_eli - design.offset)):
        raise ValueError(f"The 'offset' parameter of boin ({design.offset:g}) is too large for target "
                         f"{design.target:g} and cutoff_eli {design.cutoff_eli:g}: the extra safety rule would stop "
                         f"the trial with 0 DLTs at the lowest dose.")


def _nullable(a: np.ndarray) -> list[int | None]:
    """Counts with ``NEVER`` as None (a nullable ``Int64`` column once the table is built)."""
    return [None if v >= NEVER else int(v) for v in a]


@dataclass(frozen=True, eq=False)
class BoinBoundaries(Result):
    """The BOIN decision table.

    ``table`` has one row per number of patients n at the current dose (1 .. min(max sample size,
    n_earlystop), as the reference prints it) with the columns ``n``, ``escalate_if_dlt_le``,
    ``deescalate_if_dlt_ge``, ``eliminate_if_dlt_ge`` (missing where elimination is impossible) and, with the
    extra safety rule, ``stop_trial_if_dlt_ge`` (at the lowest dose).
    """

    lambda_e: float = float("nan")
    lambda_d: float = float("nan")

    result_type: ClassVar[str] = "BoinBoundaries"

    def cohort_table(self) -> pd.DataFrame:
        """Rows at multiples of the cohort size only (the reference's ``boundary_tab``)."""
        cs = self.spec.cohort_size
        return self.table[self.table["n"] % cs == 0].reset_index(drop=True)

    def record_body(self) -> dict:
        """The command-line JSON contract: lambdas and one record per n."""
        return {"lambda_e": self.lambda_e, "lambda_d": self.lambda_d, "table": self.rows()}

    def rows(self) -> list[dict]:
        """One plain object per n (missing counts as None), read without building a DataFrame."""
        raw = self.__dict__["_table"]
        return raw.records() if isinstance(raw, ColumnTable) else json_ready(raw)


def decision_table(design: BoinDesign, full: bool = False) -> BoinBoundaries:
    """The decision table of ``design``.

    By default rows run to ``min(max sample size, n_earlystop)`` as the reference prints them; ``full=True``
    runs to the maximum sample size (a dose can hold more than n_earlystop patients, because the early stop
    applies only to a "stay" decision).
    """
    npts = design.max_sample_size
    n_max = npts if full else min(npts, design.n_earlystop)
    t = count_tables(design, n_max)
    n = np.arange(1, n_max + 1)
    columns = {
        "n": n,
        "escalate_if_dlt_le": t.escalate_le[1:],
        "deescalate_if_dlt_ge": t.deescalate_ge[1:],
        "eliminate_if_dlt_ge": _nullable(t.eliminate_ge[1:]),
    }
    if design.extrasafe:
        columns["stop_trial_if_dlt_ge"] = _nullable(t.stop_lowest_ge[1:])
    table = ColumnTable(columns, dtypes={c: "Int64" for c in ("eliminate_if_dlt_ge", "stop_trial_if_dlt_ge")
                                         if c in columns})
    return BoinBoundaries(spec=design, table=table, provenance=make_provenance(design),
                          lambda_e=t.lambda_e, lambda_d=t.lambda_d)
