"""MTD selection at the end of a TITE-BOIN trial (TITEgBOIN 0.4.0 ``select_mtd_TITE_QuasiBOIN``).

BOIN's selection (:mod:`adcbridge.dosefinding.boin.selection`: elimination from the data, admissible doses,
weighted PAVA, the ``i * 1e-10`` tie-break, the dose closest to the target), with two differences that are
TITEgBOIN's:

* the PAVA inputs are posterior means under a **Beta(0.005, 0.005)** prior, ``(y + 0.005) / (n + 0.01)`` (BOIN:
  0.05), weighted by the inverse posterior variance -- the MTD differs from BOIN's in about 1.6% of data sets;
* a dose can be eliminated once it has ``n_eli`` patients (``Neli``, default 3 as in BOIN).

The selection is on complete data (every patient's DLT outcome known).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..boin.boundaries import interval_boundaries
from ..boin.selection import SelectionRule, select_mtd_batch
from .kernel import elimination_counts

__all__ = ["PRIOR", "tite_selection_rule", "select_mtd_tite", "select_mtd_tite_batch"]

#: a of the Beta(a, a) prior of the isotonic estimates (TITEgBOIN)
PRIOR = 0.005


def tite_selection_rule(design, n_max: int) -> SelectionRule:
    """BOIN's selection rule with TITEgBOIN's prior and ``n_eli``, for doses holding up to ``n_max`` patients."""
    return _rule(design.target, design.phi1, design.phi2, design.cutoff_eli, design.extrasafe, design.offset,
                 design.n_eli, max(int(n_max), 3))


@lru_cache(maxsize=64)
def _rule(target, p_saf, p_tox, cutoff_eli, extrasafe, offset, n_eli, n_max) -> SelectionRule:
    _, lambda_d = interval_boundaries(target, p_saf, p_tox)
    return SelectionRule(target, lambda_d, False, extrasafe, elimination_counts(target, cutoff_eli, n_max, n_eli),
                         elimination_counts(target, cutoff_eli - offset, n_max, n_eli), prior=PRIOR)


def select_mtd_tite_batch(design, n, y) -> np.ndarray:
    """The MTD (0-based; -1 for none) of each row of per-dose counts ``n``, ``y`` (shape (B, J))."""
    n = np.asarray(n, dtype=np.int64)
    return select_mtd_batch(n, y, tite_selection_rule(design, int(n.max()) if n.size else 3))


def select_mtd_tite(design, n, y) -> int | None:
    """The 1-based MTD from per-dose patients ``n`` and DLTs ``y`` (None for none).

    >>> from adcbridge.dosefinding import tite_boin
    >>> select_mtd_tite(tite_boin(0.2, 5), n=[3, 2, 7, 0, 0], y=[0, 1, 1, 0, 0])
    3
    """
    n = np.asarray(n, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    if n.shape != (design.n_doses,) or y.shape != n.shape:
        raise ValueError(f"'n' and 'y' must have one count per dose ({design.n_doses}); got {n.size} and {y.size}.")
    if np.any(n < 0) or np.any(y < 0) or np.any(y > n):
        raise ValueError(f"counts must satisfy 0 <= y <= n at every dose; got n = {n.tolist()}, y = {y.tolist()}.")
    mtd = int(select_mtd_tite_batch(design, n[None, :], y[None, :])[0])
    return None if mtd < 0 else mtd + 1
