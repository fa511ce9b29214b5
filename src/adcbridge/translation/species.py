"""Species reference data: body weights for allometry and the FDA (2005) body-surface-area factors.

Two different body weights are kept on purpose, because the two sources use them for different things:

* ``allometry_weight_kg`` -- the default body weight used for *pharmacokinetic* allometry (scaling CL and V).
  Values: mouse 0.02, rat 0.25, rabbit 2.5, dog 10, human 70 kg (Davies B, Morris T. Physiological parameters in
  laboratory animals and humans.  Pharm Res 1993;10:1093-1095, the usual "standard" weights), cynomolgus monkey
  3.5 kg (the weight used for cynomolgus -> human antibody/ADC scaling, e.g. Li et al. 2019, whose published
  predictions are reproduced with a human:cyno weight ratio of 20 = 70/3.5; see
  :mod:`adcbridge.translation.prediction_error`).  Species without a stated value take the FDA reference weight.
* ``fda_weight_kg`` and ``km`` -- the reference body weight and the factor Km = body weight (kg) / body surface
  area (m^2) of Table 1 of FDA (2005) *Guidance for Industry: Estimating the Maximum Safe Starting Dose in
  Initial Clinical Trials for Therapeutics in Adult Healthy Volunteers*.  The human reference is 60 kg with
  Km 37 (child 20 kg, Km 25).  ``fda_divisor`` is the table's printed divisor 37/Km rounded to one decimal
  (e.g. rat 6.2, monkey 3.1, dog 1.8, mouse 12.3); the exact ratio is the default everywhere.

Note that FDA lists the baboon with Km 20 (not with the macaques at 12); rhesus, cynomolgus and stumptail
monkeys share Km 12.

A species not in the table can still be used by giving its body weight: its Km is then derived with FDA's
body-weight exponent (Appendix A of the guidance), anchored on the human reference,

    Km_animal = 37 * (W_animal / 60)^(1 - 0.67),

which makes the BSA conversion identical to FDA's formula HED = dose * (W_animal / W_human)^0.33.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SpeciesInfo", "SPECIES", "species_info", "canonical_species", "species_km", "HUMAN_KM",
           "HUMAN_FDA_WEIGHT_KG", "HUMAN_WEIGHT_KG", "FDA_BSA_EXPONENT", "km_from_body_weight", "default_body_weight"]

HUMAN_KM = 37.0                 # FDA 2005 Table 1, adult (60 kg)
HUMAN_FDA_WEIGHT_KG = 60.0      # FDA 2005 reference adult
HUMAN_WEIGHT_KG = 70.0          # default human body weight for pharmacokinetic allometry (70 kg "standard man")
FDA_BSA_EXPONENT = 0.67         # FDA 2005 Appendix A: HED = dose * (W_animal / W_human)^(1 - 0.67)


@dataclass(frozen=True)
class SpeciesInfo:
    """One species: canonical name, rodent or not (ICH S9 STD10 vs HNSTD), weights (kg), FDA Km and divisor."""

    name: str
    rodent: bool
    allometry_weight_kg: float
    fda_weight_kg: float | None
    km: float | None
    fda_divisor: float | None


def _s(name, rodent, allo, fda, km, div):
    return SpeciesInfo(name, rodent, allo, fda, km, div)


# name, rodent, allometry weight, FDA reference weight, Km, FDA printed divisor (37/Km rounded)
SPECIES: dict[str, SpeciesInfo] = {s.name: s for s in [
    _s("human", False, HUMAN_WEIGHT_KG, HUMAN_FDA_WEIGHT_KG, 37.0, 1.0),
    _s("child", False, 20.0, 20.0, 25.0, None),
    _s("mouse", True, 0.02, 0.02, 3.0, 12.3),
    _s("hamster", True, 0.08, 0.08, 5.0, 7.4),
    _s("rat", True, 0.25, 0.15, 6.0, 6.2),
    _s("ferret", False, 0.30, 0.30, 7.0, 5.3),
    _s("guinea_pig", True, 0.40, 0.40, 8.0, 4.6),
    _s("rabbit", False, 2.5, 1.8, 12.0, 3.1),
    _s("dog", False, 10.0, 10.0, 20.0, 1.8),
    _s("cynomolgus", False, 3.5, 3.0, 12.0, 3.1),
    _s("rhesus", False, 3.0, 3.0, 12.0, 3.1),
    _s("monkey", False, 3.0, 3.0, 12.0, 3.1),
    _s("marmoset", False, 0.35, 0.35, 6.0, 6.2),
    _s("squirrel_monkey", False, 0.60, 0.60, 7.0, 5.3),
    _s("baboon", False, 12.0, 12.0, 20.0, 1.8),
    _s("micropig", False, 20.0, 20.0, 27.0, 1.4),
    _s("minipig", False, 40.0, 40.0, 35.0, 1.1),
]}

_ALIASES = {
    "cyno": "cynomolgus", "cynomolgus_monkey": "cynomolgus", "macaca_fascicularis": "cynomolgus",
    "rhesus_monkey": "rhesus", "macaca_mulatta": "rhesus", "monkeys": "monkey", "nhp": "monkey",
    "mice": "mouse", "rats": "rat", "dogs": "dog", "beagle": "dog", "guineapig": "guinea_pig",
    "micro_pig": "micropig", "mini_pig": "minipig", "minipig_gottingen": "minipig", "man": "human",
    "adult": "human", "humans": "human",
}


def canonical_species(name: str) -> str:
    """The table's name for ``name`` (case, spaces and hyphens ignored; aliases such as 'cyno' accepted), or the
    normalised name itself when the species is not in the table."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return _ALIASES.get(key, key)


