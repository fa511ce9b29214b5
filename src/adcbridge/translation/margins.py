"""Exposure margins: animal exposure at the HNSTD (or NOAEL) against predicted human exposure per dose.

    margin_cmax = Cmax_animal / Cmax_human(dose),      margin_auc = AUC_animal / AUC_human(dose)

(> 1: the human exposure stays below the animal's).  Human exposures come as a table with columns ``dose``,
``cmax`` and/or ``auc`` -- e.g. from a simulation with the scaled parameter set -- or, for linear PK, from
:func:`proportional_exposure`, which scales one reference exposure with the dose:
Cmax(d) = Cmax_ref * d / d_ref, AUC(d) = AUC_ref * d / d_ref.

:func:`exposure_at` reads a table at other doses by linear interpolation of log exposure on log dose (exact at
the table's doses; a dose outside the table's range is an error, never an extrapolation).  Units are the
caller's: the animal and human values must share them (name them in ``cmax_unit``/``auc_unit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from adcbridge.results import Result, make_provenance
from adcbridge.spec import Spec

from .units import json_records

__all__ = ["ExposureSpec", "ExposureMargins", "exposure_margins", "proportional_exposure", "exposure_at",
           "ExposureSource", "resolve_exposure"]

ExposureSource = pd.DataFrame | Callable[[np.ndarray], pd.DataFrame]
METRICS = ("cmax", "auc")


def proportional_exposure(reference_dose: float, cmax: float | None = None,
                          auc: float | None = None) -> Callable[[np.ndarray], pd.DataFrame]:
    """Linear-PK predictor: a function of doses returning a table ``dose``, ``cmax``, ``auc`` proportional to
    the reference exposure (missing metrics stay missing)."""
    if not reference_dose > 0 or (cmax is None and auc is None):
        raise ValueError("proportional_exposure needs a reference dose > 0 and a Cmax and/or an AUC.")
    for name, v in (("cmax", cmax), ("auc", auc)):
        if v is not None and not v > 0:
            raise ValueError(f"The reference {name} must be > 0. Got {v!r}.")

    def predict(doses: np.ndarray) -> pd.DataFrame:
        d = np.asarray(doses, float)
        return pd.DataFrame({"dose": d, "cmax": d / reference_dose * (np.nan if cmax is None else cmax),
                             "auc": d / reference_dose * (np.nan if auc is None else auc)})
    return predict


def exposure_at(table: pd.DataFrame, doses) -> pd.DataFrame:
    """Exposure (``cmax``, ``auc``) of ``table`` at ``doses`` by log-log interpolation (module docstring)."""
    if "dose" not in table.columns or not any(m in table.columns for m in METRICS):
        raise ValueError(f"The human exposure table needs 'dose' and 'cmax' and/or 'auc' columns; found "
                         f"{list(table.columns)}.")
    t = table.sort_values("dose")
    x = t["dose"].to_numpy(float)
    if np.any(~(x > 0)) or np.any(np.diff(x) <= 0):
        raise ValueError("The human exposure table's doses must be positive and distinct.")
    d = np.asarray(doses, float)
    outside = (d < x[0] * (1 - 1e-12)) | (d > x[-1] * (1 + 1e-12))
    if outside.any():
        raise ValueError(f"Dose {d[outside][0]:g} is outside the human exposure table's doses "
                         f"({x[0]:g}-{x[-1]:g}); give predictions that cover every dose.")
    out = {"dose": d}
    for m in METRICS:
        if m in t.columns:
            y = t[m].to_numpy(float)
            out[m] = np.exp(np.interp(np.log(d), np.log(x), np.log(y))) if len(x) > 1 else np.full(d.shape, y[0])
        else:
            out[m] = np.full(d.shape, np.nan)
    return pd.DataFrame(out)


def resolve_exposure(source: ExposureSource, doses) -> pd.DataFrame:
    """Human exposures at ``doses`` from a table (interpolated) or a predictor function."""
    if isinstance(source, pd.DataFrame):
        return exposure_at(source, doses)
    if callable(source):
        out = source(np.asarray(doses, float))
        if not isinstance(out, pd.DataFrame) or not any(m in out.columns for m in METRICS):
            raise ValueError("The exposure predictor must return a DataFrame with 'cmax' and/or 'auc'.")
        return pd.DataFrame({"dose": np.asarray(doses, float),
                             **{m: (out[m].to_numpy(float) if m in out.columns else np.nan) for m in METRICS}})
    raise ValueError("Human exposure must be a DataFrame (dose, cmax, auc) or a function of dose.")


class ExposureSpec(Spec):
    """Animal exposure at the reference dose (HNSTD or NOAEL) and the units shared with the human values."""

    spec_name: ClassVar[str] = "exposure_margins"

    animal_cmax: float | None = Field(None, gt=0)
    animal_auc: float | None = Field(None, gt=0)
    animal_dose: float | None = Field(None, gt=0)
    cmax_unit: str = "ug/mL"
    auc_unit: str = "ug*day/mL"


@dataclass(frozen=True, eq=False)
class ExposureMargins(Result):
    """``table``: ``dose``, ``cmax``, ``auc`` (human), ``cmax_margin``, ``auc_margin`` (animal / human) and
    ``auc_fraction`` (human / animal)."""

    def record_body(self) -> dict[str, Any]:
        return {"animal_cmax": self.spec.animal_cmax, "animal_auc": self.spec.animal_auc,
                "levels": json_records(self.table)}


def margin_columns(human: pd.DataFrame, animal_cmax: float | None, animal_auc: float | None) -> pd.DataFrame:
    """``cmax_margin``, ``auc_margin``, ``auc_fraction`` for a human exposure table (vectorised)."""
    hc, ha = human["cmax"].to_numpy(float), human["auc"].to_numpy(float)
    return pd.DataFrame({"cmax_margin": (animal_cmax / hc) if animal_cmax else np.full(len(human), np.nan),
                         "auc_margin": (animal_auc / ha) if animal_auc else np.full(len(human), np.nan),
                         "auc_fraction": (ha / animal_auc) if animal_auc else np.full(len(human), np.nan)})


def exposure_margins(human: ExposureSource, doses=None, *, animal_cmax: float | None = None,
                     animal_auc: float | None = None, animal_dose: float | None = None, cmax_unit: str = "ug/mL",
                     auc_unit: str = "ug*day/mL") -> ExposureMargins:
    """Margins of the animal exposure over the human exposure at each dose.

    ``human`` is a table (``dose``, ``cmax``, ``auc``; margins at its own doses unless ``doses`` is given) or a
    predictor function (then ``doses`` is required).
    """
    spec = ExposureSpec(animal_cmax=animal_cmax, animal_auc=animal_auc, animal_dose=animal_dose,
                        cmax_unit=cmax_unit, auc_unit=auc_unit)
    if animal_cmax is None and animal_auc is None:
        raise ValueError("Give the animal Cmax and/or AUC at the reference dose (HNSTD) to compute margins.")
    if doses is None:
        if not isinstance(human, pd.DataFrame):
            raise ValueError("Give the doses at which to evaluate the exposure predictor.")
        doses = human["dose"].to_numpy(float)
    h = resolve_exposure(human, doses)
    table = pd.concat([h.reset_index(drop=True), margin_columns(h, animal_cmax, animal_auc)], axis=1)
    return ExposureMargins(spec=spec, table=table, provenance=make_provenance(spec, table))
