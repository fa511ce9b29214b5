"""The TITE-BOIN decision rules, written once as an array function over a batch of trials.

Both the simulator (:mod:`.simulate`, thousands of trials at once) and the live decision (:mod:`.decision`, a
batch of one) call :func:`decide`.  The inputs are, per dose j, ``n_j`` (patients treated, pending ones included)
and ``y_j`` (DLTs observed so far); at the current dose d, the number of pending patients and the sum of their
follow-up fractions of the DLT window (TITEgBOIN's ``ft / maxt``; the rules look at no other dose's pending
patients); and the number of patients enrolled.  In this order (TITEgBOIN 0.4.0 ``next_TITE_QuasiBOIN``; SPEC 1.6
and 9):

1. **elimination** -- scanning upward, the first dose with ``n_j >= n_eli`` and
   ``Pr(p_j > phi | Beta(y_j + 1, n_j - y_j + 1)) > cutoff_eli`` is eliminated with every dose above it (pending
   patients count in n, only observed DLTs in y); dose 1 eliminated -> **stop**, no MTD (``eliminate``);
2. **extra safety** (``extrasafe``) -- ``n_1 >= n_eli`` and Pr(p_1 > phi | ...) > cutoff_eli - offset -> **stop**,
   every dose eliminated (``extra_safety``; checked whatever the current dose);
3. the maximum sample size is enrolled -> **stop** and select the MTD (``max_sample_size``);
4. the current dose is eliminated -> go to the highest dose below the eliminated ones (``eliminate``; this can
   move down more than one level);
5. **suspension** -- more than ``max_pending`` x n_d of the patients at d are pending -> suspend accrual, next dose
   stays d (``suspend_accrual``);
6. the rate ``p_tilde = y_d / ESS_d`` with ``ESS_d = n_d - pending_d + followup_d``: escalate if
   ``p_tilde <= lambda_e``, de-escalate if ``p_tilde >= lambda_d`` (``>=``, as TITEgBOIN; BOIN's table is strict),
   else stay; escalation is blocked at the top dose and under an eliminated dose (``stay_top``,
   ``stay_eliminated_above``).  At dose 1 a de-escalation becomes a stay (``stay_lowest``) -- but while patients at
   dose 1 are pending, accrual is suspended instead (``suspend_lowest``: their outcomes may eliminate dose 1;
   TITEgBOIN reports ``pending = 1`` there);
7. **n_earlystop** -- ``n_d >= n_earlystop`` and the decision is to stay -> **stop** and select the MTD; a suspension
   cancels it (TITEgBOIN's order).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..boin.boundaries import NEVER, _first_count_exceeding, interval_boundaries, posterior_prob_above

__all__ = ["TiteRules", "tite_rules", "decide", "RULES", "SUSPENDED", "STOPS", "check_cutoffs",
           "elimination_counts"]

# rule codes: (rule name, decision word)
ESCALATE, STAY, DEESCALATE, STAY_TOP, STAY_ELIM_ABOVE, STAY_LOWEST, ELIMINATE, SUSPEND, SUSPEND_LOWEST, \
    STOP_ELIMINATE, STOP_EXTRA_SAFETY, STOP_EARLY, STOP_MAX_N = range(13)
RULES = {
    ESCALATE: ("escalate", "escalate"), STAY: ("stay", "stay"), DEESCALATE: ("deescalate", "de-escalate"),
    STAY_TOP: ("stay_top", "stay"), STAY_ELIM_ABOVE: ("stay_eliminated_above", "stay"),
    STAY_LOWEST: ("stay_lowest", "stay"), ELIMINATE: ("eliminate", "de-escalate"),
    SUSPEND: ("suspend_accrual", "suspend"), SUSPEND_LOWEST: ("suspend_lowest", "suspend"),
    STOP_ELIMINATE: ("eliminate", "stop"), STOP_EXTRA_SAFETY: ("extra_safety", "stop"),
    STOP_EARLY: ("n_earlystop", "stop"), STOP_MAX_N: ("max_sample_size", "stop"),
}
SUSPENDED = (SUSPEND, SUSPEND_LOWEST)
STOPS = (STOP_ELIMINATE, STOP_EXTRA_SAFETY, STOP_EARLY, STOP_MAX_N)      # the highest codes (decide relies on it)


def elimination_counts(target: float, cutoff: float, n_max: int, n_min: int) -> np.ndarray:
    """For n = 0..n_max the smallest count x in 1..n with Pr(p > target | Beta(x + 1, n - x + 1)) > cutoff, for
    n >= ``n_min`` (``NEVER`` otherwise, or when no count qualifies).  BOIN's table (n >= 3) with TITEgBOIN's
    ``Neli`` as the smallest n."""
    out = _first_count_exceeding(target, cutoff, n_max).copy()
    for n in range(1, min(3, n_max + 1)):                   # BOIN's table starts at n = 3
        x = [k for k in range(1, n + 1) if posterior_prob_above(target, k, n) > cutoff]
        out[n] = x[0] if x else NEVER
    out[: min(n_min, n_max + 1)] = NEVER
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class TiteRules:
    """The constants of the rules: boundaries, and elimination / extra-safety counts indexed by n = 0..n_max."""

    target: float
    lambda_e: float
    lambda_d: float
    max_pending: float
    n_earlystop: int
    max_n: int
    eliminate_ge: np.ndarray
    stop_ge: np.ndarray | None          # extra safety at dose 1 (None without extrasafe)


def tite_rules(design, n_max: int | None = None) -> TiteRules:
    """The rule constants of ``design`` for doses holding up to ``n_max`` patients (default: the maximum sample
    size)."""
    return _tite_rules(design, max(int(n_max or 0), design.max_sample_size))


@lru_cache(maxsize=64)
def _tite_rules(design, n_max: int) -> TiteRules:
    lambda_e, lambda_d = interval_boundaries(design.target, design.phi1, design.phi2)
    elim = elimination_counts(design.target, design.cutoff_eli, n_max, design.n_eli)
    stop = (elimination_counts(design.target, design.cutoff_eli - design.offset, n_max, design.n_eli)
            if design.extrasafe else None)
    return TiteRules(design.target, lambda_e, lambda_d, design.max_pending, design.n_earlystop,
                     design.max_sample_size, elim, stop)


def check_cutoffs(design) -> None:
    """Refuse cut-offs under which a dose without any DLT would be eliminated (or the trial stopped)."""
    n = max(design.n_eli, 1)
    if posterior_prob_above(design.target, 0, n) > design.cutoff_eli:
        raise ValueError(f"The 'cutoff_eli' parameter of {design.spec_name} ({design.cutoff_eli:g}) is too low for "
                         f"target {design.target:g}: a dose with 0 DLTs in {n} patients would be eliminated.")
    if design.extrasafe and posterior_prob_above(design.target, 0, n) > design.cutoff_eli - design.offset:
        raise ValueError(f"The 'offset' parameter of {design.spec_name} ({design.offset:g}) is too large for target "
                         f"{design.target:g} and cutoff_eli {design.cutoff_eli:g}: the extra safety rule would stop "
                         f"the trial with 0 DLTs at the lowest dose.")


@dataclass(frozen=True)
class Decisions:
    """The output of :func:`decide` for a batch: ``next_dose`` (0-based; -1 for a stop), ``code`` (a key of
    :data:`RULES`), ``first_eliminated`` (0-based lowest eliminated dose; J for none), and at the current dose
    ``ess`` and ``rate`` (``y / ESS``; 0 when ESS is 0)."""

    next_dose: np.ndarray
    code: np.ndarray
    first_eliminated: np.ndarray
    ess: np.ndarray
    rate: np.ndarray


def decide(rules: TiteRules, n, y, pending, followup, current, enrolled) -> Decisions:
    """The decisions of a batch of trials (see the module docstring): ``n``, ``y`` (B, J); ``pending``,
    ``followup`` (at the current dose), ``current`` (0-based) and ``enrolled`` (B,)."""
    n = np.asarray(n, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    md = np.asarray(pending, dtype=np.int64)
    fd = np.asarray(followup, dtype=float)
    cur = np.asarray(current, dtype=np.int64)
    B, J = n.shape
    rows = np.arange(B)
    hit = y >= rules.eliminate_ge[n]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), J)
    nd, yd = n[rows, cur], y[rows, cur]
    ess = (nd - md) + fd
    rate = np.divide(yd, ess, out=np.zeros(B), where=ess > 0)
    low, high = rate <= rules.lambda_e, rate >= rules.lambda_d
    at_top, next_elim, lowest = cur == J - 1, cur + 1 >= first, cur == 0
    suspend = md > rules.max_pending * nd
    suspend_lowest = lowest & high & (md > 0)
    stay = (~low & ~high) | (lowest & high) | ((at_top | next_elim) & low)
    conditions = [
        first == 0,
        (y[:, 0] >= rules.stop_ge[n[:, 0]]) if rules.stop_ge is not None else np.zeros(B, bool),
        np.asarray(enrolled) >= rules.max_n,
        cur >= first,
        suspend,
        suspend_lowest,
        stay & (nd >= rules.n_earlystop),
        low & at_top, low & next_elim, low,
        high & lowest, high,
    ]
    codes = [STOP_ELIMINATE, STOP_EXTRA_SAFETY, STOP_MAX_N, ELIMINATE, SUSPEND, SUSPEND_LOWEST, STOP_EARLY,
             STAY_TOP, STAY_ELIM_ABOVE, ESCALATE, STAY_LOWEST, DEESCALATE]
    code = np.select(conditions, codes, default=STAY)
    nxt = np.select([code >= STOP_ELIMINATE, code == ELIMINATE, code == ESCALATE, code == DEESCALATE],
                    [-1, first - 1, cur + 1, cur - 1], default=cur)
    return Decisions(nxt, code, first, ess, rate)