def species_info(name: str) -> SpeciesInfo | None:
    """The table entry for ``name`` or None when the species is unknown."""
    return SPECIES.get(canonical_species(name))


def _known() -> str:
    return ", ".join(sorted(SPECIES))


def default_body_weight(species: str, body_weight: float | None = None) -> float:
    """``body_weight`` when given (must be > 0), else the species' default allometry weight (kg).

    Raises ValueError for an unknown species without a body weight."""
    if body_weight is not None:
        if not body_weight > 0:
            raise ValueError(f"The body weight of {species!r} must be > 0 kg. Got {body_weight!r}.")
        return float(body_weight)
    info = species_info(species)
    if info is None:
        raise ValueError(f"Unknown species {species!r}: give its body weight in kg (known species: {_known()}).")
    return info.allometry_weight_kg


def km_from_body_weight(body_weight_kg: float, exponent: float = FDA_BSA_EXPONENT) -> float:
    """Km implied by FDA's body-weight exponent: Km = 37 * (W / 60)^(1 - exponent).

    >>> round(km_from_body_weight(60.0), 6)
    37.0
    """
    if not body_weight_kg > 0:
        raise ValueError(f"The body weight must be > 0 kg. Got {body_weight_kg!r}.")
    return HUMAN_KM * (body_weight_kg / HUMAN_FDA_WEIGHT_KG) ** (1.0 - exponent)


def species_km(species: str, body_weight: float | None = None) -> tuple[float, str]:
    """(Km, where it came from) for ``species``: the FDA table value for a listed species, else derived from
    ``body_weight`` with :func:`km_from_body_weight`.  An unknown species without a body weight is an error."""
    info = species_info(species)
    if info is not None and info.km is not None:
        return info.km, "FDA 2005 Table 1"
    if body_weight is None:
        raise ValueError(f"Unknown species {species!r}: give its body weight in kg to derive Km "
                         f"(known species: {_known()}).")
    return km_from_body_weight(body_weight), f"37 x (W / 60)^0.33 with W = {body_weight:g} kg (FDA 2005 App. A)"
