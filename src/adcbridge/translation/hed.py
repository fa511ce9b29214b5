"""Human equivalent dose (HED) from an animal dose in mg/kg.

Three scalings, chosen explicitly (FDA 2005, *Estimating the Maximum Safe Starting Dose in Initial Clinical
Trials for Therapeutics in Adult Healthy Volunteers*):

``bsa`` (default)
    Body-surface-area scaling with the Km factors of FDA Table 1: HED = dose * Km_animal / Km_human
    (Km_human = 37).  The exact ratio is used; ``rounded_divisor=True`` divides by FDA's printed divisor
    instead (37/Km rounded to one decimal: monkey 3.1, rat 6.2, dog 1.8, mouse 12.3), which reproduces hand
    calculations made from the table.  Example: HNSTD 30 mg/kg in the cynomolgus monkey -> 30 x 12/37 =
    9.73 mg/kg (9.68 mg/kg with the divisor 3.1).
``body_weight_exponent``
    FDA Appendix A: HED = dose * (W_animal / W_human)^(1 - 0.67), i.e. exponent 0.33; W_animal defaults to the
    FDA reference weight of the species (monkey 3 kg), W_human to 60 kg.
``mg_per_kg``
    HED = dose (no conversion): usual for antibodies and ADCs, whose volumes and clearances per kg vary little
    between monkey and human (FDA 2005 section V.B allows mg/kg scaling for proteins with volumes restricted to
    plasma).

A species not in the table needs its body weight; its Km is then 37 * (W / 60)^0.33 (see
:mod:`adcbridge.translation.species`).  For a listed species, ``bsa`` always uses the FDA Table 1 Km: a given
``body_weight`` is then not used (:func:`~adcbridge.translation.fih.fih_start_dose` says so in an info issue),
and ``human_weight`` only enters ``body_weight_exponent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .species import (
    FDA_BSA_EXPONENT,
    HUMAN_FDA_WEIGHT_KG,
    HUMAN_KM,
    canonical_species,
    species_info,
    species_km,
)

__all__ = ["Scaling", "SCALINGS", "HumanEquivalentDose", "human_equivalent_dose"]

Scaling = Literal["bsa", "body_weight_exponent", "mg_per_kg"]
SCALINGS = ("bsa", "body_weight_exponent", "mg_per_kg")


@dataclass(frozen=True)
class HumanEquivalentDose:
    """An HED: ``hed`` (mg/kg), the ``scaling``, the ``factor`` applied (HED = dose x factor), the Km values
    (BSA scaling) and the equation written out."""

    animal_dose: float
    species: str
    scaling: str
    factor: float
    hed: float
    km_animal: float | None
    km_human: float | None
    equation: str


def _normalise_scaling(scaling: str) -> str:
    s = str(scaling).strip().lower().replace("-", "_").replace(" ", "_")
    s = {"mg_kg": "mg_per_kg", "mgkg": "mg_per_kg", "body_weight": "body_weight_exponent",
         "exponent": "body_weight_exponent"}.get(s, s)
    if s not in SCALINGS:
        raise ValueError(f"The 'scaling' must be one of {list(SCALINGS)} (or 'mg-per-kg'). Got {scaling!r}.")
    return s


def human_equivalent_dose(dose: float, species: str, scaling: str = "bsa", *, body_weight: float | None = None,
                          human_weight: float = HUMAN_FDA_WEIGHT_KG,
                          rounded_divisor: bool = False) -> HumanEquivalentDose:
    """The HED (mg/kg) of an animal ``dose`` (mg/kg) in ``species`` (equations: module docstring).

    >>> round(human_equivalent_dose(30, "cynomolgus").hed, 2)
    9.73
    """
    if not (isinstance(dose, (int, float)) and dose > 0):
        raise ValueError(f"The animal dose must be a positive number (mg/kg). Got {dose!r}.")
    if not human_weight > 0:
        raise ValueError(f"The human body weight must be > 0 kg. Got {human_weight!r}.")
    if body_weight is not None and not body_weight > 0:
        raise ValueError(f"The animal body weight must be > 0 kg. Got {body_weight!r}.")
    s = _normalise_scaling(scaling)
    sp = canonical_species(species)
    info = species_info(sp)
    if s == "mg_per_kg":
        if info is None and body_weight is None:
            # the species does not matter for mg/kg scaling, but an unknown name is likely a typo
            raise ValueError(f"Unknown species {species!r}: give its body weight in kg.")
        return HumanEquivalentDose(float(dose), sp, s, 1.0, float(dose), None, None, f"HED = {dose:g} mg/kg (mg/kg)")
    if s == "bsa":
        km, where = species_km(sp, body_weight)
        if rounded_divisor:
            if info is None or info.fda_divisor is None:
                raise ValueError(f"FDA prints no rounded divisor for {species!r}; use the exact Km ratio.")
            factor = 1.0 / info.fda_divisor
            eq = f"HED = {dose:g} / {info.fda_divisor:g} (FDA rounded divisor)"
        else:
            factor = km / HUMAN_KM
            eq = f"HED = {dose:g} x {km:.4g} / {HUMAN_KM:g} (Km, {where})"
        return HumanEquivalentDose(float(dose), sp, s, factor, dose * factor, km, HUMAN_KM, eq)
    w_a = body_weight if body_weight is not None else (info.fda_weight_kg if info is not None else None)
    if w_a is None:
        raise ValueError(f"Unknown species {species!r}: give its body weight in kg.")
    factor = (w_a / human_weight) ** (1.0 - FDA_BSA_EXPONENT)
    eq = f"HED = {dose:g} x ({w_a:g} / {human_weight:g})^{1 - FDA_BSA_EXPONENT:.2f}"
    return HumanEquivalentDose(float(dose), sp, s, factor, dose * factor, None, None, eq)
