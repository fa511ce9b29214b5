"""The 3+3 design, in two stated variants, as a spec and a vectorised policy.

**Variant "de-escalation"** (the default; the usual protocol wording):

* Treat 3 patients at the current dose.  0/3 DLT: escalate.  1/3: treat 3 more at the same dose; 1/6: escalate.
  >= 2 DLTs (of 3 or of 6): the dose exceeds the MTD.
* When a dose exceeds the MTD, go to the dose below: if it already has 6 patients it is the MTD; if it has 3,
  treat 3 more there (it is the MTD if it then has <= 1/6, else it too exceeds the MTD and the step repeats).
  If dose 1 exceeds the MTD, the trial stops with no MTD.  Once a dose exceeded the MTD there is no re-escalation.
* At the top dose, a 0/3 is confirmed with 3 more patients: the top dose is the MTD with <= 1/6.

The MTD is therefore always a dose with 6 patients and at most 1 DLT.

**Variant "escalation-only"** (Storer 1989; bcrm's ``threep3(esc.only = TRUE)``): as above, but the MTD is simply
the dose below the first dose that exceeds it, without expanding it -- provided that dose was treated: with a start
dose above 1, a trial whose start dose exceeds the MTD ends without one -- and passing the top dose (0/3, or 1/6)
selects the top dose.  Its exact operating characteristics have a closed form (Lin & Shih 2001):
``q(p) = (1 - p)^3 + 3 p (1 - p)^5`` is the probability of passing a dose.

Neither variant has a maximum sample size; a trial uses at most 6 patients per dose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from adcbridge.results import ColumnTable, make_provenance

from .design import DoseFindingDesign
from .engine import EndReason, TrialState

if TYPE_CHECKING:
    from .nextdose import NextDose

__all__ = ["ThreePlusThreeDesign", "three_plus_three", "ThreePlusThreePolicy"]

ESCALATING, DEESCALATING = 0, 1


class ThreePlusThreeDesign(DoseFindingDesign):
    """3+3 design (see the module docstring for the two variants)."""

    spec_name: ClassVar[str] = "3+3"

    n_doses: int = Field(ge=1, le=50)
    variant: Literal["de-escalation", "escalation-only"] = "de-escalation"
    start_dose: int = Field(1, ge=1)
    dose_levels: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    @model_validator(mode="after")
    def _check(self):
        if self.start_dose > self.n_doses:
            raise ValueError(f"The 'start_dose' parameter of 3+3 must be in 1..{self.n_doses}. Got {self.start_dose}.")
        if self.dose_levels is not None and len(self.dose_levels) != self.n_doses:
            raise ValueError(f"The 'dose_levels' parameter of 3+3 must have {self.n_doses} values. "
                             f"Got {len(self.dose_levels)}.")
        return self

    @property
    def cohort_size(self) -> int:
        return 3

    @property
    def max_sample_size(self) -> int:
        return 6 * self.n_doses

    # ------------------------------------------------------------------------- the design core (design.py)
    def _policy(self) -> ThreePlusThreePolicy:
        return ThreePlusThreePolicy(self)

    def check_rule(self, rule) -> None:
        """A stop at N patients must leave whole cohorts of 3."""
        if rule.kind == "stop_at_n" and rule.n % 3:
            raise ValueError(f"3+3 treats cohorts of 3: stop_at_n needs a multiple of 3, got {rule.n}.")

    def select_from_counts(self, n, y) -> int | None:
        """None: a 3+3 trial has an MTD only where its own rules reached one (a trial cut short has none)."""
        return None

    def _decision(self, history):
        """The rules' next step, found by replaying the policy on the history: each cohort must be of 3 patients
        at the dose the rules called for (otherwise the error names the cohort)."""
        return _decide(self, history.cohorts(), history)

    def _protocol_text(self) -> str:
        from .protocol import three_plus_three_text
        return three_plus_three_text(self)


def three_plus_three(doses: int | list[float], variant: str = "de-escalation", **options) -> ThreePlusThreeDesign:
    if isinstance(doses, (list, tuple)):
        return ThreePlusThreeDesign(n_doses=len(doses), dose_levels=tuple(doses), variant=variant, **options)
    return ThreePlusThreeDesign(n_doses=doses, variant=variant, **options)


class ThreePlusThreePolicy:
    """Vectorised 3+3 conduct."""

    def __init__(self, design: ThreePlusThreeDesign):
        self.design = design
        self.n_doses = design.n_doses
        self.max_patients = 6 * design.n_doses + 3

    def initial(self, size: int) -> TrialState:
        return TrialState.start(size, self.n_doses, self.design.start_dose - 1, mode=ESCALATING, mtd=-1)

    def next_cohort(self, s: TrialState):
        return s.dose.copy(), np.full(len(s), 3, dtype=np.int32)

    def record(self, s: TrialState, dose, size, dlt, rows) -> None:
        J = self.n_doses
        s.add(rows, dose, size, dlt)
        mode = s.aux["mode"]
        cur = s.dose
        flat = np.arange(len(s)) * J + cur
        nd, yd = s.n.ravel()[flat], s.y.ravel()[flat]
        top = cur == J - 1
        exceeded = rows & (yd >= 2)
        ok6 = rows & ~exceeded & (nd >= 6)                       # <= 1/6
        esc = rows & (mode == ESCALATING) & ~exceeded
        below = np.maximum(cur - 1, 0)
        n_below = s.n.ravel()[np.arange(len(s)) * J + below]
        if self.design.variant == "escalation-only":
            passes = esc & (((nd == 3) & (yd == 0)) | ok6)
            # the MTD is the dose below -- if it was treated (doses below a start dose above 1 were not)
            self._declare(s, rows & exceeded, np.where((cur > 0) & (n_below > 0), cur - 1, -1))
            self._declare(s, passes & top, cur)
            cur += passes & ~top
            return
        passes = esc & ((nd == 3) & (yd == 0) & ~top | ok6)
        self._declare(s, passes & top, cur)                       # top dose confirmed with 6
        cur += passes & ~top
        self._declare(s, rows & (mode == DEESCALATING) & ok6, cur)
        # a dose exceeded the MTD: the dose below is the MTD if it has 6 patients, else expand it
        self._declare(s, exceeded & ((cur == 0) | (n_below >= 6)), cur - 1)
        expand = exceeded & (cur > 0) & (n_below < 6)
        cur -= expand
        mode[expand] = DEESCALATING

    @staticmethod
    def _declare(s: TrialState, rows: np.ndarray, mtd: np.ndarray) -> None:
        """Finish ``rows`` with MTD ``mtd`` (0-based; -1 = none, a safety stop)."""
        if not rows.any():
            return
        s.aux["mtd"][rows] = mtd[rows]
        none = rows & (mtd < 0)
        s.finish(none, EndReason.SAFETY_STOP)
        s.finish(rows & ~none, EndReason.COMPLETED)

    def select(self, s: TrialState) -> np.ndarray:
        return s.aux["mtd"].copy()

    def state_key(self, s: TrialState) -> np.ndarray:
        return np.column_stack([s.n, s.y, s.dose, s.aux["mode"], s.aux["mtd"]])

    def overdose_denominator(self, s: TrialState) -> np.ndarray:
        return s.total


def _decide(design: ThreePlusThreeDesign, cohorts, history=None) -> NextDose:
    from .nextdose import NextDose, move
    from .outcomes import DoseCounts
    from .replay import replay_policy
    _, s = replay_policy(design, cohorts, history)
    cur = cohorts[-1].dose
    counts = DoseCounts.from_cohorts(cohorts, design.n_doses)
    table = ColumnTable({"dose": np.arange(1, design.n_doses + 1), "n": counts.n, "dlt": counts.dlt})
    over = np.flatnonzero(np.asarray(counts.dlt) >= 2)   # >= 2 DLTs: the dose exceeds the MTD, and so do those above it
    eliminated = tuple(range(int(over[0]) + 1, design.n_doses + 1)) if over.size else ()
    common = dict(spec=design, table=table, provenance=make_provenance(design, [str(c) for c in cohorts]),
                  current_dose=cur, design="3+3", eliminated=eliminated)
    if not s.active[0]:
        mtd = int(s.aux["mtd"][0])
        if s.end[0] == EndReason.SAFETY_STOP:
            return NextDose(**common, next_dose=None, decision="stop", rule="mtd_exceeded_at_lowest",
                            reason=f"dose {cur} exceeds the MTD (>= 2 DLTs) and no treated lower dose is "
                                   f"left: stop the trial, no MTD")
        return NextDose(**common, next_dose=None, decision="stop", rule="mtd_found", select_mtd=True, mtd=mtd + 1,
                        reason=f"the MTD is dose {mtd + 1}: stop the trial")
    nxt = int(s.dose[0]) + 1
    n_c, y_c = counts.n[cur - 1], counts.dlt[cur - 1]
    if nxt > cur:
        rule, why = "escalate", f"{y_c}/{n_c} DLTs at dose {cur}: escalate to dose {nxt}"
    elif nxt < cur:
        rule, why = "deescalate", (f"{y_c}/{n_c} DLTs at dose {cur} exceeds the MTD: treat 3 more patients at "
                                   f"dose {nxt}")
    else:
        rule, why = "expand", f"{y_c}/{n_c} DLTs at dose {cur}: treat 3 more patients at dose {cur}"
    return NextDose(**common, next_dose=nxt, next_cohort_size=3, decision=move(cur, nxt), rule=rule, reason=why)
