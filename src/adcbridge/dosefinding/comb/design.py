"""The drug-combination BOIN design specification (Lin & Yin 2017; the waterfall design of Zhang & Yuan 2016;
rules as in the R package BOIN 2.7.2, with the differences listed in ``docs/comb_boin.md``).

A :class:`CombBoinDesign` is inert: it holds the parameters of a trial of two agents on a J x K grid of dose
combinations (rows = levels of agent A, columns = levels of agent B) and validates them.  What it does lives in
:mod:`.kernel` (the decision rules, as array functions), :mod:`.waterfall` (subtrials), :mod:`.selection` (MTD),
:mod:`.decision` (the live decision) and :mod:`.simulate` (operating characteristics).

>>> from adcbridge.dosefinding import comb_boin
>>> d = comb_boin(0.3, grid=(3, 5))
>>> d.n_doses, d.start_dose, d.earlystop
(15, (1, 1), 100)
"""

from __future__ import annotations

import math
import re
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from ..boin.params import check_dose_levels, check_interval, check_offset, check_target, warn_low_n_earlystop
from ..design import DoseFindingDesign

__all__ = ["MAX_LEVELS", "CombBoinDesign", "comb_boin"]

DEFAULT_COHORTS = 10    # cohorts of the one-MTD design when n_cohorts is not given
MAX_LEVELS = 8          # levels per agent (the exact isotonic regression enumerates C(J + K, J) staircases)


def _pair(value, what: str):
    """A pair of whole numbers from (a, b), [a, b], "a,b" or "AxB" text."""
    if isinstance(value, str):
        parts = re.split(r"\s*[x,;]\s*", value.strip().strip("()[]"))
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"must be {what}, got {value!r}") from None
    return value


