"""MTD selection at the end of a BOIN trial (rules of BOIN 2.7.2 ``select.mtd``), for one trial or many at once.

1. **Elimination from the data.**  Scanning doses upward, the first dose j with n_j >= 3 and
   ``Pr(p_j > phi | Beta(y_j + 1, n_j - y_j + 1)) > cutoff_eli`` is eliminated with every dose above it (doses
   above it are not examined).  With the extra safety rule, all doses are eliminated when n_1 >= 3 and
   ``Pr(p_1 > phi | ...) > cutoff_eli - offset``.
2. No MTD if dose 1 is eliminated or no patient was treated at a dose that is not eliminated.
3. The admissible doses are the treated (n > 0), non-eliminated ones, in dose order (untreated doses are dropped,
   not imputed).
4. Their DLT rates are estimated by the posterior mean under Beta(0.05, 0.05), ``(y + 0.05) / (n + 0.1)``, and
   made non-decreasing by weighted PAVA with weights 1 / posterior variance,
   ``var = (y + 0.05)(n - y + 0.05) / ((n + 0.1)^2 (n + 1.1))``.
5. Ties are broken by adding ``i * 1e-10`` to the i-th admissible estimate (i counts admissible doses, from 1):
   within a pooled block above the target the lowest dose is closest, below the target the highest.
6. With ``bound_mtd`` only estimates <= lambda_d may be selected (no MTD if none is).
7. The MTD is the admissible dose whose estimate is closest to the target (the lower position on exact ties).

Reported per-dose estimates (:func:`select_mtd`) cover every treated dose, eliminated ones included: the PAVA
estimate, the 95% credible interval from the 2.5% and 97.5% quantiles of Beta(y + 0.05, n - y + 0.05) smoothed by
the same weighted PAVA, and Pr(overdose) = ``Pr(p > phi | Beta(y + 0.05, n - y + 0.05))`` smoothed by unweighted
PAVA.  **Deliberate difference from the reference:** BOIN 2.7.2 prints each credible interval from the vector of
treated doses indexed by the *dose number*, so whenever an untreated dose precedes a treated one (a start dose
above 1, gaps) its intervals are shifted to the wrong dose or printed as NA.  adcbridge attaches each interval
to its own dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from adcbridge.results import Issue, Result, make_provenance

from ..isotonic import pava, pava_rows
from ..outcomes import DoseCounts
from .boundaries import count_tables, posterior_prob_above
from .design import BoinDesign

__all__ = ["MtdSelection", "select_mtd", "select_mtd_batch", "SelectionRule", "selection_rule"]

PRIOR = 0.05          # Beta(0.05, 0.05) prior for estimation
TIE_BREAK = 1e-10     # added i * TIE_BREAK to the i-th admissible estimate


@dataclass(frozen=True)
class SelectionRule:
    """The numbers select.mtd needs, precomputed for counts up to ``n_max``.

    ``eliminate_ge[n]`` is the smallest y with ``Pr(p > phi | Beta(y+1, n-y+1)) > cutoff_eli`` (n >= 3; NEVER if
    none) and ``stop_ge[n]`` the same with ``cutoff_eli - offset``.  The probability increases with y, so
    ``y >= eliminate_ge[n]`` is exactly the reference's test; :func:`count_tables` guarantees these counts are >= 1.
    """

    target: float
    lambda_d: float
    bound_mtd: bool
    extrasafe: bool
    eliminate_ge: np.ndarray
    stop_ge: np.ndarray
    #: a of the Beta(a, a) prior of the estimates (BOIN 0.05; TITEgBOIN's selection uses 0.005)
    prior: float = PRIOR


def selection_rule(design: BoinDesign, n_max: int) -> SelectionRule:
    """Precompute the elimination counts of ``design`` for n = 0..n_max."""
    t = count_tables(design, n_max)
    return SelectionRule(design.target, t.lambda_d, design.bound_mtd, design.extrasafe, t.eliminate_ge,
                         t.stop_lowest_ge)


def _eliminated(n: np.ndarray, y: np.ndarray, rule: SelectionRule) -> np.ndarray:
    """(B, J) flags: doses eliminated at selection (first qualifying dose and all above; extra safety)."""
    hit = y >= rule.eliminate_ge[n]
    any_hit = hit.any(axis=1)
    first = np.where(any_hit, hit.argmax(axis=1), n.shape[1])
    elim = np.arange(n.shape[1])[None, :] >= first[:, None]
    if rule.extrasafe:
        elim |= (y[:, 0] >= rule.stop_ge[n[:, 0]])[:, None]
    return elim


def _estimates(n: np.ndarray, y: np.ndarray, prior: float = PRIOR) -> tuple[np.ndarray, np.ndarray]:
    nf, yf = n.astype(float), y.astype(float)
    phat = (yf + prior) / (nf + 2 * prior)
    var = (yf + prior) * (nf - yf + prior) / ((nf + 2 * prior) ** 2 * (nf + 2 * prior + 1))
    return phat, 1.0 / var


def _select_core(n: np.ndarray, y: np.ndarray, rule: SelectionRule):
    """Vectorised selection.  Returns (mtd (B,) 0-based or -1, eliminated (B,J), order (B,J), m (B,),
    admissible estimates in admissible order incl. the tie-break (B,J; padded))."""
    B, J = n.shape
    elim = _eliminated(n, y, rule)
    adm = (n > 0) & ~elim
    m = adm.sum(axis=1)
    none = elim[:, 0] | (m == 0)
    order = np.argsort(~adm, axis=1, kind="stable")          # admissible doses first, in dose order
    n_o = np.take_along_axis(n, order, axis=1)
    y_o = np.take_along_axis(y, order, axis=1)
    phat, w = _estimates(np.maximum(n_o, 1), np.minimum(y_o, np.maximum(n_o, 1)), rule.prior)
    pos = np.arange(J)[None, :]
    inside = pos < m[:, None]
    phat = np.where(inside, phat, 10.0 + pos)                # padding: increasing, never pooled
    w = np.where(inside, w, 1.0)
    est = pava_rows(phat, w) + (pos + 1) * TIE_BREAK
    selectable = inside
    if rule.bound_mtd:
        selectable = inside & (est <= rule.lambda_d)
        none |= ~selectable.any(axis=1)
    dist = np.where(selectable, np.abs(est - rule.target), np.inf)
    k = dist.argmin(axis=1)
    mtd = np.where(none, -1, np.take_along_axis(order, k[:, None], axis=1)[:, 0])
    return mtd, elim, order, m, np.where(inside, est, np.nan)


def select_mtd_batch(n: np.ndarray, y: np.ndarray, rule: SelectionRule) -> np.ndarray:
    """MTD (0-based dose index, -1 for none) of each row of counts ``n``, ``y`` (shape (B, J))."""
    n = np.asarray(n, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    return _select_core(n, y, rule)[0]


@dataclass(frozen=True, eq=False)
class MtdSelection(Result):
    """Selected MTD and per-dose isotonic estimates.

    ``mtd`` is the 1-based dose level, or None when no dose is selected.  ``table`` columns: ``dose``, ``n``,
    ``dlt``, ``p_hat``, ``ci_low``, ``ci_high``, ``p_overdose`` (missing for untreated doses), ``eliminated``,
    ``admissible``.  ``admissible_estimates`` are the PAVA estimates of the admissible doses with the tie-break
    (before the ``bound_mtd`` filter), as used for the choice.
    """

    mtd: int | None = None
    n: tuple[int, ...] = ()
    dlt: tuple[int, ...] = ()
    admissible_estimates: tuple[float, ...] = ()

    result_type: ClassVar[str] = "MtdSelection"

    def record_body(self) -> dict:
        """The command-line JSON contract."""
        def f(v):
            return None if v is None or math.isnan(float(v)) else float(v)
        est = [{"dose": int(r.dose), "n": int(r.n), "dlt": int(r.dlt), "p_hat": f(r.p_hat),
                "ci_low": f(r.ci_low), "ci_high": f(r.ci_high), "p_overdose": f(r.p_overdose),
                "eliminated": bool(r.eliminated)}
               for r in self.table.itertuples(index=False)]
        return {"mtd": self.mtd, "estimates": est}


def select_mtd(design: BoinDesign, n, dlt) -> MtdSelection:
    """Select the MTD from per-dose counts (see the module docstring for the rules).

    ``design`` supplies target, cutoff_eli, extrasafe/offset, bound_mtd and p_tox; its ``n_doses`` must equal the
    number of counts.

    >>> from adcbridge.dosefinding import boin
    >>> select_mtd(boin(0.3, 4), n=[3, 6, 9, 3], dlt=[0, 1, 3, 2]).mtd
    3
    """
    counts = DoseCounts.from_arrays(n, dlt)
    if counts.n_doses != design.n_doses:
        raise ValueError(f"'n' has {counts.n_doses} doses but the design has n_doses = {design.n_doses}")
    n_a, y_a = counts.arrays()
    rule = selection_rule(design, max(int(n_a.max()), 3))
    mtd, elim, order, m, est = _select_core(n_a[None, :], y_a[None, :], rule)
    mtd0 = int(mtd[0])
    adm_est = tuple(float(v) for v in est[0, : int(m[0])])

    # reported estimates over all treated doses (eliminated ones included)
    treated = np.flatnonzero(n_a > 0)
    J = design.n_doses
    cols = {k: np.full(J, np.nan) for k in ("p_hat", "ci_low", "ci_high", "p_overdose")}
    if treated.size:
        from scipy.special import betaincinv  # the live selection only: the simulators never load scipy here
        nt, yt = n_a[treated].astype(float), y_a[treated].astype(float)
        phat, w = _estimates(nt, yt)
        a, b = yt + PRIOR, nt - yt + PRIOR
        cols["p_hat"][treated] = pava(phat, w)
        cols["ci_low"][treated] = pava(betaincinv(a, b, 0.025), w)
        cols["ci_high"][treated] = pava(betaincinv(a, b, 0.975), w)
        cols["p_overdose"][treated] = pava(posterior_prob_above(design.target, yt, nt, PRIOR, PRIOR))
    import pandas as pd
    table = pd.DataFrame({"dose": np.arange(1, J + 1), "n": n_a, "dlt": y_a, **cols,
                          "eliminated": elim[0], "admissible": (n_a > 0) & ~elim[0]})
    issues = ()
    if mtd0 < 0:
        why = ("no patient has been treated" if not treated.size else
               "the lowest dose is eliminated as too toxic" if elim[0][0] else
               "every treated dose is eliminated"
               if not ((n_a > 0) & ~elim[0]).any() else "no admissible dose meets the selection rule")
        issues = (Issue("no_mtd", f"no MTD: {why}", "warning"),)
    return MtdSelection(spec=design, table=table, issues=issues, provenance=make_provenance(design, n_a, y_a),
                        mtd=None if mtd0 < 0 else mtd0 + 1, n=tuple(int(v) for v in n_a),
                        dlt=tuple(int(v) for v in y_a), admissible_estimates=adm_est)
