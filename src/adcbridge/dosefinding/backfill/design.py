"""The BF-BOIN design specification: BOIN with backfill cohorts (Zhao, Yuan, Korn, Freidlin 2024, Clin Cancer
Res 30:673; rules as in the R package bfboin 0.1.1 ``get.oc.bf`` with BOIN 2.7.2).

A :class:`BackfillBoinDesign` is a :class:`~adcbridge.dosefinding.boin.design.BoinDesign` (every BOIN field
keeps its meaning, default and validation) plus the backfill protocol rule:

* while the current escalation cohort is full and its DLT outcomes are pending, a newly arriving patient is
  *backfilled* at a lower dose that has shown a response, is cleared for safety and holds at most ``n_cap``
  patients; otherwise he is referred away;
* backfill patients' DLT outcomes count in every later decision (the per-dose BOIN decisions of all doses up to
  the current one, pooled when they disagree) and in the MTD selection.

What the design *does* lives beside it: :mod:`.rules` (the decision kernel), :mod:`.decision` (the live
decision), :mod:`.simulate` (operating characteristics in time).  Time is in the unit of ``dlt_window``
(months in the reference).

    >>> from adcbridge.dosefinding.backfill import boin_backfill
    >>> d = boin_backfill(target=0.3, doses=5, cohorts=12, n_cap=9, backfill_assign="random")
    >>> d.n_cap, d.backfill_assign, d.dlt_window
    (9, 'random', 1.0)
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ..boin.design import BoinDesign
from ..design import cohorts_option

__all__ = ["BackfillBoinDesign", "boin_backfill"]


class BackfillBoinDesign(BoinDesign):
    """BOIN with backfill cohorts (BF-BOIN).

    Parameters (besides BOIN's: ``target`` (default 0.25, as bfboin), ``n_doses``, ``cohort_size``,
    ``n_cohorts``, ``n_earlystop``, ``start_dose``, ``titration``, ``p_saf``, ``p_tox``, ``cutoff_eli``,
    ``extrasafe``, ``offset``, ``bound_mtd``, ``dose_levels``, ``dose_unit``)
    ----------
    n_cap : int
        Backfill cap per dose (default 12): a dose is open for backfill while its backfill patients plus its
        escalation patients number at most ``n_cap`` *before* the new patient (so a dose can reach
        ``n_cap + 1``, as in the reference); at least ``cohort_size``, since a smaller cap never opens
        backfill.
    end_backfill : bool
        Backfill ends with the dose escalation (default True, the only setting the reference implements): backfill
        patients still in their DLT window when the last escalation cohort's window ends are not counted.
    dlt_window : float
        Length of the DLT assessment window, in the time unit of the accrual rate (default 1).
    backfill_assign : 'highest' | 'lowest' | 'random'
        Which open dose a backfilled patient receives (default 'highest').
    three_plus_three : bool
        bfboin's 3+3 option: 1 DLT in the first 3 patients at the current dose means "stay" instead of
        "de-escalate" (requires target 0.25 and cohorts of 3).

    The reference refuses cohorts smaller than 3, titration and ``end_backfill = False``; so does this spec.
    """

    spec_name: ClassVar[str] = "boin-backfill"

    target: float = Field(0.25, description="target DLT probability")
    n_cap: int = Field(12, ge=0, le=10_000)
    end_backfill: bool = True
    dlt_window: float = Field(1.0, gt=0)
    backfill_assign: Literal["highest", "lowest", "random"] = "highest"
    three_plus_three: bool = False

    @model_validator(mode="after")
    def _relations(self) -> BackfillBoinDesign:
        try:
            BoinDesign._relations(self)
        except ValueError as exc:       # BOIN's sentences name "boin": name this design instead
            raise ValueError(str(exc).replace(" parameter of boin ", f" parameter of {self.spec_name} ")) from None
        name = self.spec_name
        if self.cohort_size < 3:
            raise ValueError(f"The 'cohort_size' parameter of {name} must be at least 3 (as in bfboin). "
                             f"Got {self.cohort_size}.")
        if self.n_cap < self.cohort_size:
            raise ValueError(f"The 'n_cap' parameter of {name} must be at least the cohort size, "
                             f"{self.cohort_size}: a dose open to backfill has treated at least one cohort, so a "
                             f"smaller cap never opens backfill (for no backfill, use the design boin). "
                             f"Got {self.n_cap}.")
        if self.titration:
            raise ValueError(f"The 'titration' parameter of {name} must be False: accelerated titration is not "
                             f"part of BF-BOIN (bfboin refuses it). Got True.")
        if not self.end_backfill:
            raise ValueError(f"The 'end_backfill' parameter of {name} must be True: backfill ends with the dose "
                             f"escalation (bfboin implements no other setting). Got False.")
        if self.three_plus_three and (abs(self.target - 0.25) > 1e-12 or self.cohort_size != 3):
            raise ValueError(f"The 'three_plus_three' parameter of {name} needs target 0.25 and cohorts of 3 "
                             f"(got target {self.target:g}, cohort_size {self.cohort_size}).")
        return self

    # ------------------------------------------------------------------------- the design core (design.py)
    uses_backfill: ClassVar[bool] = True
    #: patients are pending while in their DLT window (the next arriving patient is backfilled meanwhile)
    uses_pending: ClassVar[bool] = True
    #: the decision after an earlier cohort depended on what was known *then* (backfill outcomes arrive later),
    #: so the history is not replayed cohort by cohort; :meth:`check_history` checks the course instead
    checks_course: ClassVar[bool] = False
    scenario_options: ClassVar[tuple[str, ...]] = ("q_true", "accrual", "accrual_rate")
    #: responses (the history's ``efficacy``) open a dose for backfill
    uses_efficacy: ClassVar[bool] = True
    #: ``dose_time`` and ``assess_time`` say what was known at each past evaluation (:mod:`.history`)
    uses_times: ClassVar[bool] = True
    #: no follow-up fractions: a pending outcome counts only once known (``followup``, ``--today`` do not apply)
    uses_followup: ClassVar[bool] = False
    #: parameters inherited from BOIN that this design holds fixed (they cannot be set to anything else)
    fixed_parameters: ClassVar[tuple[str, ...]] = ("titration", "end_backfill")

    @property
    def max_sample_size(self) -> int:
        """The escalation cohorts' patients (backfill patients come on top)."""
        return self.n_cohorts * self.cohort_size

    @property
    def max_patients_per_dose(self) -> int:
        """The most patients whose outcomes can ever be added up in one decision (table size)."""
        return self.n_cohorts * self.cohort_size + self.n_doses * (self.n_cap + 1) + self.cohort_size

    def decide_counts(self, n, dlt, current_dose):
        raise ValueError("boin-backfill decides on the patients' history (escalation and backfill patients, "
                         "pending outcomes, responses), not on per-dose counts.")

    def check_history(self, history):
        from .history import check_backfill_history
        return check_backfill_history(self, super().check_history(history))

    def _decision(self, history):
        from .decision import backfill_decision
        return backfill_decision(self, history)

    def _protocol_text(self) -> str:
        from .texts import backfill_text
        return backfill_text(self)

    def simulate_oc(self, p_true, *, n_trials: int, seed: int, target: float | None = None, **scenario):
        from .simulate import simulate_backfill
        return simulate_backfill(self, p_true, n_trials=n_trials, seed=seed, target=target, **scenario)

    @classmethod
    def conformance_specs(cls) -> list:
        return [boin_backfill(0.3, 5, cohorts=8, n_cap=4, backfill_assign="highest"),
                boin_backfill(0.25, 4, cohorts=8, n_cap=6, three_plus_three=True, backfill_assign="lowest",
                              extrasafe=True, n_earlystop=12),
                boin_backfill(0.2, 5, cohorts=10, n_cap=3, backfill_assign="random", dlt_window=2.0,
                              bound_mtd=True, start_dose=2)]

    def conformance_cases(self, n_trials: int = 40, seed: int = 1):
        from .conformance import logged_cases
        return logged_cases(self, n_trials=n_trials, seed=seed)


def boin_backfill(target: float = 0.25, doses: int | list[float] | tuple[float, ...] = 5, cohort_size: int = 3,
                  cohorts: int | None = None, **options) -> BackfillBoinDesign:
    """Build a :class:`BackfillBoinDesign`; ``doses`` is a number of levels or the list of dose values."""
    cohorts = cohorts_option(cohorts, options, "boin_backfill")
    if isinstance(doses, (str, bytes, bool)):
        raise ValueError(f"The 'doses' argument of boin_backfill must be a number of dose levels or a list of "
                         f"doses. Got {doses!r}.")
    if isinstance(doses, (list, tuple)):
        return BackfillBoinDesign(target=target, n_doses=len(doses), dose_levels=tuple(doses),
                                  cohort_size=cohort_size, n_cohorts=cohorts, **options)
    return BackfillBoinDesign(target=target, n_doses=doses, cohort_size=cohort_size, n_cohorts=cohorts, **options)
