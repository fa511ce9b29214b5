"""Human PK projection: an animal compartmental parameter set -> human parameters by allometry -> predicted human
concentration-time profiles and exposure (Cmax, AUC over a cycle, Ctrough) at any candidate dose and schedule.

The scaling is :func:`~adcbridge.translation.allometry.scale_parameters` (simple allometry from one species:
clearances x (W_h / W_a)^b_CL, volumes x (W_h / W_a)^b_V; for ADCs b_CL = 1.0 per Li et al. 2019, for antibodies
0.85 per Deng et al. 2011, volumes 1.0).  The human profile is then the same linear compartmental model
(:mod:`adcbridge.pk`: ``1cmt``, ``2cmt`` or ``3cmt``) with the human parameters, in absolute units: a dose of
D mg/kg is D x W_h mg, volumes in mL, so concentrations are in ug/mL.

Exposure of a cycle: ``cycle=1`` is the first dose interval [0, tau); ``cycle=k`` the k-th of ``n_doses`` doses
every ``tau`` (``cycle=n_doses`` approaches steady state for long regimens).  AUC over the cycle is exact (sums of
exponentials), Cmax is located on a fine grid refined by golden-section search, Ctrough is the concentration just
before the next dose.  The models are linear, so exposure is proportional to dose; every dose is nevertheless
simulated (the cost is negligible) so that the numbers never rest on that assumption.

>>> from adcbridge.translation.projection import project_human_pk
>>> proj = project_human_pk({"CL": (18.2, "mL/day/kg"), "V1": (40.0, "mL/kg"), "Q": (30.0, "mL/day/kg"),
...                          "V2": (40.0, "mL/kg")}, "cynomolgus", model="2cmt")
>>> e = proj.exposure([1.6, 3.2], tau_day=21, n_doses=1)
>>> bool(abs(e["auc"].iloc[1] / e["auc"].iloc[0] - 2.0) < 1e-9)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from adcbridge.pk import Regimen, exposure, get_model, simulate
from adcbridge.results import Result, make_provenance
from adcbridge.spec import Spec

from .allometry import HUMAN_WEIGHT_KG, scale_parameters
from .units import json_records

__all__ = ["ProjectionSpec", "HumanPkProjection", "project_human_pk"]

_HOURS = {"min": 1 / 60, "h": 1.0, "day": 24.0, "week": 168.0}
_LINEAR = ("1cmt", "2cmt", "3cmt")


class ProjectionSpec(Spec):
    """Options of :func:`project_human_pk`: the animal ``species`` (and its ``body_weight_kg`` when not a
    standard one), the linear ``model`` the parameters belong to, the human body weight, the ``modality`` that
    chooses the clearance exponent (``adc`` 1.0, ``antibody`` 0.85) or explicit ``exponents``, and the default
    schedule of the exposure tables: ``tau_day`` (21: Q3W), ``n_doses`` and the infusion duration
    ``infusion_h``."""

    spec_name: ClassVar[str] = "project_human_pk"
    species: str = "cynomolgus"
    body_weight_kg: float | None = Field(None, gt=0)
    model: Literal["1cmt", "2cmt", "3cmt"] = "2cmt"
    human_weight_kg: float = Field(HUMAN_WEIGHT_KG, gt=0)
    modality: Literal["adc", "antibody", "small_molecule"] = "adc"
    exponents: dict[str, float] = Field(default_factory=dict)
    tau_day: float = Field(21.0, gt=0)
    n_doses: int = Field(1, ge=1, le=100)
    infusion_h: float = Field(1.5, ge=0)


def _pk_parameters(scaled: pd.DataFrame, model: str) -> dict[str, float]:
    """Human parameters in the pk package's absolute units (mL/h, mL) from the scaled table (L/<time>, L)."""
    out = {}
    for r in scaled.itertuples():
        if r.kind == "volume":
            out[r.name] = float(r.human_value) * 1000.0
        elif r.kind in ("clearance", "intercompartmental_clearance"):
            time = str(r.human_unit).split("/", 1)[1]
            out[r.name] = float(r.human_value) * 1000.0 / _HOURS[time]
        else:
            raise ValueError(f"parameter {r.name!r} ({r.kind}) cannot be used by the {model} model")
    needed = [p.name for p in get_model(model).parameters]
    missing = [p for p in needed if p not in out]
    if missing:
        raise ValueError(f"the {model} model needs parameters {needed}; missing {missing} (given "
                         f"{list(scaled['name'])})")
    extra = [p for p in out if p not in needed]
    if extra:
        raise ValueError(f"parameters {extra} are not part of the {model} model ({needed})")
    return out


