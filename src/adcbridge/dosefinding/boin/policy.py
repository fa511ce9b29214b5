"""BOIN trial conduct as a vectorised policy for the engine (rules of BOIN 2.7.2 ``get.oc``).

After each cohort at the current dose d (n_d patients, y_d DLTs):

1. **Elimination** (only where X(n_d) exists): if y_d >= X(n_d), doses d..J are eliminated for the rest of the
   trial; at dose 1 the trial stops without an MTD.
2. **Extra safety**: at dose 1 with n_1 >= 3, stop if y_1 >= S(n_1).  **Deliberate difference:** the reference
   evaluates this inside the elimination branch, so it is silently skipped where X(n_1) does not exist (targets of
   about 0.5 and above at n = 3), although its decision table prints the stopping count; adcbridge applies the
   rule it prints.
3. **Early stop** (n_earlystop): stop and select an MTD if n_d >= n_earlystop *and* the decision would be to stay:
   E(n_d) < y_d < D(n_d), or de-escalation blocked at dose 1, or escalation blocked at the top dose or under an
   eliminated dose.
4. **Move**: escalate if y_d <= E(n_d) (unless at the top or the next dose is eliminated: stay), de-escalate if
   y_d >= D(n_d) (unless at dose 1), else stay.  Doses are never skipped.

Sample size: a cohort that would reach the maximum sample size is truncated to the remaining places and ends the
trial *without* any check (the reference's behaviour: a toxic last cohort is caught only by the MTD selection).
Without titration a trial therefore runs exactly ``n_cohorts`` cohorts unless stopped.

Accelerated titration (cohort size > 1): one patient per dose from dose 1 (whatever the start dose) until the
first DLT, or through all doses; the current dose is then filled with ``cohort_size - 1`` patients (counted as
the first cohort, without the sample-size cap), after which the rules above apply.  The reference's latent bug
when the titration has already used the whole sample size (it adds one phantom Bernoulli outcome) is not
reproduced: such a trial simply ends.
"""

from __future__ import annotations

import numpy as np

from ..engine import EndReason, TrialState
from .boundaries import count_tables
from .design import BoinDesign
from .selection import select_mtd_batch, selection_rule

__all__ = ["BoinPolicy"]

