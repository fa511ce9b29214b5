"""The first-in-human plan as one validated configuration (the schema of ``adcbridge fih --config``), and the
function that runs it: toxicology -> HNSTD/STD10 -> HED -> start dose -> ladder (with exposures and margins) ->
BOIN design.

Example (YAML, read by :func:`adcbridge.io.tox_files.load_fih_config`)::

    name: JSKN003-like FIH
    species: cynomolgus
    scaling: bsa              # bsa | body_weight_exponent | mg_per_kg
    safety_factor: 6
    tox:                      # one row per dose group and finding
      - {dose: 10, n_animals: 6, severity: none}
      - {dose: 30, n_animals: 6, finding: neutropenia, severity: moderate, reversible: true}
      - {dose: 78.8, n_animals: 6, finding: interstitial pneumonitis, severity: severe, deaths: 2}
    ladder: {scheme: doubling, n_levels: 7, switch_at_level: 3}
    exposure: {animal_cmax: 830, animal_auc: 4300, reference_dose: 1.0, human_cmax: 22, human_auc: 95}
    boin: {target: 0.3, cohort_size: 3, cohorts: 10}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from adcbridge.dosefinding import BoinDesign
from adcbridge.results import Issue, json_ready

from .fih import FihDose, fih_start_dose, occupancy_dose
from .ladder import DoseLadder, dose_ladder
from .margins import proportional_exposure
from .tox import ToxicologySummary, summarise_toxicology

__all__ = ["FihConfig", "FihPlan", "run_fih_config"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToxRow(_Model):
    dose: float = Field(gt=0)
    species: str | None = None
    schedule: str | None = None
    sex: str | None = None
    group: str | None = None
    n_animals: int | None = Field(None, ge=1)
    finding: str | None = None
    severity: str = "none"
    reversible: bool | str | None = None
    deaths: int = Field(0, ge=0)
    n_affected: int | None = Field(None, ge=0)
    adverse: bool | None = None


class LadderConfig(_Model):
    scheme: Literal["doubling", "modified_fibonacci", "list"] = "doubling"
    start_dose: float | None = Field(None, gt=0)
    n_levels: int | None = None
    max_dose: float | None = None
    doses: list[float] | None = None
    switch_at_level: int | None = None
    switch_at_exposure_fraction: float | None = None
    exposure_metric: Literal["auc", "cmax"] = "auc"
    after_switch: list[float] = Field(default_factory=lambda: [0.5, 0.33])
    sig_figs: int | None = 2
    step: float | None = None


class ExposurePoint(_Model):
    dose: float = Field(gt=0)
    cmax: float | None = None
    auc: float | None = None


class HumanModelConfig(_Model):
    """Predicted human exposure from an animal compartmental model scaled by allometry
    (:func:`~adcbridge.translation.projection.project_human_pk`): ``parameters`` as ``NAME: [value, unit]``
    (e.g. ``CL: [18.2, mL/day/kg]``), the ``species`` they come from, the linear ``model``, the ``modality`` that
    sets the clearance exponent, and the schedule whose ``cycle`` gives Cmax and AUC (default: the last dose)."""

    species: str = "cynomolgus"
    model: Literal["1cmt", "2cmt", "3cmt"] = "2cmt"
    parameters: dict[str, tuple[float, str]]
    modality: Literal["adc", "antibody", "small_molecule"] = "adc"
    exponents: dict[str, float] = Field(default_factory=dict)
    human_weight_kg: float = Field(70.0, gt=0)
    tau_day: float = Field(21.0, gt=0)
    n_doses: int = Field(1, ge=1)
    cycle: int | None = None
    infusion_h: float = Field(1.5, ge=0)

    def projection(self):
        from .projection import project_human_pk
        return project_human_pk(dict(self.parameters), self.species, model=self.model, modality=self.modality,
                                exponents=self.exponents, human_weight_kg=self.human_weight_kg,
                                tau_day=self.tau_day, n_doses=self.n_doses, infusion_h=self.infusion_h)


class ExposureConfig(_Model):
    """Animal exposure at the HNSTD and the predicted human exposure: a human PK model projected from the
    animal (``human_model``), a per-dose table (``human``) or, for linear PK, one reference exposure
    (``reference_dose`` with ``human_cmax``/``human_auc``).  AUC units must match the animal's (ug*day/mL
    for a projected model)."""

    animal_cmax: float | None = Field(None, gt=0)
    animal_auc: float | None = Field(None, gt=0)
    reference_dose: float | None = Field(None, gt=0)
    human_cmax: float | None = Field(None, gt=0)
    human_auc: float | None = Field(None, gt=0)
    human: list[ExposurePoint] | None = None
    human_model: HumanModelConfig | None = None
    cmax_unit: str = "ug/mL"
    auc_unit: str = "ug*day/mL"

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("human", "reference_dose", "human_model") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one source of human exposure (human, reference_dose or human_model); got {given}")
        if self.reference_dose is not None and self.human_cmax is None and self.human_auc is None:
            raise ValueError("reference_dose needs human_cmax and/or human_auc")
        return self

    def source(self):
        if self.human_model is not None:
            m = self.human_model
            return m.projection().exposure_source(cycle=m.cycle)
        if self.human is not None:
            return pd.DataFrame([p.model_dump() for p in self.human]).astype(float)
        if self.reference_dose is not None:
            return proportional_exposure(self.reference_dose, self.human_cmax, self.human_auc)
        return None


class OccupancyConfig(_Model):
    kd: float = Field(gt=0)
    kd_unit: str = "nM"
    occupancy: float = Field(0.1, gt=0, lt=1)
    molecular_weight: float = Field(150_000.0, gt=0)
    plasma_volume_ml_per_kg: float = Field(40.0, gt=0)
    cmax_per_dose: float | None = Field(None, gt=0)


class BoinConfig(_Model):
    target: float = 0.3
    cohort_size: int = 3
    cohorts: int = 10


class FihConfig(_Model):
    """A first-in-human plan (see the module docstring).  Exactly one of ``hnstd``, ``std10`` or ``tox``."""

    name: str = ""
    species: str
    body_weight_kg: float | None = Field(None, gt=0)
    rodent: bool | None = None
    hnstd: float | None = Field(None, gt=0)
    std10: float | None = Field(None, gt=0)
    tox: list[ToxRow] | None = None
    adverse_from: Literal["mild", "moderate", "marked", "severe"] = "moderate"
    reversible_severe_counts: bool = False
    scaling: Literal["bsa", "body_weight_exponent", "mg_per_kg", "mg-per-kg"] = "bsa"
    safety_factor: float | None = None
    rounded_divisor: bool = False
    human_weight_kg: float = Field(60.0, gt=0)
    patient_weight_kg: float = Field(70.0, gt=0)
    occupancy: OccupancyConfig | None = None
    ladder: LadderConfig | None = None
    exposure: ExposureConfig | None = None
    boin: BoinConfig | None = None

    @model_validator(mode="after")
    def _one_basis(self):
        if self.tox is not None and not self.tox:
            raise ValueError("tox is an empty list: give one row per dose group and finding (or hnstd / std10)")
        given = [k for k in ("hnstd", "std10", "tox") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of hnstd, std10 or tox (got {given or 'none'})")
        if self.boin is not None and self.ladder is None:
            raise ValueError("a boin section needs a ladder section (the ladder's doses are BOIN's dose levels)")
        return self


@dataclass(frozen=True)
class FihPlan:
    """What :func:`run_fih_config` produced: the toxicology summary (when a table was given), the start dose, the
    ladder and the BOIN design (when asked for)."""

    config: FihConfig
    fih: FihDose
    tox: ToxicologySummary | None = None
    ladder: DoseLadder | None = None
    boin: BoinDesign | None = None
    issues: tuple[Issue, ...] = ()

    def all_issues(self) -> tuple[Issue, ...]:
        """The issues of the plan, the start dose, the toxicology summary and the ladder."""
        return (*self.issues, *self.fih.issues, *(self.tox.issues if self.tox else ()),
                *(self.ladder.issues if self.ladder else ()))

    def record_body(self) -> dict[str, Any]:
        out = {"name": self.config.name, **self.fih.record_body()}
        out["issues"] = list(self.all_issues())
        if self.tox is not None:
            out["toxicology"] = self.tox.record_body()
        if self.ladder is not None:
            out["ladder"] = self.ladder.record_body()
        if self.boin is not None:
            out["boin"] = self.boin.model_dump(mode="json")
        return out

    def to_record(self) -> dict[str, Any]:
        """The record ``adcbridge fih --config --format json`` prints: the keys of :meth:`record_body`, the plan
        (``spec``) and the start dose's provenance, in the shape of :meth:`adcbridge.results.Result.to_record`."""
        record = {"result_type": "FihPlan", **self.record_body(), "spec": self.config,
                  "provenance": dataclasses.asdict(self.fih.provenance)}
        return json_ready(record)


