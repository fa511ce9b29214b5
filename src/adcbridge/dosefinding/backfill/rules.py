"""The BF-BOIN decision kernel: the cohort evaluation and the backfill opening rule, on arrays of trials.

These are the design's only rules.  The simulator (:mod:`.simulate`) calls them on every trial of a batch at
once; the live decision (:mod:`.decision`) calls them on a batch of one.  Doses are 0-based here.

**Per-dose decision** (BOIN's decision table at the total N_j = escalation + assessed backfill patients, Y_j
their DLTs; a dose without patients is read as N = 1, as in the reference): escalate if Y <= E(N), else
eliminate if Y >= X(N), else de-escalate if Y >= D(N), else stay.  With ``three_plus_three``, 1 DLT in 3
patients at the current dose is "stay".

**Cohort evaluation** at the current dose d (:func:`evaluate`):

* d = lowest: escalate (unless the next dose is eliminated or d is the top: stay); stay; eliminate: stop;
  de-escalate: stay -- with the extra safety rule first stop if N >= 3 and Y >= S(N) (and then, if it does not
  fire, no early stop is checked: the reference's order).
* d above the lowest and the lower doses *consistent* (all "escalate" when d says escalate; all "escalate" or
  "stay" otherwise): escalate (blocked: stay), stay, de-escalate, eliminate (doses d and above are eliminated,
  go to d - 1).
* otherwise a *conflict*: b* is the highest lower dose whose decision is not "escalate" (when d says escalate)
  or is "de-escalate"/"eliminate" (otherwise; an "eliminate" at d still eliminates d and above).  Pooled over
  b*..d: escalate if pooled Y <= E(pooled N) (blocked: stay, possibly at a dose just eliminated); if pooled Y >=
  D(pooled N), go to the highest k in b*..d whose cumulative pool b*..k has Y < D(N), or below b* when none
  does -- below the lowest dose the trial stops if the lowest dose is eliminated by its totals, or (extra safety)
  if Pr(p_1 > target) > cutoff_eli - offset from its *escalation* patients only, else the lowest dose is kept;
  otherwise stay.
* Early stop: after every outcome that keeps the dose (except the lowest-dose "de-escalate" with the extra
  safety rule), the trial ends with an MTD when N_d >= n_earlystop.

**Backfill opening** (:func:`open_doses`): a dose k below d is open when a response has been seen at k, its
backfill plus escalation patients number <= n_cap, and it is safe -- Y_k < D(N_k) or, pooled with the next
dose, Y_k+ < D(N_k+) (for k = d - 1 the next dose's part is its escalation patients, the pending cohort's
assessed ones included, and not its backfill patients) -- and no lower dose below d is unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..boin.boundaries import count_tables, posterior_prob_above

__all__ = [
    "DE",
    "ELIM",
    "ESC",
    "PATHS",
    "STAY",
    "Tables",
    "evaluate",
    "open_doses",
    "per_dose_decisions",
    "pick_backfill",
    "plus_next",
    "safe_alone_or_pooled",
    "tables_for",
]

ESC, STAY, DE, ELIM = 0, 1, 2, 3
DECISION_WORDS = ("escalate", "stay", "de-escalate", "eliminate")

#: evaluation paths (codes returned by :func:`evaluate`)
PATHS = ("escalate", "escalate_blocked", "stay", "deescalate", "stay_lowest", "extra_safety",
         "stay_lowest_safe", "eliminate_lowest", "eliminate", "pooled_escalate", "pooled_escalate_blocked",
         "pooled_deescalate", "pooled_eliminate_lowest", "pooled_extra_safety", "pooled_stay")
(P_ESC, P_ESC_BLOCKED, P_STAY, P_DE, P_STAY_LOWEST, P_EXTRA, P_STAY_LOWEST_SAFE, P_ELIM_LOWEST, P_ELIM,
 P_POOL_ESC, P_POOL_ESC_BLOCKED, P_POOL_DE, P_POOL_ELIM_LOWEST, P_POOL_EXTRA, P_POOL_STAY) = range(len(PATHS))
#: paths that stop the trial for toxicity (no MTD)
STOP_PATHS = (P_EXTRA, P_ELIM_LOWEST, P_POOL_ELIM_LOWEST, P_POOL_EXTRA)


@dataclass(frozen=True)
class Tables:
    """BOIN's counts indexed by N = 0..n_max (N = 0 reads N = 1), and the settings the rules need."""

    E: np.ndarray
    D: np.ndarray
    X: np.ndarray
    S: np.ndarray
    lambda_e: float
    lambda_d: float
    target: float
    stop_cutoff: float          # cutoff_eli - offset (extra safety)
    extrasafe: bool
    n_earlystop: int
    three_plus_three: bool
    n_cap: int


