"""Simple (one-species, fixed-exponent) allometric scaling of a pharmacokinetic parameter set to humans.

For a parameter P with allometric exponent b, measured in an animal of body weight W_a (kg),

    P_human = P_animal,absolute * (W_h / W_a)^b,        P_animal,absolute = p_per_kg * W_a  (per-kg input)

so a per-kg value scales as p_h,per_kg = p_a,per_kg * (W_h / W_a)^(b - 1).  Results are absolute human values:
clearances in L/<time unit of the input>, volumes in L.  Rate constants scale with exponent b_CL - b_V and times
(half-lives, mean residence times) with b_V - b_CL, which is species-invariant ("Dedrick") time: with b_V = 1,
t_h = t_a * (W_h / W_a)^(1 - b_CL).

Default exponents (``modality``):

=================  =========  =========  ======  =========================================================
modality           CL         Q          V       source
=================  =========  =========  ======  =========================================================
``antibody``       0.85       0.85       1.0     Deng et al. 2011, mAbs 3:61 (cynomolgus-only, 13 mAbs)
``adc``            1.0        1.0        1.0     Li et al. 2019, Clin Transl Sci 12:534 (ADC conjugate, TAb)
``small_molecule`` 0.75       0.75       1.0     classical 3/4 power (Kleiber)
=================  =========  =========  ======  =========================================================

The intercompartmental clearance Q takes the clearance exponent -- also when the clearance exponent is overridden
(by kind, ``"clearance"``, or by the clearance's name, ``{"CL": 0.85}``) and Q has no override of its own -- so
that the scaled model is exactly the species-invariant-time transform of the animal model (all clearances share one
exponent, all volumes another).
Any exponent can be overridden by parameter name or by kind (``exponents={"CL": 0.85, "volume": 0.95}``).

Default body weights: cynomolgus 3.5 kg, human 70 kg (see :mod:`adcbridge.translation.species`).

Example (the synthetic cynomolgus ADC of the reference set: CL 18.2 mL/day/kg)::

    >>> r = scale_parameters({"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg")}, "cynomolgus", modality="adc")
    >>> round(r.values()["CL"], 3), r.units()["CL"]
    (1.274, 'L/day')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .species import HUMAN_WEIGHT_KG, canonical_species, default_body_weight
from .units import parse_unit

__all__ = ["AllometrySpec", "ScaledParameters", "scale_parameters", "DEFAULT_EXPONENTS", "PARAMETER_KINDS",
           "parameter_table", "two_compartment_half_lives"]

Kind = Literal["clearance", "intercompartmental_clearance", "volume", "rate_constant", "time"]
PARAMETER_KINDS = ("clearance", "intercompartmental_clearance", "volume", "rate_constant", "time")
Modality = Literal["antibody", "adc", "small_molecule"]

DEFAULT_EXPONENTS: dict[str, dict[str, float]] = {
    "antibody": {"clearance": 0.85, "intercompartmental_clearance": 0.85, "volume": 1.0},
    "adc": {"clearance": 1.0, "intercompartmental_clearance": 1.0, "volume": 1.0},
    "small_molecule": {"clearance": 0.75, "intercompartmental_clearance": 0.75, "volume": 1.0},
}
_UNIT_KIND = {"clearance": "clearance", "intercompartmental_clearance": "clearance", "volume": "volume",
              "rate_constant": "rate_constant", "time": "time"}


class AllometrySpec(Spec):
    """Options of :func:`scale_parameters`.

    Parameters
    ----------
    species : str
        The animal species (see :mod:`~adcbridge.translation.species`).
    body_weight_kg : float, optional
        Animal body weight (kg); default: the species' allometry weight (cynomolgus 3.5 kg).
    human_weight_kg : float
        Human body weight (kg), default 70.
    modality : {'antibody', 'adc', 'small_molecule'}
        Chooses the default exponents (module docstring).
    exponents : dict
        Overrides by parameter name or by kind.
    """

    spec_name: ClassVar[str] = "scale_parameters"

    species: str
    body_weight_kg: float | None = Field(None, gt=0)
    human_weight_kg: float = Field(HUMAN_WEIGHT_KG, gt=0)
    modality: Modality = "adc"
    exponents: dict[str, float] = Field(default_factory=dict)

    @field_validator("exponents")
    @classmethod
    def _finite(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not np.isfinite(x) or not -2.0 <= x <= 2.0}
        if bad:
            raise ValueError(f"must hold finite exponents in [-2, 2]; {bad} is not")
        return v

    def exponent(self, name: str, kind: str, clearance_override: float | None = None) -> float:
        """The exponent used for parameter ``name`` of ``kind`` (name override, kind override, default).

        An intercompartmental clearance without its own override takes the clearance exponent when that was
        overridden, by kind (``"clearance"``) or by the name of the clearance parameter
        (``clearance_override``, e.g. ``{"CL": 0.85}``), so that Q keeps the CL exponent."""
        if name in self.exponents:
            return float(self.exponents[name])
        if kind in self.exponents:
            return float(self.exponents[kind])
        base = DEFAULT_EXPONENTS[self.modality]
        b_cl = float(self.exponents.get("clearance", base["clearance"]))
        b_v = float(self.exponents.get("volume", base["volume"]))
        if kind == "intercompartmental_clearance":
            if "clearance" in self.exponents:
                return b_cl
            return float(clearance_override) if clearance_override is not None else base[kind]
        return {"clearance": b_cl, "volume": b_v, "rate_constant": b_cl - b_v, "time": b_v - b_cl}[kind]


def _guess_kind(name: str, unit_kind: str) -> str:
    """The kind implied by the unit; a name starting with CL, Q or V must agree with it (CL/Q clearances, V
    volumes), so that e.g. ``CL`` given in mL/kg is caught."""
    n = name.strip().upper()
    implied = ("clearance" if n.startswith(("CL", "Q")) else "volume" if n.startswith("V") else None)
    if implied is not None and implied != unit_kind:
        raise ValueError(f"Parameter {name!r}: the unit is a {unit_kind.replace('_', ' ')} unit, not a {implied} "
                         "unit (give 'kind' explicitly if the name misleads).")
    if unit_kind == "clearance":
        return "intercompartmental_clearance" if n.startswith(("Q", "CLD")) else "clearance"
    return unit_kind


def parameter_table(parameters: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """A parameter set as a table with columns ``name``, ``value``, ``unit``, ``kind``.

    ``parameters`` is a DataFrame with ``name``, ``value``, ``unit`` and optionally ``kind``, or a mapping
    ``name -> (value, unit)`` / ``name -> {"value": .., "unit": .., "kind": ..}``.  The kind, when not given, follows
    from the unit (a clearance unit on a name starting with Q or CLd is an intercompartmental clearance).
    """
    if isinstance(parameters, pd.DataFrame):
        missing = [c for c in ("name", "value", "unit") if c not in parameters.columns]
        if missing:
            raise ValueError(f"The parameter table needs columns {missing}; found {list(parameters.columns)}.")
        rows = parameters.to_dict("records")
    else:
        rows = []
        for name, spec in parameters.items():
            if isinstance(spec, Mapping):
                rows.append({"name": name, **spec})
            elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
                rows.append(dict(zip(("name", "value", "unit", "kind"), (name, *spec))))
            else:
                raise ValueError(f"Parameter {name!r}: give (value, unit) or a mapping with value and unit. "
                                 f"Got {spec!r}.")
    if not rows:
        raise ValueError("The parameter set is empty.")
    out = []
    for row in rows:
        name = str(row.get("name"))
        try:
            value = float(row.get("value"))
        except (TypeError, ValueError):
            raise ValueError(f"Parameter {name!r}: value {row.get('value')!r} is not a number.") from None
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"Parameter {name!r}: value must be a positive number. Got {value!r}.")
        unit = str(row.get("unit"))
        parsed = parse_unit(unit)
        kind = row.get("kind")
        kind = _guess_kind(name, parsed.kind) if kind is None or (isinstance(kind, float) and np.isnan(kind)) \
            else str(kind)
        if kind not in PARAMETER_KINDS:
            raise ValueError(f"Parameter {name!r}: kind must be one of {list(PARAMETER_KINDS)}. Got {kind!r}.")
        if _UNIT_KIND[kind] != parsed.kind:
            raise ValueError(f"Parameter {name!r}: unit {unit!r} is a {parsed.kind.replace('_', ' ')} unit, "
                             f"not a {kind.replace('_', ' ')} unit.")
        out.append({"name": name, "value": value, "unit": unit, "kind": kind})
    names = [r["name"] for r in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"The parameter set names {dup} more than once.")
    return pd.DataFrame(out, columns=["name", "value", "unit", "kind"])


@dataclass(frozen=True, eq=False)
class ScaledParameters(Result):
    """A human parameter set scaled from one animal species.

    ``table`` columns: ``name``, ``kind``, ``animal_value``, ``animal_unit``, ``exponent``, ``human_value`` and
    ``human_unit`` (absolute: L/<time>, L, 1/<time>, <time>), ``human_per_kg`` and ``human_per_kg_unit`` (the
    human value per kg in the animal's volume unit, for clearances and volumes; missing otherwise).
    """

    species: str = ""
    animal_weight_kg: float = float("nan")
    human_weight_kg: float = float("nan")

    def values(self) -> dict[str, float]:
        """Human values by parameter name (units: :meth:`units`)."""
        return dict(zip(self.table["name"], self.table["human_value"].astype(float)))

    def units(self) -> dict[str, str]:
        return dict(zip(self.table["name"], self.table["human_unit"]))

    def record_body(self) -> dict[str, Any]:
        return {"species": self.species, "animal_weight_kg": self.animal_weight_kg,
                "human_weight_kg": self.human_weight_kg,
                "parameters": [{"name": r.name, "kind": r.kind, "exponent": r.exponent, "value": r.human_value,
                                "unit": r.human_unit} for r in self.table.itertuples()]}


def scale_parameters(parameters: pd.DataFrame | Mapping[str, Any], species: str = "cynomolgus", *,
                     body_weight: float | None = None, human_weight: float = HUMAN_WEIGHT_KG,
                     modality: Modality = "adc", exponents: Mapping[str, float] | None = None) -> ScaledParameters:
    """Scale an animal parameter set to a human one by simple allometry (equations: module docstring).

    ``parameters``: see :func:`parameter_table` (e.g. ``{"CL": (18.2, "mL/day/kg"), "V1": (40, "mL/kg"),
    "Q": (30, "mL/day/kg"), "V2": (45, "mL/kg")}``).  Returns a :class:`ScaledParameters` whose
    ``values()`` are absolute human values in L/<time> and L.  An unknown species needs ``body_weight``.
    """
    spec = AllometrySpec(species=canonical_species(species), body_weight_kg=body_weight,
                         human_weight_kg=human_weight, modality=modality, exponents=dict(exponents or {}))
    w_a = default_body_weight(species, body_weight)
    w_h = spec.human_weight_kg
    table = parameter_table(parameters)
    unknown = [k for k in spec.exponents if k not in set(table["name"]) and k not in PARAMETER_KINDS]
    if unknown:
        raise ValueError(f"The 'exponents' parameter of allometry names {unknown[0]!r}, which is neither a parameter "
                         f"({', '.join(table['name'])}) nor a kind ({', '.join(PARAMETER_KINDS)}); names are "
                         f"case-sensitive.")
    issues = []
    # a CL exponent given by name also applies to the intercompartmental clearances (Q takes the CL exponent)
    cl_named = [(n, float(spec.exponents[n])) for n, k in zip(table["name"], table["kind"])
                if k == "clearance" and n in spec.exponents]
    cl_override = cl_named[0][1] if cl_named else None
    if len({b for _, b in cl_named}) > 1:
        issues.append(Issue("clearance_exponents_differ", f"Clearances were given different exponents {cl_named}; "
                            f"intercompartmental clearances without their own exponent take {cl_override:g} "
                            f"(that of {cl_named[0][0]}).", "info"))
    rows = []
    for r in table.itertuples():
        parsed = parse_unit(r.unit)
        b = spec.exponent(r.name, r.kind, cl_override)
        if parsed.kind in ("clearance", "volume"):
            absolute_l = r.value * parsed.volume_l * (w_a if parsed.per_kg else 1.0)
            human = absolute_l * (w_h / w_a) ** b
            unit = "L" if parsed.kind == "volume" else f"L/{parsed.time}"
            per_kg = human / w_h / parsed.volume_l
            vol = r.unit.split("/")[0].strip()
            per_kg_unit = f"{vol}/kg" if parsed.kind == "volume" else f"{vol}/{parsed.time}/kg"
        else:
            human = r.value * (w_h / w_a) ** b
            unit = f"1/{parsed.time}" if parsed.kind == "rate_constant" else parsed.time
            per_kg, per_kg_unit = float("nan"), None
        rows.append({"name": r.name, "kind": r.kind, "animal_value": r.value, "animal_unit": r.unit, "exponent": b,
                     "human_value": human, "human_unit": unit, "human_per_kg": per_kg,
                     "human_per_kg_unit": per_kg_unit})
    defaulted = [r["name"] for r in rows if r["kind"] == "clearance" and r["name"] not in spec.exponents
                 and "clearance" not in spec.exponents]
    if spec.modality == "adc" and defaulted:
        issues.append(Issue("adc_exponent", "ADC clearance scaled with exponent 1.0 (Li et al. 2019); antibodies "
                            "usually take 0.85 (Deng et al. 2011).", "info"))
    return ScaledParameters(spec=spec, table=pd.DataFrame(rows), issues=tuple(issues),
                            provenance=make_provenance(spec, table), species=spec.species,
                            animal_weight_kg=w_a, human_weight_kg=w_h)


def two_compartment_half_lives(cl, v1, q, v2) -> dict[str, np.ndarray | float]:
    """Distribution and terminal half-lives and Vss of a linear two-compartment model (consistent units).

    With k10 = CL/V1, k12 = Q/V1, k21 = Q/V2 and s = k10 + k12 + k21, the disposition rate constants are
    alpha, beta = (s +/- sqrt(s^2 - 4 k21 k10)) / 2; half-lives are ln 2 / alpha and ln 2 / beta, and
    Vss = V1 + V2.  Inputs may be arrays (vectorised).
    """
    cl, v1, q, v2 = (np.asarray(x, dtype=float) for x in (cl, v1, q, v2))
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    root = np.sqrt(s * s - 4.0 * k21 * k10)
    alpha, beta = (s + root) / 2.0, (s - root) / 2.0
    out = {"t_half_alpha": np.log(2) / alpha, "t_half_beta": np.log(2) / beta, "vss": v1 + v2}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}