TITRATION, FILL, COHORTS = 0, 1, 2


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of one member of each distinct key, group number of every element) -- np.unique's return_index and
    return_inverse, computed with one argsort."""
    order = np.argsort(key)
    sk = key[order]
    new = np.empty(sk.size, dtype=bool)
    new[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    inverse = np.empty_like(group)
    inverse[order] = group
    return order[new], inverse


class BoinPolicy:
    """Vectorised BOIN conduct of ``design`` (see the module docstring)."""

    def __init__(self, design: BoinDesign):
        self.design = design
        self.n_doses = design.n_doses
        self.npts = design.max_sample_size
        self.max_patients = self.npts + (design.n_doses + design.cohort_size if design.uses_titration else 0)
        t = count_tables(design, self.npts + design.n_doses + design.cohort_size)
        self.tables = t
        self.E, self.D, self.X, self.S = (a.astype(np.int32) for a in
                                          (t.escalate_le, t.deescalate_ge, t.eliminate_ge, t.stop_lowest_ge))
        self.rule = selection_rule(design, self.npts + design.n_doses + design.cohort_size)

    def initial(self, size: int) -> TrialState:
        d = self.design
        phase = TITRATION if d.uses_titration else COHORTS
        dose = 0 if d.uses_titration else d.start_dose - 1
        return TrialState.start(size, self.n_doses, dose, elim=self.n_doses, cohort=0, phase=phase)

    def next_cohort(self, s: TrialState) -> tuple[np.ndarray, np.ndarray]:
        cs = self.design.cohort_size
        phase = s.aux["phase"]
        total = s.total
        dose = np.where(phase == TITRATION, np.minimum(total, self.n_doses - 1), s.dose).astype(np.int32)
        size = np.where(phase == TITRATION, 1,
                        np.where(phase == FILL, cs - 1, np.clip(np.minimum(cs, self.npts - total), 0, None)))
        return dose, size.astype(np.int32)

    def record(self, s: TrialState, dose, size, dlt, rows) -> None:
        d = self.design
        J, cs = self.n_doses, d.cohort_size
        phase, cohort = s.aux["phase"], s.aux["cohort"]
        total_before = s.total.copy()
        s.add(rows, dose, size, dlt)
        if d.uses_titration:
            # titration: one patient per dose until the first DLT (or the top dose); then fill that dose
            tit = rows & (phase == TITRATION)
            if tit.any():
                ends = tit & ((dlt > 0) | (dose == J - 1))
                s.dose[ends] = dose[ends]
                phase[ends] = FILL
                rows = rows & ~tit
            fill = rows & (phase == FILL)
            phase[fill] = COHORTS
            last = rows & ~fill & (total_before + cs >= self.npts)
        else:
            last = rows & (total_before + cs >= self.npts)
        cohort += rows
        s.finish(last, EndReason.COMPLETED)            # the last cohort is added unchecked
        check = rows & ~last
        if check.any():
            self._decide(s, check)
        s.finish(s.active & rows & (cohort >= d.n_cohorts), EndReason.COMPLETED)

    def _decide(self, s: TrialState, rows: np.ndarray) -> None:
        """Rules 1-4 of the module docstring for the trials in ``rows`` (computed on all rows, then masked)."""
        d = self.design
        J = self.n_doses
        elim = s.aux["elim"]
        cur = s.dose
        flat = np.arange(len(s)) * J + cur
        nd = s.n.ravel()[flat]
        yd = s.y.ravel()[flat]
        X = self.X[nd]
        eliminate = rows & (yd >= X)                  # X = NEVER where elimination is impossible
        np.minimum(elim, np.where(eliminate, cur, J), out=elim)
        at_bottom = cur == 0
        stop = eliminate & at_bottom
        if d.extrasafe:           # applied whenever n_1 >= 3 (the reference skips it where X(n) is missing)
            stop |= rows & at_bottom & (yd >= self.S[nd])
        low = yd <= self.E[nd]
        high = yd >= self.D[nd]
        at_top = cur == J - 1
        blocked_up = at_top | (elim <= cur + 1)
        stay = (~low & ~high) | (at_bottom & high) | (blocked_up & low)
        early = rows & ~stop & (nd >= d.n_earlystop) & stay
        move = rows & ~stop & ~early
        cur += move & low & ~blocked_up
        cur -= move & ~(low & ~at_top) & high & ~at_bottom
        s.finish(stop, EndReason.SAFETY_STOP)
        s.finish(early, EndReason.EARLY_STOP)

    def select(self, s: TrialState) -> np.ndarray:
        """MTD of finished trials; the selection runs once per distinct (n, y) outcome."""
        key = self._outcome_key(s)
        if key is None:
            mtd = select_mtd_batch(s.n, s.y, self.rule)
        else:
            first, inverse = _groups(key)
            mtd = select_mtd_batch(s.n[first], s.y[first], self.rule)[inverse]
        return np.where(s.end == EndReason.SAFETY_STOP, -1, mtd)

    def _outcome_key(self, s: TrialState) -> np.ndarray | None:
        """One int64 per trial identifying (n, y) exactly, or None if it would not fit in 62 bits.

        Each dose's (n, y) pair (y <= n) gets the index n(n+1)/2 + y; the indices are combined in mixed radix
        with each dose's largest observed index + 1 as its radix."""
        n = s.n.astype(np.int64)
        code = (n * (n + 1)) // 2 + s.y
        radix = code.max(axis=0, initial=0) + 1
        if np.log2(radix.astype(float)).sum() > 62:
            return None
        key = code[:, -1].copy()
        for j in range(code.shape[1] - 2, -1, -1):          # Horner: ((c_J r_(J-1) + c_(J-1)) ...)
            key *= radix[j]
            key += code[:, j]
        return key

    def state_key(self, s: TrialState) -> np.ndarray:
        a = s.aux
        return np.column_stack([s.n, s.y, s.dose, a["elim"], a["cohort"], a["phase"]])

    def overdose_denominator(self, s: TrialState) -> np.ndarray:
        return np.full(len(s), self.npts)