def tables_for(design, n_max: int | None = None) -> Tables:
    """The kernel's tables for ``design`` (a :class:`~.design.BackfillBoinDesign`), up to ``n_max`` patients."""
    return _tables(design, int(n_max or design.max_patients_per_dose))


@lru_cache(maxsize=64)
def _tables(design, n_max: int) -> Tables:
    t = count_tables(design, n_max)

    def at_one(a):
        out = a.astype(np.int64).copy()
        out[0] = out[1]
        out.setflags(write=False)
        return out
    return Tables(at_one(t.escalate_le), at_one(t.deescalate_ge), at_one(t.eliminate_ge),
                  at_one(t.stop_lowest_ge), t.lambda_e, t.lambda_d, design.target,
                  design.cutoff_eli - design.offset, design.extrasafe, design.n_earlystop,
                  design.three_plus_three, design.n_cap)


def per_dose_decisions(N: np.ndarray, Y: np.ndarray, d: np.ndarray, t: Tables) -> np.ndarray:
    """(B, J) BOIN decision codes of every dose from its totals (the current dose's with the 3+3 option)."""
    dec = np.where(Y <= t.E[N], ESC, np.where(Y >= t.X[N], ELIM, np.where(Y >= t.D[N], DE, STAY)))
    if t.three_plus_three:
        rows = np.arange(N.shape[0])
        hit = (N[rows, d] == 3) & (Y[rows, d] == 1)
        dec[rows[hit], d[hit]] = STAY
    return dec


def evaluate(N, Y, d, elim, n1_esc, y1_esc, t: Tables):
    """Evaluate the cohort just completed at dose ``d`` (see the module docstring), for B trials at once.

    ``N``, ``Y`` (B, J): totals at the time of the evaluation; ``elim`` (B,): lowest eliminated dose (J if none);
    ``n1_esc``, ``y1_esc`` (B,): escalation-only patients and DLTs at the lowest dose.  Returns ``next_d`` (B,),
    ``stop`` (toxicity stop, no MTD), ``early`` (early stop by n_earlystop), ``elim`` (updated), ``path`` (codes of
    :data:`PATHS`) and ``dec`` (per-dose decisions)."""
    N = np.asarray(N, dtype=np.int64)
    Y = np.asarray(Y, dtype=np.int64)
    d = np.asarray(d, dtype=np.int64)
    B, J = N.shape
    rows = np.arange(B)
    dec = per_dose_decisions(N, Y, d, t)
    dd = dec[rows, d]
    Nd, Yd = N[rows, d], Y[rows, d]
    j = np.arange(J)[None, :]
    below = j < d[:, None]
    elim = np.where(dd == ELIM, np.minimum(elim, d), elim)
    blocked = (d == J - 1) | (elim <= d + 1)
    path = np.full(B, P_STAY)
    next_d = d.copy()

    # lowest dose
    low = d == 0
    path[low & (dd == ESC)] = np.where(blocked, P_ESC_BLOCKED, P_ESC)[low & (dd == ESC)]
    path[low & (dd == ELIM)] = P_ELIM_LOWEST
    de_low = low & (dd == DE)
    if t.extrasafe:
        path[de_low] = np.where((Nd >= 3) & (Yd >= t.S[Nd]), P_EXTRA, P_STAY_LOWEST_SAFE)[de_low]
    else:
        path[de_low] = P_STAY_LOWEST

    # higher doses: consistent or conflicting lower doses
    lower_esc = np.all((dec == ESC) | ~below, axis=1)
    lower_ok = np.all((dec <= STAY) | ~below, axis=1)
    high = ~low
    consistent = high & np.where(dd == ESC, lower_esc, lower_ok)
    path[consistent & (dd == ESC)] = np.where(blocked, P_ESC_BLOCKED, P_ESC)[consistent & (dd == ESC)]
    path[consistent & (dd == DE)] = P_DE
    path[consistent & (dd == ELIM)] = P_ELIM

    conflict = high & ~consistent
    if conflict.any():
        bad = below & np.where((dd == ESC)[:, None], dec != ESC, dec >= DE)
        bstar = np.where(bad.any(axis=1), J - 1 - np.argmax(bad[:, ::-1], axis=1), 0)
        pool = (j >= bstar[:, None]) & (j <= d[:, None])
        cumN = np.cumsum(np.where(pool, N, 0), axis=1)
        cumY = np.cumsum(np.where(pool, Y, 0), axis=1)
        Np, Yp = cumN[rows, d], cumY[rows, d]
        pooled_esc = Yp <= t.E[Np]
        pooled_de = ~pooled_esc & (Yp >= t.D[Np])
        passing = pool & (cumY < t.D[cumN])
        k = np.where(passing.any(axis=1), J - 1 - np.argmax(passing[:, ::-1], axis=1), bstar - 1)
        under = k < 0
        tox1 = Y[:, 0] >= t.X[N[:, 0]]
        extra1 = np.zeros(B, dtype=bool)
        if t.extrasafe:
            extra1 = posterior_prob_above(t.target, y1_esc, n1_esc) > t.stop_cutoff
        c_path = np.where(pooled_esc, np.where(blocked, P_POOL_ESC_BLOCKED, P_POOL_ESC),
                          np.where(pooled_de, np.where(under, np.where(tox1, P_POOL_ELIM_LOWEST,
                                                                       np.where(extra1, P_POOL_EXTRA, P_POOL_DE)),
                                                       np.where(k == d, P_POOL_STAY, P_POOL_DE)), P_POOL_STAY))
        path[conflict] = c_path[conflict]
        pooled_target = np.maximum(k, 0)
        next_d = np.where(conflict & (path == P_POOL_DE), pooled_target, next_d)
        next_d = np.where(conflict & (path == P_POOL_ESC), d + 1, next_d)

    next_d = np.where(path == P_ESC, d + 1, next_d)
    next_d = np.where((path == P_DE) | (path == P_ELIM), d - 1, next_d)
    stop = np.isin(path, STOP_PATHS)
    early = ~stop & (next_d == d) & (path != P_STAY_LOWEST_SAFE) & (Nd >= t.n_earlystop)
    return next_d, stop, early, elim, path, dec


