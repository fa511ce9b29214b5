"""The BOIN12 design specification (Lin, Zhou, Yuan, Lee 2020, JCO Precision Oncology): a phase I/II design that
finds the optimal biological dose (OBD) from toxicity and efficacy, with the rules of its reference
implementation, phase12designs 0.2.0 ``oc_boin12`` (with Iso 0.0-18.1).

A :class:`Boin12Design` is inert: it holds and validates the parameters.  The rules live in
:mod:`.boundaries` (boundaries, benchmark, desirability), :mod:`.kernel` (the decision after a cohort, shared by
the simulator and the live decision), :mod:`.decision` (the live decision), :mod:`.selection` and
:mod:`.unimodal` (the OBD at the end), :mod:`.simulate` and :mod:`.oc` (operating characteristics),
:mod:`.pathways` and :mod:`.protocol` (tables and text for protocols).

>>> from adcbridge.dosefinding import boin12
>>> d = boin12(target=0.3, efficacy_min=0.25, doses=5)
>>> d.utility, d.cutoff_eli, d.cutoff_futility, d.max_sample_size
((60.0, 40.0), 0.95, 0.95, 30)
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ..boin.params import check_dose_levels, check_start_dose, check_target
from ..design import DoseFindingDesign, cohorts_option

__all__ = ["Boin12Design", "boin12"]


class Boin12Design(DoseFindingDesign):
    """Single-agent BOIN12 design.

    Parameters (reference argument in brackets)
    -------------------------------------------
    target : float
        Target (highest acceptable) DLT probability [``target_t``], in [0.05, 0.6].
    efficacy_min : float
        Lowest acceptable response probability [``lower_e``], in (0, 1).
    n_doses : int
        Number of dose levels J [``ndose``].
    cohort_size, n_cohorts : int
        Cohort size (default 3) and number of cohorts (default 10) [``cohortsize``, ``ncohort``]; the trial
        treats ``n_cohorts * cohort_size`` patients unless it stops early.
    start_dose : int
        1-based starting dose [``startdose``], default 1.
    utility : (float, float)
        Utilities (u11, u00) of a patient with both response and DLT, and with neither, on a 0-100 scale where a
        response without DLT scores 100 and a DLT without response 0 [``u1``, ``u2``]; default (60, 40) (the
        reference's ``utilitytype = 1``; ``(100, 0)`` is its type 2).
    cutoff_eli : float
        Toxicity elimination: a dose (and every higher one) is eliminated when Pr(DLT rate > target) >
        cutoff_eli [``psafe``], default 0.95.
    cutoff_futility : float
        Futility elimination: a dose is eliminated when Pr(response rate < efficacy_min) > cutoff_futility
        [``pfutility``], default 0.95 (the default of ``oc_boin12``).
    p_saf, p_tox : float, optional
        DLT rates deemed sub-therapeutic and overly toxic for the escalation boundaries (default 0.6 and 1.4 x
        target; ``oc_boin12`` cannot change them, its ``get.boundary`` can).
    efficacy_fit : "unimodal" | "isotonic"
        Efficacy estimate at OBD selection: the model average of unimodal fits computed as Iso 0.0-18.1 does
        (the reference environment; default), or the non-decreasing isotonic fit that the same reference code
        gives with Iso >= 0.0-19.
    dose_levels, dose_unit :
        The doses themselves (strictly increasing) and their unit, for labels.
    """

    spec_name: ClassVar[str] = "boin12"
    outcomes_cannot: ClassVar[str | None] = "toxicity and efficacy: each patient has an efficacy outcome"

    target: float = Field(description="target DLT probability")
    efficacy_min: float = Field(description="lowest acceptable response probability")
    n_doses: int = Field(ge=1, le=50)
    cohort_size: int = Field(3, ge=1, le=50)
    n_cohorts: int = Field(10, ge=1, le=500)
    start_dose: int = Field(1, ge=1)
    utility: tuple[float, float] = (60.0, 40.0)
    cutoff_eli: float = Field(0.95, gt=0.5, lt=1.0)
    cutoff_futility: float = Field(0.95, gt=0.5, lt=1.0)
    p_saf: float | None = None
    p_tox: float | None = None
    efficacy_fit: Literal["unimodal", "isotonic"] = "unimodal"
    dose_levels: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    _target_range = field_validator("target")(check_target)

    @field_validator("efficacy_min")
    @classmethod
    def _efficacy_range(cls, v: float) -> float:
        if not (0 < v < 1):
            raise ValueError("must be a response probability in (0, 1)")
        return v

    @field_validator("utility", mode="before")
    @classmethod
    def _utility_pair(cls, v):
        if isinstance(v, str):              # "60,40" as the command line writes it
            parts = [p.strip() for p in v.split(",")]
            try:
                v = tuple(float(p) for p in parts)
            except ValueError:
                raise ValueError(f"must be two utilities 'u11,u00' (numbers in [0, 100]), got {v!r}") from None
        if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__") or len(v) != 2:
            raise ValueError(f"must be a pair (u11, u00) of utilities in [0, 100], got {v!r}")
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v):
            raise ValueError(f"must be a pair (u11, u00) of numbers in [0, 100], got {v!r}")
        if any(not 0 <= x <= 100 for x in v):
            raise ValueError(f"must be a pair (u11, u00) of utilities in [0, 100] (a response without DLT scores "
                             f"100, a DLT without response 0), got {tuple(v)!r}")
        u11, u00 = (float(x) for x in v)
        if u11 <= 1 and u00 <= 1 and (u11, u00) != (0.0, 0.0):
            raise ValueError(f"must be on a 0-100 scale, as utilities are (a response without DLT scores 100): "
                             f"give {u11 * 100:g},{u00 * 100:g}, not fractions; got {u11:g},{u00:g}")
        if u11 + u00 > 100:
            raise ValueError(f"must have u11 + u00 at most 100, got {u11:g} + {u00:g} = {u11 + u00:g}: with more, "
                             f"a dose's quasi-successes ((u11 x responses + u00 x patients without DLT) / 100) "
                             f"would exceed its patients and its desirability would be undefined; lower u11 or u00")
        return u11, u00

    @model_validator(mode="after")
    def _relations(self) -> Boin12Design:
        phi = self.target
        if not 0 < self.phi1 < phi:
            raise ValueError(f"The 'p_saf' parameter of boin12 must be in (0, target) = (0, {phi:g}). "
                             f"Got {self.phi1!r}.")
        if not phi < self.phi2 < 1:
            raise ValueError(f"The 'p_tox' parameter of boin12 must be in (target, 1) = ({phi:g}, 1). "
                             f"Got {self.phi2!r}.")
        check_start_dose("boin12", self.start_dose, self.n_doses)
        check_dose_levels("boin12", self.dose_levels, self.n_doses)
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

    # ------------------------------------------------------------------------- the design core (design.py)
    scenario_options: ClassVar[tuple[str, ...]] = ("q_true",)
    #: the scenario options the simulator cannot do without
    required_scenario_options: ClassVar[tuple[str, ...]] = ("q_true",)
    #: every patient's response (the history's ``efficacy``) enters the decision
    uses_efficacy: ClassVar[bool] = True
    #: no times, no follow-up: the decision is on complete outcomes
    uses_times: ClassVar[bool] = False
    uses_followup: ClassVar[bool] = False

    def check_history(self, history):
        from .decision import check_history
        return check_history(self, history)

    def _decision(self, history):
        from .decision import decide
        return decide(self, history)

    def simulate_oc(self, p_true, *, n_trials: int, seed: int, target: float | None = None, **scenario):
        """Monte Carlo operating characteristics; ``q_true`` (the response probabilities) is required."""
        from .simulate import simulate_boin12
        return simulate_boin12(self, p_true, n_trials=n_trials, seed=seed, target=target, **scenario)

    @classmethod
    def conformance_specs(cls) -> list:
        return [boin12(0.3, 0.4, 5, utility=(80, 20)),
                boin12(0.25, 0.3, 6, cohorts=12, start_dose=2, utility=(50, 50), cutoff_futility=0.9),
                boin12(0.4, 0.3, 4, cohort_size=4, cohorts=8, utility=(65, 25), cutoff_eli=0.9,
                       efficacy_fit="isotonic")]

    def conformance_cases(self, n_trials: int = 40, seed: int = 1):
        from .simulate import logged_decisions
        return logged_decisions(self, n_trials=n_trials, seed=seed)

    def pathways(self, n_cohorts: int = 3):
        from .pathways import boin12_pathways
        return boin12_pathways(self, n_cohorts)

    def check_rule(self, rule) -> None:
        """BOIN12 takes no protocol rules: its stops and its OBD selection need efficacy, which the generic rules
        (and their selection from DLT counts) do not have."""
        raise ValueError(f"boin12 takes no protocol rule ({rule.kind}): its own stopping rules and OBD selection "
                         f"use efficacy as well as toxicity.")

    def _protocol_text(self) -> str:
        from .protocol import boin12_text
        return boin12_text(self)


def boin12(target: float, efficacy_min: float, doses: int | list[float] | tuple[float, ...], cohort_size: int = 3,
           cohorts: int | None = None, **options) -> Boin12Design:
    """Build a :class:`Boin12Design`; ``doses`` is a number of levels or the list of dose values."""
    cohorts = cohorts_option(cohorts, options, "boin12")
    if isinstance(doses, (str, bytes, bool)):
        raise ValueError(f"The 'doses' argument of boin12 must be a number of dose levels or a list of doses. "
                         f"Got {doses!r}.")
    if isinstance(doses, (list, tuple)):
        return Boin12Design(target=target, efficacy_min=efficacy_min, n_doses=len(doses), dose_levels=tuple(doses),
                            cohort_size=cohort_size, n_cohorts=cohorts, **options)
    return Boin12Design(target=target, efficacy_min=efficacy_min, n_doses=doses, cohort_size=cohort_size,
                        n_cohorts=cohorts, **options)