def run_fih_config(cfg: FihConfig) -> FihPlan:
    """Run a :class:`FihConfig`: toxicology summary, ICH S9 start dose, ladder with exposures, BOIN design."""
    tox = None
    if cfg.tox is not None:
        table = pd.DataFrame([r.model_dump() for r in cfg.tox])
        table["species"] = table["species"].fillna(cfg.species)
        tox = summarise_toxicology(table, cfg.species, rodent=cfg.rodent, adverse_from=cfg.adverse_from,
                                   reversible_severe_counts=cfg.reversible_severe_counts)
    occ = None
    if cfg.occupancy is not None:
        o = cfg.occupancy
        occ = occupancy_dose(o.kd, o.occupancy, kd_unit=o.kd_unit, molecular_weight=o.molecular_weight,
                             plasma_volume_ml_per_kg=o.plasma_volume_ml_per_kg, cmax_per_dose=o.cmax_per_dose)
    fih = fih_start_dose(cfg.hnstd, cfg.species, std10=cfg.std10, tox=tox, scaling=cfg.scaling,
                         safety_factor=cfg.safety_factor, body_weight=cfg.body_weight_kg,
                         human_weight=cfg.human_weight_kg, patient_weight=cfg.patient_weight_kg,
                         rounded_divisor=cfg.rounded_divisor, occupancy=occ)
    ladder = design = None
    issues: list[Issue] = []
    if cfg.ladder is not None:
        lc = cfg.ladder
        if lc.start_dose is not None and lc.start_dose > fih.start_dose_mg_per_kg * (1 + 1e-9):
            issues.append(Issue("start_above_safe_dose", f"The ladder's start dose {lc.start_dose:g} mg/kg is above "
                                f"the computed ICH S9 start dose {fih.start_dose_mg_per_kg:.3g} mg/kg "
                                f"({fih.method}): a higher start dose needs a justification."))
        ex = cfg.exposure
        ladder = dose_ladder(lc.start_dose or fih.start_dose_mg_per_kg, lc.scheme, n_levels=lc.n_levels,
                             max_dose=lc.max_dose, doses=lc.doses, switch_at_level=lc.switch_at_level,
                             switch_at_exposure_fraction=lc.switch_at_exposure_fraction,
                             exposure_metric=lc.exposure_metric, after_switch=lc.after_switch, sig_figs=lc.sig_figs,
                             step=lc.step, exposure=ex.source() if ex else None,
                             animal_cmax=ex.animal_cmax if ex else None, animal_auc=ex.animal_auc if ex else None)
        if cfg.boin is not None:
            design = ladder.to_boin(cfg.boin.target, cohort_size=cfg.boin.cohort_size, cohorts=cfg.boin.cohorts)
    return FihPlan(cfg, fih, tox, ladder, design, tuple(issues))