def plus_next(N, Y, d, n_cur, y_cur):
    """Totals of each dose k pooled with dose k + 1 (B, J): for k = d - 1 the next dose's part is ``n_cur``,
    ``y_cur`` (its escalation patients with an outcome, the pending cohort's included); entries at and above d
    are unused."""
    N = np.asarray(N, dtype=np.int64)
    Y = np.asarray(Y, dtype=np.int64)
    B = N.shape[0]
    Nn = np.zeros_like(N)
    Yn = np.zeros_like(Y)
    Nn[:, :-1], Yn[:, :-1] = N[:, 1:], Y[:, 1:]
    rows = np.arange(B)
    top = np.maximum(np.asarray(d) - 1, 0)
    Nn[rows, top] = np.where(np.asarray(d) > 0, n_cur, Nn[rows, top])
    Yn[rows, top] = np.where(np.asarray(d) > 0, y_cur, Yn[rows, top])
    return N + Nn, Y + Yn


def safe_alone_or_pooled(N, Y, Nplus, Yplus, t: Tables) -> np.ndarray:
    """Whether each dose is safe by its own data (before the monotone closure of :func:`open_doses`):
    Y < D(N) or, pooled with the next dose, Y+ < D(N+)."""
    N = np.asarray(N, dtype=np.int64)
    return (np.asarray(Y) < t.D[N]) | (np.asarray(Yplus) < t.D[np.asarray(Nplus, dtype=np.int64)])


def open_doses(N, Y, Nplus, Yplus, seen, recruited, d, t: Tables):
    """(B, J) doses open for backfill (see the module docstring), with the parts of the rule:
    (open, safe after the monotone closure, under the cap)."""
    N = np.asarray(N, dtype=np.int64)
    J = N.shape[1]
    below = np.arange(J)[None, :] < np.asarray(d)[:, None]
    unsafe = below & ~safe_alone_or_pooled(N, Y, Nplus, Yplus, t)
    closed = np.cumsum(unsafe, axis=1) > 0
    safe_closed = below & ~closed
    under_cap = np.asarray(recruited) <= t.n_cap
    return seen & under_cap & safe_closed, safe_closed, under_cap


def pick_backfill(open_mask: np.ndarray, assign: str, u: np.ndarray | None = None) -> np.ndarray:
    """The backfill dose (0-based; -1 when none is open) of each row: the highest or lowest open dose, or the
    open dose number floor(u * count) (``u`` uniform in [0, 1))."""
    any_open = open_mask.any(axis=1)
    J = open_mask.shape[1]
    if assign == "highest":
        k = J - 1 - np.argmax(open_mask[:, ::-1], axis=1)
    elif assign == "lowest":
        k = np.argmax(open_mask, axis=1)
    else:
        count = open_mask.sum(axis=1)
        r = np.minimum((np.asarray(u) * count).astype(np.int64), np.maximum(count - 1, 0))
        k = np.argmax(np.cumsum(open_mask, axis=1) > r[:, None], axis=1)
    return np.where(any_open, k, -1)

