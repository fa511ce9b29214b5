"""First-in-human starting dose: ICH S9 (HNSTD / STD10 with a safety factor) and a receptor-occupancy
(MABEL-type) alternative.

**ICH S9** (Nonclinical evaluation for anticancer pharmaceuticals, 2009, section 3.1): the start dose is

    start = HED(HNSTD) / 6      (non-rodent; default safety factor 6)
    start = HED(STD10) / 10     (rodent; default safety factor 10)

with the HED from :func:`~adcbridge.translation.hed.human_equivalent_dose` (``bsa`` by default, ``mg_per_kg``
common for ADCs).  The factors are configurable; a factor <= 1 is an error.  Known answer (tests): HNSTD 30 mg/kg
in the cynomolgus monkey -> HED 9.73 mg/kg -> start 1.62 mg/kg by BSA; 30 / 6 = 5.0 mg/kg by mg/kg scaling.

**Receptor occupancy** (:func:`occupancy_dose`): with a 1:1 binding equilibrium RO = C / (C + KD), the
concentration giving occupancy RO is C = KD * RO / (1 - RO).  The dose that reaches C at Cmax is

    dose (mg/kg) = C (mol/L) * MW (g/mol) * V_plasma (mL/kg)                       (Cmax = dose / V_plasma)
    dose (mg/kg) = C (ug/mL) / cmax_per_dose ((ug/mL) per (mg/kg))                 (user-supplied Cmax per dose)

with V_plasma = 40 mL/kg (plasma volume of an adult) and MW = 150,000 g/mol (IgG; an ADC with DAR 8 is
about 155,000) by default.  Target occupancy of 10-20 % at Cmax is the usual MABEL-type choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .hed import SCALINGS, _normalise_scaling, human_equivalent_dose
from .species import (
    HUMAN_FDA_WEIGHT_KG,
    HUMAN_WEIGHT_KG,
    canonical_species,
    species_info,
)
from .tox import ToxicologySummary
from .units import json_records

__all__ = ["FihSpec", "FihDose", "fih_start_dose", "OccupancyDose", "occupancy_dose", "DEFAULT_SAFETY_FACTORS"]

DEFAULT_SAFETY_FACTORS = {"HNSTD": 6.0, "STD10": 10.0}
_KD_TO_M = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "µM": 1e-6, "nM": 1e-9, "pM": 1e-12}


class FihSpec(Spec):
    """Inputs of :func:`fih_start_dose`.

    ``basis`` (HNSTD or STD10) and ``animal_dose`` (mg/kg) come from the toxicology; ``scaling`` chooses the HED
    method; ``safety_factor`` divides the HED (> 1; default 6 for HNSTD, 10 for STD10); ``body_weight_kg`` is
    the animal's (needed for an unknown species); ``human_weight_kg`` is the FDA reference human used by the
    body-weight-exponent HED (60); ``patient_weight_kg`` turns mg/kg into a flat dose in mg (70).
    """

    spec_name: ClassVar[str] = "fih_start_dose"

    species: str
    basis: Literal["HNSTD", "STD10"] = "HNSTD"
    animal_dose: float = Field(gt=0)
    scaling: Literal["bsa", "body_weight_exponent", "mg_per_kg"] = "bsa"
    safety_factor: float | None = None
    body_weight_kg: float | None = Field(None, gt=0)
    human_weight_kg: float = Field(HUMAN_FDA_WEIGHT_KG, gt=0)
    patient_weight_kg: float = Field(HUMAN_WEIGHT_KG, gt=0)
    rounded_divisor: bool = False

    @field_validator("safety_factor")
    @classmethod
    def _above_one(cls, v: float | None) -> float | None:
        if v is not None and not (np.isfinite(v) and v > 1):
            raise ValueError("must be > 1 (the HED is divided by it)")
        return v

    @property
    def factor(self) -> float:
        return self.safety_factor if self.safety_factor is not None else DEFAULT_SAFETY_FACTORS[self.basis]


@dataclass(frozen=True)
class OccupancyDose:
    """The dose (mg/kg) that gives ``occupancy`` at Cmax, with the target concentration (nM and ug/mL)."""

    occupancy: float
    kd_nM: float
    conc_nM: float
    conc_ug_per_ml: float
    dose_mg_per_kg: float
    method: str


def occupancy_dose(kd: float, occupancy: float = 0.1, *, kd_unit: str = "nM", molecular_weight: float = 150_000.0,
                   plasma_volume_ml_per_kg: float = 40.0, cmax_per_dose: float | None = None) -> OccupancyDose:
    """Dose giving receptor occupancy ``occupancy`` at Cmax (equations: module docstring).

    >>> round(occupancy_dose(1.0, 0.1).dose_mg_per_kg * 1e4, 3)      # KD 1 nM, 10 % RO: 6.667e-4 mg/kg
    6.667
    """
    if kd_unit not in _KD_TO_M:
        raise ValueError(f"kd_unit must be one of {list(_KD_TO_M)}. Got {kd_unit!r}.")
    if not (kd > 0 and 0 < occupancy < 1 and molecular_weight > 0 and plasma_volume_ml_per_kg > 0):
        raise ValueError("KD, molecular weight and plasma volume must be > 0 and the occupancy in (0, 1). "
                         f"Got KD {kd!r}, occupancy {occupancy!r}.")
    conc_m = kd * _KD_TO_M[kd_unit] * occupancy / (1.0 - occupancy)
    conc_ug_ml = conc_m * molecular_weight * 1000.0
    if cmax_per_dose is not None:
        if not cmax_per_dose > 0:
            raise ValueError(f"cmax_per_dose must be > 0 (ug/mL per mg/kg). Got {cmax_per_dose!r}.")
        dose = conc_ug_ml / cmax_per_dose
        method = f"C = KD*RO/(1-RO); dose = C / Cmax-per-dose ({cmax_per_dose:g} ug/mL per mg/kg)"
    else:
        dose = conc_ug_ml * plasma_volume_ml_per_kg / 1000.0
        method = f"C = KD*RO/(1-RO); dose = C x V_plasma ({plasma_volume_ml_per_kg:g} mL/kg), MW {molecular_weight:g}"
    return OccupancyDose(occupancy, kd * _KD_TO_M[kd_unit] * 1e9, conc_m * 1e9, conc_ug_ml, dose, method)


@dataclass(frozen=True, eq=False)
class FihDose(Result):
    """FIH start dose.  ``table``: one row per HED scaling (``scaling``, ``factor``, ``hed_mg_per_kg``,
    ``start_dose_mg_per_kg``, ``start_dose_mg`` for the patient weight, ``chosen``), plus a ``receptor_occupancy``
    row when an occupancy dose was asked for."""

    hed_mg_per_kg: float = float("nan")
    start_dose_mg_per_kg: float = float("nan")
    method: str = ""
    equation: str = ""
    occupancy_dose_mg_per_kg: float | None = None

    def record_body(self) -> dict[str, Any]:
        s = self.spec
        return {"species": s.species, "basis": s.basis, "animal_dose_mg_per_kg": s.animal_dose,
                "scaling": s.scaling, "safety_factor": s.factor, "hed_mg_per_kg": self.hed_mg_per_kg,
                "start_dose_mg_per_kg": self.start_dose_mg_per_kg,
                "start_dose_mg": self.start_dose_mg_per_kg * s.patient_weight_kg,
                "patient_weight_kg": s.patient_weight_kg, "method": self.method, "equation": self.equation,
                "occupancy_dose_mg_per_kg": self.occupancy_dose_mg_per_kg,
                "alternatives": json_records(self.table),
                "issues": list(self.issues)}


def fih_start_dose(hnstd: float | None = None, species: str = "cynomolgus", *, std10: float | None = None,
                   tox: ToxicologySummary | None = None, scaling: str = "bsa", safety_factor: float | None = None,
                   body_weight: float | None = None, human_weight: float = HUMAN_FDA_WEIGHT_KG,
                   patient_weight: float = HUMAN_WEIGHT_KG, rounded_divisor: bool = False,
                   occupancy: OccupancyDose | None = None) -> FihDose:
    """ICH S9 start dose from an HNSTD (non-rodent) or STD10 (rodent), given directly or through ``tox``.

    >>> r = fih_start_dose(30, "cynomolgus")
    >>> round(r.hed_mg_per_kg, 2), round(r.start_dose_mg_per_kg, 2), r.method
    (9.73, 1.62, 'HNSTD/6 by bsa')
    """
    if tox is not None:
        if hnstd is not None or std10 is not None:
            raise ValueError("Give the HNSTD/STD10 or a toxicology summary, not both.")
        species = tox.species
        hnstd, std10 = (tox.hnstd, None) if tox.basis == "HNSTD" else (None, tox.std10)
    if (hnstd is None) == (std10 is None):
        raise ValueError("Give exactly one of the HNSTD (non-rodent) or the STD10 (rodent), in mg/kg.")
    basis = "HNSTD" if hnstd is not None else "STD10"
    dose = hnstd if hnstd is not None else std10
    spec = FihSpec(species=canonical_species(species), basis=basis, animal_dose=dose,
                   scaling=_normalise_scaling(scaling), safety_factor=safety_factor, body_weight_kg=body_weight,
                   human_weight_kg=human_weight, patient_weight_kg=patient_weight, rounded_divisor=rounded_divisor)
    issues = []
    info = species_info(spec.species)
    if info is not None and info.rodent != (basis == "STD10"):
        issues.append(Issue("basis_species", f"ICH S9 uses the {'STD10' if info.rodent else 'HNSTD'} in a "
                                             f"{'rodent' if info.rodent else 'non-rodent'}; {basis} was given for "
                                             f"{spec.species}."))
    if spec.scaling == "bsa" and not rounded_divisor and info is not None and info.km is not None:
        if body_weight is not None:
            issues.append(Issue("body_weight_not_used", f"BSA scaling uses the FDA Table 1 Km of the {spec.species} "
                                f"({info.km:g}); the animal body weight {body_weight:g} kg is not used for it (only "
                                "by the body-weight-exponent alternative).", "info"))
        if not np.isclose(human_weight, HUMAN_FDA_WEIGHT_KG):
            issues.append(Issue("human_weight_not_used", f"BSA scaling uses the FDA human Km 37 (60 kg); the human "
                                f"weight {human_weight:g} kg is used only by the body-weight-exponent alternative.",
                                "info"))
    rows, chosen = [], None
    for s in SCALINGS:
        try:
            h = human_equivalent_dose(dose, spec.species, s, body_weight=body_weight, human_weight=human_weight,
                                      rounded_divisor=rounded_divisor and s == "bsa")
        except ValueError:
            if s == spec.scaling:
                raise
            continue
        rows.append({"scaling": s, "factor": h.factor, "hed_mg_per_kg": h.hed,
                     "start_dose_mg_per_kg": h.hed / spec.factor,
                     "start_dose_mg": h.hed / spec.factor * patient_weight, "chosen": s == spec.scaling})
        if s == spec.scaling:
            chosen = h
    occ = None
    if occupancy is not None:
        occ = occupancy.dose_mg_per_kg
        rows.append({"scaling": "receptor_occupancy", "factor": np.nan, "hed_mg_per_kg": np.nan,
                     "start_dose_mg_per_kg": occ, "start_dose_mg": occ * patient_weight, "chosen": False})
        if occ < chosen.hed / spec.factor:
            issues.append(Issue("occupancy_lower", f"The {occupancy.occupancy:.0%} receptor-occupancy dose "
                                f"({occ:.3g} mg/kg) is below the ICH S9 start dose.", "info"))
    table = pd.DataFrame(rows, columns=["scaling", "factor", "hed_mg_per_kg", "start_dose_mg_per_kg",
                                        "start_dose_mg", "chosen"])
    return FihDose(spec=spec, table=table, issues=tuple(issues), provenance=make_provenance(spec),
                   hed_mg_per_kg=chosen.hed, start_dose_mg_per_kg=chosen.hed / spec.factor,
                   method=f"{basis}/{spec.factor:g} by {spec.scaling}",
                   equation=f"{chosen.equation}; start = HED / {spec.factor:g}", occupancy_dose_mg_per_kg=occ)
