"""The TITE-BOIN design specification (time-to-event BOIN; rules as in the R package TITEgBOIN 0.4.0).

TITE-BOIN (Yuan et al. 2018; Lin & Yuan 2020) runs BOIN while earlier patients are still inside their DLT
window: a pending patient counts through the *effective sample size* ``ESS = n - pending + sum(follow-up
fractions)``, the current dose's rate is ``y / ESS``, and accrual is suspended while too many patients at the
current dose are pending.  A :class:`TiteBoinDesign` is inert; what it does lives in :mod:`.kernel` (the rules,
as array functions), :mod:`.decision` (live decision), :mod:`.selection` (MTD), :mod:`.simulate` (operating
characteristics in time), :mod:`.table` (decision tables) and :mod:`.protocol` (protocol text).

    >>> from adcbridge.dosefinding import tite_boin
    >>> d = tite_boin(0.3, 5, max_pending=0.5, dlt_window=28)
    >>> d.max_sample_size, d.max_pending
    (30, 0.5)
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from ..boin.params import (
    check_dose_levels,
    check_interval,
    check_offset,
    check_start_dose,
    check_target,
    warn_low_n_earlystop,
)
from ..design import DoseFindingDesign, cohorts_option

__all__ = ["TiteBoinDesign", "tite_boin"]


class TiteBoinDesign(DoseFindingDesign):
    """Single-agent TITE-BOIN design (the arguments of TITEgBOIN's ``next_TITE_QuasiBOIN`` and
    ``get_oc_TITE_QuasiBOIN``, in snake case).

    Parameters
    ----------
    target : float
        Target DLT probability phi, in [0.05, 0.6].
    n_doses : int
        Number of dose levels (1-based in every output).
    cohort_size, n_cohorts : int
        Cohort size (default 3) and number of cohorts (default 10); the maximum sample size is their product.
    start_dose : int
        1-based first dose (default 1).
    n_earlystop : int
        Stop once the current dose has this many patients (pending ones included) and the decision is to stay
        (default 100: practically never).
    p_saf, p_tox : float, optional
        BOIN's sub-therapeutic and overly toxic rates (default 0.6 and 1.4 x target).
    cutoff_eli : float
        A dose with at least ``n_eli`` patients (pending ones included) is eliminated, with every higher dose,
        when Pr(p > phi | observed DLTs) > cutoff_eli under a Beta(1, 1) prior (default 0.95).
    extrasafe, offset : bool, float
        Stop the trial when Pr(p_1 > phi | data) > cutoff_eli - offset at the lowest dose (default off, 0.05).
    max_pending : float
        Suspend accrual while more than ``max_pending`` x n of the n patients at the current dose are pending
        (TITEgBOIN's ``maxpen``, default 0.5); in [0, 1) (0: wait for every outcome, as plain BOIN).
    n_eli : int
        Patients a dose needs before it can be eliminated (TITEgBOIN's ``Neli``, default 3).
    dlt_window : float
        Length of the DLT assessment window (TITEgBOIN's ``maxt``, default 1): the time unit of the simulation
        (accrual rates are per unit of time, durations are in it) and of ``dose_time`` in a live history.
    dose_levels, dose_unit
        The doses themselves, for labels and reports, and their unit.
    """

    spec_name: ClassVar[str] = "tite-boin"
    uses_pending: ClassVar[bool] = True
    #: a pending patient counts through his follow-up: the history's ``followup``, or ``dose_time`` with the time
    #: of the decision and ``dlt_window`` (:meth:`History.with_followup`; ``--today`` and ``--dlt-window``)
    uses_followup: ClassVar[bool] = True
    #: the history's ``dose_time`` and ``assess_time`` (follow-up from dosing; no outcome assessed after the
    #: time of the decision)
    uses_times: ClassVar[bool] = True
    #: efficacy outcomes play no part in the decision
    uses_efficacy: ClassVar[bool] = False
    #: cohorts are enrolled while earlier outcomes are pending, so the decision taken after an earlier cohort
    #: cannot be re-derived from today's data: the core does not replay it cohort by cohort; the design replays it
    #: from the history's times instead (:mod:`.course`), when it has them
    checks_course: ClassVar[bool] = False
    scenario_options: ClassVar[tuple[str, ...]] = ("accrual_rate", "late_onset", "late_window", "accrual")

    target: float
    n_doses: int = Field(ge=1, le=50)
    cohort_size: int = Field(3, ge=1, le=50)
    n_cohorts: int = Field(10, ge=1, le=500)
    start_dose: int = Field(1, ge=1)
    n_earlystop: int = Field(100, ge=1)
    p_saf: float | None = None
    p_tox: float | None = None
    cutoff_eli: float = Field(0.95, gt=0.5, lt=1.0)
    extrasafe: bool = False
    offset: float = Field(0.05, ge=0.0)
    max_pending: float = Field(0.5, ge=0.0, lt=1.0)
    n_eli: int = Field(3, ge=1)
    dlt_window: float = Field(1.0, gt=0.0)
    dose_levels: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    _target_range = field_validator("target")(check_target)
    _offset_range = field_validator("offset")(check_offset)

    @model_validator(mode="after")
    def _relations(self) -> TiteBoinDesign:
        check_interval(self.spec_name, self.target, self.phi1, self.phi2)
        check_start_dose(self.spec_name, self.start_dose, self.n_doses)
        check_dose_levels(self.spec_name, self.dose_levels, self.n_doses)
        from .kernel import check_cutoffs
        check_cutoffs(self)
        warn_low_n_earlystop(self.n_earlystop)
        return self

    # --------------------------------------------------------------------------------------- derived values
    @property
    def phi1(self) -> float:
        """p_saf as used: the given value or 0.6 * target."""
        return 0.6 * self.target if self.p_saf is None else self.p_saf

    @property
    def phi2(self) -> float:
        """p_tox as used: the given value or 1.4 * target."""
        return 1.4 * self.target if self.p_tox is None else self.p_tox

    @property
    def max_sample_size(self) -> int:
        return self.n_cohorts * self.cohort_size

    def overly_toxic(self, target: float) -> float:
        """p_tox: the lowest DLT rate deemed overly toxic defines the true MTD of a scenario."""
        return self.phi2

    # ------------------------------------------------------------------------- the design core (design.py)
    def check_history(self, history):
        from .decision import check_tite_history
        return check_tite_history(self, super().check_history(history))

    def _decision(self, history):
        from .course import course_deviations
        from .decision import decide
        return decide(self, history, course_deviations(self, history))

    def _protocol_text(self) -> str:
        from .protocol import tite_boin_text
        return tite_boin_text(self)

    def check_rule(self, rule) -> None:
        raise ValueError(f"{self.spec_name} takes no protocol rule ({rule.kind}): its own parameters n_earlystop, "
                         f"extrasafe/offset and n_cohorts set its stopping rules, and its simulator works in time.")

    def select_from_counts(self, n, y) -> int | None:
        from .selection import select_mtd_tite
        return select_mtd_tite(self, n, y)

    def simulate_oc(self, p_true, *, n_trials: int, seed: int, target: float | None = None, **scenario):
        """Operating characteristics in time (see :mod:`.simulate`); ``scenario``: ``accrual_rate`` (patients
        per unit of time, default 3), ``late_onset`` and ``late_window`` (default 0.5 each), ``accrual``
        (``"poisson"``, the default, or ``"uniform"``)."""
        from .simulate import simulate_tite
        return simulate_tite(self, p_true, n_trials=n_trials, seed=seed, target=target, **scenario)

    @classmethod
    def conformance_specs(cls) -> list:
        return [cls(target=0.3, n_doses=5),
                cls(target=0.25, n_doses=4, n_earlystop=9, extrasafe=True, max_pending=0.33, cohort_size=2,
                    n_cohorts=12),
                cls(target=0.3, n_doses=4, max_pending=0.0, start_dose=2, cutoff_eli=0.9, n_eli=4)]

    def conformance_cases(self, n_trials: int = 40, seed: int = 1):
        from .simulate import logged_decisions
        scenarios = _CONFORMANCE_SCENARIOS.get(self.n_doses, [(tuple(0.3 for _ in range(self.n_doses)), {})])
        for k, (p, opts) in enumerate(scenarios):
            yield from logged_decisions(self, p, n_trials=n_trials, seed=seed + k, **opts)

    def decision_table(self, n_max: int | None = None):
        """The TITE-BOIN decision table by patients, DLTs and pending patients (see :mod:`.table`)."""
        from .table import tite_decision_table
        return tite_decision_table(self, n_max)


#: true DLT rates (and scenario options) the conformance cases are logged under, by number of doses
_CONFORMANCE_SCENARIOS = {
    5: [((0.05, 0.15, 0.3, 0.45, 0.6), {}), ((0.45, 0.55, 0.6, 0.7, 0.8), {"accrual": "uniform"})],
    4: [((0.1, 0.2, 0.35, 0.5), {"accrual_rate": 5.0}), ((0.4, 0.5, 0.6, 0.7), {"late_onset": 0.8})],
}


def tite_boin(target: float, doses: int | list[float] | tuple[float, ...], cohort_size: int = 3,
              cohorts: int | None = None, **options) -> TiteBoinDesign:
    """Build a :class:`TiteBoinDesign`; ``doses`` is a number of levels or the list of dose values."""
    cohorts = cohorts_option(cohorts, options, "tite_boin")
    if isinstance(doses, (str, bytes, bool)):
        raise ValueError(f"The 'doses' argument of tite_boin must be a number of dose levels or a list of doses. "
                         f"Got {doses!r}.")
    if isinstance(doses, (list, tuple)):
        return TiteBoinDesign(target=target, n_doses=len(doses), dose_levels=tuple(doses), cohort_size=cohort_size,
                              n_cohorts=cohorts, **options)
    return TiteBoinDesign(target=target, n_doses=doses, cohort_size=cohort_size, n_cohorts=cohorts, **options)
