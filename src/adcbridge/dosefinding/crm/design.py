"""The CRM design specification and its vectorised conduct.

Conduct (as dfcrm's simulator, with an optional safety stop):

* cohorts of ``cohort_size`` start at ``start_dose``; after each cohort the posterior is updated and the
  recommended dose is the one whose plug-in estimate is closest to the target (the lower on ties);
* **no skipping**: the next dose is at most one level above the current one (dfcrm's rule), unless
  ``allow_skipping``; **coherence**: no escalation right after a cohort whose DLT rate is >= target;
* **safety stop** (``stop_cutoff``, default 0.9; None turns it off): the trial stops without an MTD once
  Pr(p_1 > target | data) > stop_cutoff with at least ``stop_min_n`` patients at dose 1;
* after ``n_cohorts`` cohorts the MTD is the unrestricted recommendation.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from ..design import DoseFindingDesign, cohorts_option
from ..engine import EndReason, TrialState
from .model import CrmModel, indifference_skeleton

__all__ = ["CrmDesign", "crm", "CrmPolicy"]


class CrmDesign(DoseFindingDesign):
    """One-parameter Bayesian CRM design.

    Give a ``skeleton``, or let the design build the indifference-interval skeleton (Lee & Cheung 2009) from
    ``halfwidth`` (default 0.05) and ``prior_mtd`` (default the middle dose, ``(n_doses + 1) // 2``).  These
    defaults live here only: the command line, trial YAML files and the report all get them from the spec.

    The parameters are dfcrm's: ``model`` (``empiric`` or ``logistic``), the logistic ``intercept`` (default 3),
    the prior variance of beta ``prior_var`` (default 1.34).  ``allow_skipping`` lets the next dose go more than
    one level above the current one (the unrestricted recommendation; coherence still holds).
    """

    spec_name: ClassVar[str] = "crm"

    target: float
    n_doses: int = Field(ge=2, le=50)
    skeleton: tuple[float, ...] | None = None
    halfwidth: float | None = None
    prior_mtd: int | None = None
    model: Literal["empiric", "logistic"] = "empiric"
    intercept: float | None = None
    prior_var: float = Field(1.34, gt=0)
    cohort_size: int = Field(3, ge=1, le=50)
    n_cohorts: int = Field(10, ge=1, le=500)
    start_dose: int = Field(1, ge=1)
    stop_cutoff: float | None = 0.9
    stop_min_n: int = Field(3, ge=1)
    allow_skipping: bool = False
    dose_levels: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    DEFAULT_HALFWIDTH: ClassVar[float] = 0.05
    DEFAULT_INTERCEPT: ClassVar[float] = 3.0

    @model_validator(mode="before")
    @classmethod
    def _default_skeleton(cls, data):
        """Without a skeleton: half-width 0.05 and the prior MTD at the middle dose unless given.  With one,
        half-width and prior MTD are refused (they would be ignored)."""
        if isinstance(data, dict) and data.get("skeleton") is not None:
            given = [k for k in ("halfwidth", "prior_mtd") if data.get(k) is not None]
            if given:
                raise ValueError(f"crm takes a 'skeleton', or 'halfwidth' and 'prior_mtd' to build one, not both "
                                 f"(got skeleton and {' and '.join(given)}).")
        if isinstance(data, dict) and data.get("skeleton") is None:
            data = dict(data)
            if data.get("halfwidth") is None:
                data["halfwidth"] = cls.DEFAULT_HALFWIDTH
            n = data.get("n_doses")
            if data.get("prior_mtd") is None and isinstance(n, int) and not isinstance(n, bool) and n >= 1:
                data["prior_mtd"] = (n + 1) // 2
        return data

    @field_validator("target")
    @classmethod
    def _target(cls, v):
        if not 0 < v < 1:
            raise ValueError("must be in (0, 1)")
        return v

    @field_validator("stop_cutoff")
    @classmethod
    def _cutoff(cls, v):
        if v is not None and not 0.5 <= v < 1:
            raise ValueError("must be in [0.5, 1) or None")
        return v

    @model_validator(mode="after")
    def _check(self):
        if self.skeleton is None and (self.halfwidth is None or self.prior_mtd is None):
            raise ValueError("crm needs a 'skeleton', or 'halfwidth' and 'prior_mtd' for the indifference-interval "
                             "skeleton.")
        if self.skeleton is not None and len(self.skeleton) != self.n_doses:
            raise ValueError(f"The 'skeleton' parameter of crm must have n_doses = {self.n_doses} values. "
                             f"Got {len(self.skeleton)}.")
        if self.skeleton is None and not 1 <= self.prior_mtd <= self.n_doses:
            raise ValueError(f"The 'prior_mtd' parameter of crm must be one of the {self.n_doses} dose levels, "
                             f"1..{self.n_doses} (the level whose skeleton value is the target). Got "
                             f"{self.prior_mtd}.")
        if self.start_dose > self.n_doses:
            raise ValueError(f"The 'start_dose' parameter of crm must be in 1..{self.n_doses}. Got {self.start_dose}.")
        if self.dose_levels is not None and len(self.dose_levels) != self.n_doses:
            raise ValueError(f"The 'dose_levels' parameter of crm must have {self.n_doses} values. "
                             f"Got {len(self.dose_levels)}.")
        if self.intercept is not None and self.model != "logistic":
            raise ValueError(f"The 'intercept' parameter of crm applies to the logistic model only (model is "
                             f"{self.model!r}).")
        try:
            self.working_model()  # validates the skeleton against the model
        except ValueError as exc:
            if self.skeleton is not None:
                raise
            raise ValueError(f"crm's indifference-interval skeleton (target {self.target:g}, halfwidth "
                             f"{self.halfwidth:g}, prior_mtd {self.prior_mtd}, {self.model} model, intercept "
                             f"{self.logistic_intercept:g}) is not a valid skeleton: "
                             f"{str(exc).splitlines()[0]}") from None
        return self

    @property
    def max_sample_size(self) -> int:
        return self.cohort_size * self.n_cohorts

    @property
    def logistic_intercept(self) -> float:
        """The intercept of the logistic model: the given one or 3 (dfcrm's default)."""
        return self.DEFAULT_INTERCEPT if self.intercept is None else self.intercept

    @property
    def prior_sd(self) -> float:
        """The prior standard deviation of beta, sqrt(prior_var)."""
        return self.prior_var ** 0.5

    # ------------------------------------------------------------------------- the design core (design.py)
    @property
    def allows_skipping(self) -> bool:
        return self.allow_skipping

    def _policy(self) -> CrmPolicy:
        return CrmPolicy(self)

    def select_from_counts(self, n, y) -> int | None:
        """The recommendation (the dose whose plug-in estimate is closest to the target)."""
        _, rec = recommend(self.working_model(), np.atleast_2d(n), np.atleast_2d(y))
        return int(rec[0]) + 1

    def native_rule(self, rule):
        """``max_cohorts`` is CRM's own ``n_cohorts`` (the stricter of the two)."""
        return self.replace(n_cohorts=min(self.n_cohorts, rule.k)) if rule.kind == "max_cohorts" else None

    def _decision(self, history):
        from .decision import decide
        return decide(self, history)

    def _protocol_text(self) -> str:
        from ..protocol import crm_text
        return crm_text(self)

    def skeleton_values(self) -> tuple[float, ...]:
        if self.skeleton is not None:
            return self.skeleton
        return indifference_skeleton(self.target, self.halfwidth, self.prior_mtd, self.n_doses, self.model,
                                     self.logistic_intercept)

    def working_model(self) -> CrmModel:
        return CrmModel(self.skeleton_values(), self.model, self.logistic_intercept, self.prior_sd,
                        target=self.target)


def crm(target: float, doses: int | list[float], skeleton=None, cohort_size: int = 3, cohorts: int | None = None,
        **options) -> CrmDesign:
    cohorts = cohorts_option(cohorts, options, "crm")
    if isinstance(doses, (list, tuple)):
        options.setdefault("dose_levels", tuple(doses))
        doses = len(doses)
    return CrmDesign(target=target, n_doses=doses, skeleton=None if skeleton is None else tuple(skeleton),
                     cohort_size=cohort_size, n_cohorts=cohorts, **options)


def recommend(model: CrmModel, n, y):
    """(posterior, unrestricted recommendation 0-based) for rows of counts."""
    post = model.posterior(n, y)
    rec = np.abs(post.p_hat - model.target).argmin(axis=1).astype(np.int32)
    return post, rec


def allowed_dose(design: CrmDesign, rec, dose, dlt, size):
    """The next dose (0-based) given the recommendation ``rec`` after a cohort of ``size`` at ``dose`` with ``dlt``
    DLTs: no escalation right after a cohort with DLT rate >= target (coherence), and at most one level up unless
    the design allows skipping.  Shared by the policy and the live decision."""
    toxic = dlt >= design.target * size
    cap = np.where(toxic, dose, dose + 1 if not design.allow_skipping else np.iinfo(np.int32).max)
    return np.minimum(rec, cap).astype(np.int32)


class CrmPolicy:
    """Vectorised CRM conduct (see the module docstring)."""

    def __init__(self, design: CrmDesign):
        self.design = design
        self.model = design.working_model()
        self.n_doses = design.n_doses
        self.npts = design.max_sample_size
        self.max_patients = self.npts

    def initial(self, size: int) -> TrialState:
        return TrialState.start(size, self.n_doses, self.design.start_dose - 1, cohort=0, rec=-1)

    def next_cohort(self, s: TrialState):
        return s.dose.copy(), np.full(len(s), self.design.cohort_size, dtype=np.int32)

    def record(self, s: TrialState, dose, size, dlt, rows) -> None:
        d = self.design
        s.add(rows, dose, size, dlt)
        a = s.aux
        a["cohort"] += rows
        idx = np.flatnonzero(rows)
        post, rec = recommend(self.model, s.n[idx], s.y[idx])
        a["rec"][idx] = rec
        s.dose[idx] = allowed_dose(d, rec, dose[idx], dlt[idx], size[idx])
        if d.stop_cutoff is not None:
            p_low = self.model.prob_lowest_too_toxic(post, s.n[idx], s.y[idx], d.stop_cutoff)
            stop = (p_low > d.stop_cutoff) & (s.n[idx, 0] >= d.stop_min_n)
            mask = np.zeros(len(s), dtype=bool)
            mask[idx[stop]] = True
            s.finish(mask, EndReason.SAFETY_STOP)
        s.finish(s.active & rows & (a["cohort"] >= d.n_cohorts), EndReason.COMPLETED)

    def select(self, s: TrialState) -> np.ndarray:
        return np.where(s.end == EndReason.SAFETY_STOP, -1, s.aux["rec"])

    def state_key(self, s: TrialState) -> np.ndarray:
        a = s.aux
        return np.column_stack([s.n, s.y, s.dose, a["cohort"], a["rec"]])

    def overdose_denominator(self, s: TrialState) -> np.ndarray:
        return np.full(len(s), self.npts)
