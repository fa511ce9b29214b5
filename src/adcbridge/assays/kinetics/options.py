"""Options of a binding-kinetics fit (an inert, validated specification) and concentration units."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from adcbridge.spec import Spec

__all__ = ["KineticsOptions", "SteadyStateOptions", "MOLAR", "molar_factor"]

#: concentration unit -> factor to molar
MOLAR = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "µM": 1e-6, "μM": 1e-6, "nM": 1e-9, "pM": 1e-12, "fM": 1e-15}


def molar_factor(unit: str) -> float:
    """The factor that converts a concentration in ``unit`` (M, mM, uM/µM, nM, pM, fM) to molar."""
    key = str(unit).strip()
    if key not in MOLAR:
        raise ValueError(f"must be one of {sorted(set(MOLAR) - {'μM'})}; got {unit!r}")
    return MOLAR[key]


def _unit(v):
    if v is None:
        return v
    molar_factor(v)
    return str(v).strip()


def _range(v):
    lo, hi = v
    if not (0 < lo < hi):
        raise ValueError(f"must be (low, high) with 0 < low < high; got {tuple(v)}")
    return v


class KineticsOptions(Spec):
    """How to fit a 1:1 binding model to SPR/BLI sensorgrams (multi- or single-cycle kinetics).

    * ``t_on``, ``t_off`` -- injection start and end (s, on the data's own time axis) shared by all cycles of a
      multi-cycle experiment.  Leave them out only when an ``injections`` table is given to
      :func:`~adcbridge.assays.kinetics.fit_kinetics` (single-cycle kinetics, or per-cycle times).
    * ``conc_unit`` -- unit of the concentration column (M, mM, uM, nM, pM, fM); ``None`` means the table has a
      ``conc_unit`` column (given with such a column, the two must agree).
    * ``rmax`` -- ``"global"`` (one surface capacity) or ``"local"`` (one per cycle).
    * ``bulk`` -- fit a bulk refractive-index step for each injection (present only while sample flows,
      ``t_on <= t <= t_off``).
    * ``drift`` -- linear baseline drift ``slope * (t - t0)``, t0 the cycle's first sample (so the fit does not
      depend on where the time axis starts): ``"none"``, ``"global"`` (one slope) or ``"local"`` (one per cycle).
      ``True``/``False`` mean ``"global"``/``"none"``.
    * ``mass_transport`` -- fit the two-compartment (mass-transport-limited) model with transport coefficient
      ``kt`` (RU/(M s)) instead of the plain Langmuir model.
    * Quality checks: ``ka_range`` (1/(M s)) and ``kd_range`` (1/s), the instrument's measurable ranges (defaults
      are typical of Biacore instruments; set your instrument's); ``rmax_theoretical`` (RU) with
      ``rmax_ratio_range`` (the accepted fitted/theoretical ratio); ``max_correlation`` and ``max_relative_se``
      for non-identifiability; ``max_residual_autocorrelation`` (lag 1, within cycles) for systematic
      residuals.
    * ``confidence`` -- the level of the confidence intervals.
    """

    spec_name: ClassVar[str] = "kinetics"
    t_on: float | None = None
    t_off: float | None = None
    conc_unit: str | None = None
    rmax: Literal["global", "local"] = "global"
    bulk: bool = False
    drift: Literal["none", "global", "local"] = "none"
    mass_transport: bool = False
    response_unit: str = "RU"
    ka_range: tuple[float, float] = (1e3, 1e7)
    kd_range: tuple[float, float] = (1e-5, 1e-1)
    rmax_theoretical: float | None = Field(None, gt=0)
    rmax_ratio_range: tuple[float, float] = (0.5, 1.5)
    max_correlation: float = Field(0.99, gt=0, le=1)
    max_relative_se: float = Field(0.5, gt=0)
    max_residual_autocorrelation: float = Field(0.25, gt=0, le=1)
    confidence: float = Field(0.95, gt=0, lt=1)

    @field_validator("drift", mode="before")
    @classmethod
    def _drift(cls, v):
        if v is True:
            return "global"
        if v is False or v is None:
            return "none"
        return v

    @field_validator("t_on", "t_off")
    @classmethod
    def _finite(cls, v):
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite time (s)")
        return v

    @field_validator("conc_unit")
    @classmethod
    def _conc_unit(cls, v):
        return _unit(v)

    @field_validator("ka_range", "kd_range", "rmax_ratio_range")
    @classmethod
    def _ranges(cls, v):
        return _range(v)

    @model_validator(mode="after")
    def _times(self):
        if (self.t_on is None) != (self.t_off is None):
            missing = "t_off" if self.t_off is None else "t_on"
            raise ValueError(f"The '{missing}' parameter of kinetics is required when "
                             f"'{'t_on' if missing == 't_off' else 't_off'}' is given (injection start and end, s).")
        if self.t_on is not None and not self.t_off > self.t_on:
            raise ValueError(f"The 't_off' parameter of kinetics must be after 't_on' ({self.t_on}). "
                             f"Got {self.t_off}.")
        return self


class SteadyStateOptions(Spec):
    """Steady-state (equilibrium) affinity: ``R_eq = Rmax C / (C + KD)`` (+ ``offset`` when ``offset=True``)
    fitted to report points (see :func:`~adcbridge.assays.kinetics.report_points`).  ``conc_unit`` as in
    :class:`KineticsOptions`.  A report point whose response still changed by more than ``max_final_change``
    (a fraction of its level) over the last part of the injection has not reached steady state and is flagged.
    ``max_relative_se`` (default 0.5) is the largest relative standard error of KD (the SE of ln KD) of a fit
    that is not flagged ``non_identifiable``."""

    spec_name: ClassVar[str] = "steady_state"
    conc_unit: str | None = None
    offset: bool = False
    response_unit: str = "RU"
    max_final_change: float = Field(0.05, gt=0)
    max_relative_se: float = Field(0.5, gt=0)
    confidence: float = Field(0.95, gt=0, lt=1)

    @field_validator("conc_unit")
    @classmethod
    def _conc_unit(cls, v):
        return _unit(v)
