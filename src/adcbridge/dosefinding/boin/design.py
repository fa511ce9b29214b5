"""The BOIN design specification (Liu & Yuan 2015; rules as in the R package BOIN 2.7.2).

A :class:`BoinDesign` is inert: it holds the parameters of a single-agent BOIN trial and validates them.  What a
design *does* lives elsewhere: :mod:`.boundaries` (decision table), :mod:`.decision` (next dose in a live
trial), :mod:`.selection` (MTD), :mod:`adcbridge.dosefinding.simulate` and :mod:`adcbridge.dosefinding.exact`
(operating characteristics).  Protocol rules are added with methods that return new specs and read like the
protocol::

    >>> from adcbridge.dosefinding import boin
    >>> d = boin(target=0.3, doses=7, cohort_size=3, cohorts=10).stop_early_at(12).with_extra_safety(0.05)
    >>> d.n_earlystop, d.extrasafe
    (12, True)
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from ..design import DoseFindingDesign, cohorts_option
from .params import (
    check_dose_levels,
    check_interval,
    check_offset,
    check_start_dose,
    check_target,
    warn_low_n_earlystop,
)

__all__ = ["BoinDesign", "boin"]


class BoinDesign(DoseFindingDesign):
    """Single-agent BOIN design.

    Parameters
    ----------
    target : float
        Target DLT probability phi, in [0.05, 0.6].
    n_doses : int
        Number of dose levels J (levels are 1-based in every output).
    cohort_size, n_cohorts : int
        Cohort size and maximum number of cohorts; the maximum sample size is their product.
    p_saf, p_tox : float, optional
        Highest DLT probability deemed sub-therapeutic (default 0.6*phi) and lowest deemed overly toxic
        (default 1.4*phi).  As in BOIN 2.7.2 they must differ from the target by at least 10% of the target.
    cutoff_eli : float
        Posterior probability Pr(p > phi | data) above which a dose (and all higher doses) is eliminated
        (default 0.95; Beta(1, 1) prior; only once a dose has >= 3 patients).
    extrasafe, offset : bool, float
        Extra safety rule: stop the trial if Pr(p_1 > phi | data) > cutoff_eli - offset at the lowest dose.
    n_earlystop : int
        Stop the trial when the current dose has this many patients *and* the next decision is to stay
        (default 100, i.e. practically never).
    start_dose : int
        1-based starting dose level.
    titration : bool
        Accelerated titration: one patient per dose from dose 1 until the first DLT, then fill that dose up to a
        full cohort (ignored -- as in the reference -- when ``cohort_size == 1``).
    bound_mtd : bool
        At MTD selection, only doses whose isotonic estimate is <= lambda_d may be selected.
    dose_levels : tuple of float, optional
        The doses themselves (e.g. mg/kg), strictly increasing, for labels and reports.
    dose_unit : str
        Unit of ``dose_levels``.
    """

    spec_name: ClassVar[str] = "boin"

    target: float = Field(description="target DLT probability")
    n_doses: int = Field(ge=1, le=50)
    cohort_size: int = Field(3, ge=1, le=50)
    n_cohorts: int = Field(10, ge=1, le=500)
    p_saf: float | None = None
    p_tox: float | None = None
    cutoff_eli: float = Field(0.95, gt=0.5, lt=1.0)
    extrasafe: bool = False
    offset: float = Field(0.05, ge=0.0)
    n_earlystop: int = Field(100, ge=1)
    start_dose: int = Field(1, ge=1)
    titration: bool = False
    bound_mtd: bool = False
    dose_levels: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    _target_range = field_validator("target")(check_target)
    _offset_range = field_validator("offset")(check_offset)

    @model_validator(mode="after")
    def _relations(self) -> BoinDesign:
        check_interval("boin", self.target, self.phi1, self.phi2)
        check_start_dose("boin", self.start_dose, self.n_doses)
        check_dose_levels("boin", self.dose_levels, self.n_doses)
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

    @property
    def uses_titration(self) -> bool:
        """Titration as applied (the reference turns it off for cohorts of one)."""
        return self.titration and self.cohort_size > 1

    # ------------------------------------------------------------------------- the design core (design.py)
    @property
    def first_dose(self) -> int:
        """Dose 1 with accelerated titration (whatever the start dose), else the start dose."""
        return 1 if self.uses_titration else self.start_dose

    def overly_toxic(self, target: float) -> float:
        """p_tox: the lowest DLT rate deemed overly toxic defines the true MTD of a scenario."""
        return self.phi2

    def _policy(self):
        from .policy import BoinPolicy
        return BoinPolicy(self)

    def _decision(self, history):
        from .decision import next_dose
        return next_dose(self, history.cohorts(), history=history)

    def decide_counts(self, n, dlt, current_dose):
        """The decision from per-dose counts and the current dose (no patient history)."""
        if self.rules:
            raise ValueError("a design with protocol rules decides on the patients' history ('outcomes'), not on "
                             "per-dose counts.")
        from .decision import next_dose
        return next_dose(self, n=n, dlt=dlt, current_dose=current_dose)

    def select_from_counts(self, n, y) -> int | None:
        from .selection import select_mtd
        return select_mtd(self, n, y).mtd

    def native_rule(self, rule):
        """BOIN's own parameters for three rules (see :mod:`adcbridge.dosefinding.rules`): ``stop_at_n_on_dose``
        is ``n_earlystop``, ``stop_when_lowest_too_toxic`` the extra safety rule, ``max_cohorts`` ``n_cohorts``;
        a limit the design already has is kept where it is stricter."""
        if rule.kind == "stop_at_n_on_dose":
            return self.replace(n_earlystop=min(self.n_earlystop, rule.n))
        if rule.kind == "max_cohorts":
            return self.replace(n_cohorts=min(self.n_cohorts, rule.k))
        if rule.kind == "stop_when_lowest_too_toxic" and rule.min_n == 3 and rule.target in (None, self.target):
            offset = round(self.cutoff_eli - rule.cutoff, 12)
            if not 0 <= offset < 0.5:
                raise ValueError(f"BOIN's extra safety cut-off is cutoff_eli - offset with offset in [0, 0.5): "
                                 f"{rule.cutoff:g} is not below cutoff_eli = {self.cutoff_eli:g} by such an "
                                 f"offset.")
            return self.replace(extrasafe=True, offset=offset)
        return None

    def _protocol_text(self) -> str:
        from ..protocol import boin_text
        return boin_text(self)

    # ------------------------------------------------------------------------------- protocol-rule wrappers
    def stop_early_at(self, n: int) -> BoinDesign:
        """Stop once ``n`` patients are at the current dose and the decision is to stay (BOIN's n.earlystop):
        the protocol rule :func:`~adcbridge.dosefinding.rules.stop_at_n_on_dose`."""
        from ..rules import stop_at_n_on_dose
        return stop_at_n_on_dose(self, n)

    def with_extra_safety(self, offset: float = 0.05) -> BoinDesign:
        """Stop the trial if the lowest dose is overly toxic with Pr > cutoff_eli - offset: the protocol rule
        :func:`~adcbridge.dosefinding.rules.extra_safety_at_lowest`."""
        from ..rules import extra_safety_at_lowest
        return extra_safety_at_lowest(self, offset)

    def with_titration(self) -> BoinDesign:
        """Accelerated titration: one patient per dose from dose 1 until the first DLT."""
        return self.replace(titration=True)

    def starting_at(self, level: int) -> BoinDesign:
        return self.replace(start_dose=level)

    def bounding_mtd(self) -> BoinDesign:
        """Never select a dose whose isotonic DLT estimate exceeds lambda_d."""
        return self.replace(bound_mtd=True)


def boin(target: float, doses: int | list[float] | tuple[float, ...], cohort_size: int = 3,
         cohorts: int | None = None, **options) -> BoinDesign:
    """Build a :class:`BoinDesign`; ``doses`` is a number of levels or the list of dose values."""
    cohorts = cohorts_option(cohorts, options, "boin")
    if isinstance(doses, (str, bytes, bool)):
        raise ValueError(f"The 'doses' argument of boin must be a number of dose levels or a list of doses. "
                         f"Got {doses!r}.")
    if isinstance(doses, (list, tuple)):
        return BoinDesign(target=target, n_doses=len(doses), dose_levels=tuple(doses), cohort_size=cohort_size,
                          n_cohorts=cohorts, **options)
    return BoinDesign(target=target, n_doses=doses, cohort_size=cohort_size, n_cohorts=cohorts, **options)