class CombBoinDesign(DoseFindingDesign):
    """Drug-combination BOIN design (one MTD, or an MTD contour by the waterfall design).

    Parameters
    ----------
    target : float
        Target DLT probability phi, in [0.05, 0.6].
    grid : (int, int)
        (J, K): levels of agent A (rows) and of agent B (columns); ``"3x5"`` is read as (3, 5).  The waterfall
        design needs J <= K (give the agent with fewer levels as agent A).
    cohort_size : int
        Patients per cohort (3), in both designs (the waterfall's subtrials treat cohorts of this size).
    n_cohorts : int, optional
        One-MTD design: the number of cohorts (default 10; the command line's ``--cohorts``, a sweep's
        ``sample_sizes``).  The waterfall design refuses it: its subtrials have their own numbers of cohorts,
        ``subtrial_cohorts`` (None there).
    start_dose : (int, int)
        Starting combination (a, b), default (1, 1).
    n_earlystop : int, optional
        Stop when the current combination has this many patients (one MTD: and the decision is to stay).
        Default 100 (one MTD) or 12 (waterfall, per subtrial).
    p_saf, p_tox, cutoff_eli, extrasafe, offset : as for BOIN
        Boundaries (p_saf 0.6 phi, p_tox 1.4 phi), elimination cut-off (0.95) and the extra safety rule at (1, 1).
    bound_mtd : bool
        Select only combinations whose isotonic estimate is <= lambda_d.
    mtd_contour : bool
        False: one MTD (BOIN combination design); True: one MTD per level of agent A (the waterfall design).
    titration : bool
        One MTD: accelerated titration -- single patients from the start combination up the grid (agent B
        first, then agent A at its last level) until the first DLT or the top combination, whose cohort is then
        completed to cohort_size; the titration and its completion are the first cohort.  Off when
        cohort_size = 1.
    subtrial_cohorts : tuple of int, optional
        Waterfall: cohorts of each subtrial (J entries; default ``ceil(round(4 / cohort_size, 2) * (J + K - 1,
        K - 1, ..., K - 1))`` as in the reference).
    dose_levels_a, dose_levels_b : tuple of float, optional
        The doses of each agent (strictly increasing), for labels; ``dose_unit`` their unit.
    """

    spec_name: ClassVar[str] = "comb-boin"
    outcomes_cannot: ClassVar[str | None] = "two agents: each patient has dose_a and dose_b"

    target: float = Field(description="target DLT probability")
    grid: tuple[int, int] = Field(description="(J, K): levels of agent A (rows) and agent B (columns)")
    cohort_size: int = Field(3, ge=1, le=50)
    n_cohorts: int | None = Field(None, ge=1, le=500)
    start_dose: tuple[int, int] = (1, 1)
    n_earlystop: int | None = Field(None, ge=1)
    p_saf: float | None = None
    p_tox: float | None = None
    cutoff_eli: float = Field(0.95, gt=0.5, lt=1.0)
    extrasafe: bool = False
    offset: float = Field(0.05, ge=0.0)
    bound_mtd: bool = False
    mtd_contour: bool = False
    titration: bool = False
    subtrial_cohorts: tuple[int, ...] | None = None
    dose_levels_a: tuple[float, ...] | None = None
    dose_levels_b: tuple[float, ...] | None = None
    dose_unit: str = "mg/kg"

    @field_validator("grid", mode="before")
    @classmethod
    def _grid_text(cls, v):
        return _pair(v, "J x K levels, e.g. (3, 5) or '3x5'")

    @field_validator("start_dose", mode="before")
    @classmethod
    def _start_text(cls, v):
        return _pair(v, "a pair of levels (a, b), e.g. (1, 1) or '1,1'")

    @field_validator("grid")
    @classmethod
    def _grid_range(cls, v):
        J, K = v
        if not (1 <= J <= MAX_LEVELS and 1 <= K <= MAX_LEVELS) or J * K < 2:
            raise ValueError(f"must be (J, K) levels of agents A and B, each in 1..{MAX_LEVELS}, at least 2 "
                             f"combinations, got {v!r}")
        return v

    @field_validator("start_dose")
    @classmethod
    def _start_range(cls, v):
        if min(v) < 1:
            raise ValueError(f"must be a pair of levels (a, b), each >= 1, got {v!r}")
        return v

    _target_range = field_validator("target")(check_target)      # the BOIN family's checks and wording
    _offset_range = field_validator("offset")(check_offset)

    @model_validator(mode="after")
    def _relations(self) -> CombBoinDesign:
        name = self.spec_name
        J, K = self.grid
        check_interval(name, self.target, self.phi1, self.phi2)
        a, b = self.start_dose
        if a > J or b > K:
            raise ValueError(f"The 'start_dose' parameter of {name} must be a combination of the {J}x{K} grid "
                             f"(a in 1..{J}, b in 1..{K}). Got {self.start_dose}.")
        if self.mtd_contour:
            if J > K:
                raise ValueError(f"The 'grid' parameter of {name} has more levels of agent A than of agent B "
                                 f"({J}x{K}); the waterfall design (mtd_contour) needs J <= K: swap the agents "
                                 f"(rotate the grid to {K}x{J}, transposing p_true and the dose levels).")
            if not (a == 1 and b == 1):
                raise ValueError(f"The 'start_dose' parameter of {name} must be (1, 1) for the waterfall design "
                                 f"(mtd_contour), whose first subtrial starts at the lowest combination. Got "
                                 f"{self.start_dose}.")
            if self.titration:
                raise ValueError(f"The 'titration' parameter of {name} is for the one-MTD design; the waterfall "
                                 f"design (mtd_contour) starts with its first subtrial.")
            cohorts = self.subtrial_cohorts
            if cohorts is not None and (len(cohorts) != J or min(cohorts) < 1):
                raise ValueError(f"The 'subtrial_cohorts' parameter of {name} must give J = {J} positive numbers of "
                                 f"cohorts (the first subtrial, then one per lower level of agent A). Got "
                                 f"{list(cohorts)}.")
            if self.n_cohorts is not None:
                raise ValueError(
                    f"The 'n_cohorts' parameter of {name} is for the one-MTD design (on the command line --cohorts, "
                    f"in a sweep sample_sizes); the waterfall design (mtd_contour) runs each subtrial for its own "
                    f"number of cohorts, subtrial_cohorts: J = {J} numbers (the first subtrial, then one per lower "
                    f"level of agent A), by default ceil(round(4 / cohort_size, 2) x (J + K - 1, K - 1, ...)) = "
                    f"{list(self.cohorts_per_subtrial)} here; leave n_cohorts out and set cohort_size "
                    f"(--cohort-size) or subtrial_cohorts (a design option of the API or a sweep file) instead. "
                    f"Got {self.n_cohorts}.")
        elif self.subtrial_cohorts is not None:
            raise ValueError(f"The 'subtrial_cohorts' parameter of {name} is for the waterfall design only (set "
                             f"mtd_contour); the one-MTD design has n_cohorts.")
        if not self.mtd_contour and self.n_cohorts is None:
            object.__setattr__(self, "n_cohorts", DEFAULT_COHORTS)      # frozen: set once, while validating
        for field, size in (("dose_levels_a", J), ("dose_levels_b", K)):
            check_dose_levels(name, getattr(self, field), size, field=field, count=str(size))
        warn_low_n_earlystop(self.earlystop)
        from .tables import single_agent
        try:
            single_agent(self)
            from ..boin.boundaries import count_tables
            count_tables(single_agent(self), 3 * self.max_sample_size + 3)
        except ValueError as exc:
            raise ValueError(str(exc).replace(" of boin ", f" of {name} ")) from None
        return self

    # --------------------------------------------------------------------------------------- derived values
    @property
    def J(self) -> int:
        return self.grid[0]

    @property
    def K(self) -> int:
        return self.grid[1]

    @property
    def n_doses(self) -> int:
        """Number of combinations J x K."""
        return self.grid[0] * self.grid[1]

    @property
    def dose_levels(self) -> tuple[tuple[float, float], ...] | None:
        """The (dose of A, dose of B) of every combination, row-major (None without both agents' doses)."""
        if self.dose_levels_a is None or self.dose_levels_b is None:
            return None
        return tuple((a, b) for a in self.dose_levels_a for b in self.dose_levels_b)

    @property
    def phi1(self) -> float:
        return 0.6 * self.target if self.p_saf is None else self.p_saf

    @property
    def phi2(self) -> float:
        return 1.4 * self.target if self.p_tox is None else self.p_tox

    @property
    def earlystop(self) -> int:
        """n_earlystop as used: the given value, else 100 (one MTD) or 12 (waterfall)."""
        if self.n_earlystop is not None:
            return self.n_earlystop
        return 12 if self.mtd_contour else 100

    @property
    def cohorts_per_subtrial(self) -> tuple[int, ...]:
        """Waterfall: cohorts of each subtrial (given, or the reference's default)."""
        if self.subtrial_cohorts is not None:
            return tuple(self.subtrial_cohorts)
        J, K = self.grid
        per = round(4 / self.cohort_size, 2)
        return tuple(math.ceil(per * m) for m in [J + K - 1] + [K - 1] * (J - 1))

    @property
    def uses_titration(self) -> bool:
        """Accelerated titration is on (and cohorts have more than one patient)."""
        return self.titration and self.cohort_size > 1

    @property
    def max_sample_size(self) -> int:
        cohorts = sum(self.cohorts_per_subtrial) if self.mtd_contour else self.n_cohorts
        return cohorts * self.cohort_size

    # ------------------------------------------------------------------------- the design core (design.py)
    scenario_options: ClassVar[tuple[str, ...]] = ()

    def overly_toxic(self, target: float) -> float:
        return self.phi2

    @property
    def first_dose(self) -> int:
        """The start combination as its row-major number (the core's one-agent helpers, e.g. the outcome grammar,
        need a whole number; comb-boin's histories carry (dose_a, dose_b) and are checked by
        :meth:`check_history`)."""
        return (self.start_dose[0] - 1) * self.grid[1] + self.start_dose[1]

    @property
    def reports_deviations(self) -> bool:           # type: ignore[override]
        """The waterfall lists its own deviations (``off_protocol``); the one-MTD design's are warned by
        :func:`~..decide.next_dose` (``dose_deviation``)."""
        return self.mtd_contour

    def dose_label(self, level) -> str:
        a, b = level
        if self.dose_levels_a is None or self.dose_levels_b is None:
            return f"({a}, {b})"
        return f"({a}, {b}) ({self.dose_levels_a[a - 1]:g} + {self.dose_levels_b[b - 1]:g} {self.dose_unit})"

    def dose_labels(self) -> list[str] | None:
        if self.dose_levels is None:
            return None
        return [f"{a:g} + {b:g} {self.dose_unit}" for a, b in self.dose_levels]

    def check_history(self, history):
        from .history import check_comb_history
        return check_comb_history(self, history)

    def _decision(self, history):
        from .decision import decide
        return decide(self, history)

    def decide_counts(self, n, dlt, current_dose):
        """The one-MTD decision from per-combination counts and the current combination (``next.comb``)."""
        from .decision import decide_counts
        return decide_counts(self, n, dlt, current_dose)

    def simulate_oc(self, p_true, *, n_trials: int, seed: int, target: float | None = None, **scenario):
        from .simulate import simulate_comb
        return simulate_comb(self, p_true, n_trials=n_trials, seed=seed, target=target)

    @classmethod
    def conformance_specs(cls) -> list:
        return [comb_boin(0.3, grid=(3, 4), n_cohorts=12),
                comb_boin(0.25, grid=(2, 3), n_cohorts=10, n_earlystop=9, extrasafe=True, cutoff_eli=0.9),
                comb_boin(0.3, grid=(3, 4), start_dose=(2, 1), cohort_size=2, n_cohorts=14, bound_mtd=True),
                comb_boin(0.3, grid=(3, 4), n_cohorts=10, n_earlystop=12, titration=True),
                comb_boin(0.3, grid=(3, 4), mtd_contour=True),
                comb_boin(0.25, grid=(2, 4), mtd_contour=True, subtrial_cohorts=(5, 4), n_earlystop=9,
                          extrasafe=True)]

    def conformance_cases(self, n_trials: int = 40, seed: int = 1):
        from .logs import conformance_cases
        return conformance_cases(self, n_trials=n_trials, seed=seed)

    def pathways(self, n_cohorts: int = 3):
        from .logs import pathways
        return pathways(self, n_cohorts)

    def select_from_counts(self, n, y):
        from .decision import select_from_grid
        return select_from_grid(self, n, y)[0]

    def _protocol_text(self) -> str:
        from .protocol import protocol_text
        return protocol_text(self)


def comb_boin(target: float, grid, cohort_size: int = 3, n_cohorts: int | None = None, **options) -> CombBoinDesign:
    """Build a :class:`CombBoinDesign` on a J x K ``grid`` ((3, 5) or ``"3x5"``); ``n_cohorts`` (one MTD) defaults
    to 10, and the waterfall (``mtd_contour=True``) refuses it (its subtrials have ``subtrial_cohorts``)."""
    return CombBoinDesign(target=target, grid=grid, cohort_size=cohort_size, n_cohorts=n_cohorts, **options)