@dataclass(frozen=True, eq=False)
class HumanPkProjection(Result):
    """A human PK projection.  ``table``: the scaled parameters (see
    :class:`~adcbridge.translation.allometry.ScaledParameters`).  ``half_lives``: the human half-lives in h
    (``t_half_alpha``, ``t_half_beta``[, ``t_half_gamma``] of a multi-compartment model, and always
    ``t_half_terminal``, the slowest phase).  ``human_parameters``: the pk model's parameters in mL/h and mL
    (absolute, for a human of ``human_weight_kg``)."""

    human_parameters: dict[str, float] | None = None
    half_lives: dict[str, float] | None = None

    result_type: ClassVar[str] = "HumanPkProjection"

    # ---------------------------------------------------------------------------------------------- helpers
    def _regimen(self, dose_mg: float, tau_day, n_doses, infusion_h) -> Regimen:
        s = self.spec
        tau = (s.tau_day if tau_day is None else float(tau_day)) * 24.0
        n = s.n_doses if n_doses is None else int(n_doses)
        dur = s.infusion_h if infusion_h is None else float(infusion_h)
        return Regimen.repeated(dose=dose_mg, tau=tau, n=n, duration=dur)

    def _doses(self, doses) -> np.ndarray:
        d = np.atleast_1d(np.asarray(doses, dtype=float))
        if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise ValueError(f"doses must be positive numbers in mg/kg; got {doses!r}")
        return d

    # ------------------------------------------------------------------------------------------- outputs
    def exposure(self, doses, *, tau_day: float | None = None, n_doses: int | None = None, cycle: int | None = None,
                 infusion_h: float | None = None) -> pd.DataFrame:
        """Predicted human exposure at each dose (mg/kg): one row per dose with ``dose`` (mg/kg), ``dose_mg``,
        ``cmax``, ``ctrough``, ``cavg`` (ug/mL), ``auc`` (ug*day/mL over the cycle), ``tmax_h`` and the schedule
        (``tau_day``, ``n_doses``, ``cycle``: default the last dose's cycle)."""
        d = self._doses(doses)
        n = self.spec.n_doses if n_doses is None else int(n_doses)
        k = n if cycle is None else int(cycle)
        if not 1 <= k <= n:
            raise ValueError(f"cycle must be between 1 and n_doses ({n}); got {cycle!r}")
        rows = []
        for dose in d:
            mg = dose * self.spec.human_weight_kg
            reg = self._regimen(mg, tau_day, n, infusion_h)
            e = exposure(self.spec.model, self.human_parameters, reg, cycle=k).iloc[0]
            rows.append({"dose": dose, "dose_mg": mg, "cmax": float(e["cmax"]), "tmax_h": float(e["tmax"]),
                         "ctrough": float(e["ctrough"]), "cavg": float(e["cavg"]), "auc": float(e["auc"]) / 24.0,
                         "tau_day": reg.tau / 24.0, "n_doses": n, "cycle": k})
        return pd.DataFrame(rows)

    def exposure_source(self, **schedule):
        """A function of dose (mg/kg) returning the exposure table: pass it as ``exposure=`` to
        :func:`~adcbridge.translation.ladder.dose_ladder` or :func:`~adcbridge.translation.margins.
        exposure_margins`.  ``schedule``: ``tau_day``, ``n_doses``, ``cycle``, ``infusion_h``."""
        def source(doses) -> pd.DataFrame:
            return self.exposure(doses, **schedule)
        return source

    def profiles(self, doses, times_day, *, tau_day: float | None = None, n_doses: int | None = None,
                 infusion_h: float | None = None) -> pd.DataFrame:
        """Predicted human concentrations (ug/mL): long table ``dose`` (mg/kg), ``time_day``, ``conc``."""
        d = self._doses(doses)
        t = np.asarray(times_day, dtype=float)
        if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("times_day must be a 1-D array of times >= 0 (days)")
        frames = []
        for dose in d:
            reg = self._regimen(dose * self.spec.human_weight_kg, tau_day, n_doses, infusion_h)
            c = simulate(self.spec.model, self.human_parameters, reg, t, time_unit="day")[0]
            frames.append(pd.DataFrame({"dose": dose, "time_day": t, "conc": c}))
        return pd.concat(frames, ignore_index=True)

    def record_body(self) -> dict[str, Any]:
        s = self.spec
        return {"species": s.species, "model": s.model, "human_weight_kg": s.human_weight_kg,
                "modality": s.modality, "parameters": json_records(self.table),
                "half_lives_day": {k: v / 24.0 for k, v in (self.half_lives or {}).items()}}


def _half_lives(model: str, p: Mapping[str, float]) -> dict[str, float]:
    """Half-lives (h) of the disposition phases, fastest first: ln 2 / lambda_i.

    A multi-compartment model gives ``t_half_alpha``, ``t_half_beta`` (and ``t_half_gamma``), fastest first; every
    model gives ``t_half_terminal``, the slowest phase (for a 1-compartment model the only one)."""
    _, lam = get_model(model).exponentials({k: np.atleast_1d(v) for k, v in p.items()}, None)
    lam = np.sort(np.asarray(lam, dtype=float).ravel())[::-1]
    names = ("alpha", "beta", "gamma")
    out = {f"t_half_{names[i]}": float(np.log(2) / v) for i, v in enumerate(lam)} if lam.size > 1 else {}
    out["t_half_terminal"] = float(np.log(2) / lam[-1])
    return out


def project_human_pk(parameters, species: str = "cynomolgus", *, model: str = "2cmt",
                     spec: ProjectionSpec | None = None, **options) -> HumanPkProjection:
    """Project an animal parameter set of a linear compartmental model to humans.

    ``parameters``: a mapping ``{"CL": (18.2, "mL/day/kg"), "V1": (40, "mL/kg"), ...}`` or a table with
    ``name, value, unit`` (what a :class:`~adcbridge.pk.PKFitResult` reports); ``model``: ``1cmt`` (CL, V),
    ``2cmt`` (CL, V1, Q, V2) or ``3cmt`` (CL, V1, Q2, V2, Q3, V3).  Options: :class:`ProjectionSpec`."""
    spec = (spec or ProjectionSpec(species=species, model=model, **options))
    if spec.model not in _LINEAR:
        raise ValueError(f"human projection needs a linear model {_LINEAR}; got {spec.model!r}")
    scaled = scale_parameters(parameters, spec.species, body_weight=spec.body_weight_kg,
                              human_weight=spec.human_weight_kg, modality=spec.modality,
                              exponents=spec.exponents or None)
    human = _pk_parameters(scaled.table, spec.model)
    return HumanPkProjection(spec=spec, table=scaled.table, issues=scaled.issues,
                             provenance=make_provenance(spec, scaled.table), human_parameters=human,
                             half_lives=_half_lives(spec.model, human))
