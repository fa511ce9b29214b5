"""Species-invariant time (Dedrick plots): superpose concentration-time profiles across species and predict a
human profile from an animal one.

With clearance exponent b_CL and volume exponent b_V, a linear model whose clearances all scale as W^b_CL and
volumes as W^b_V has the same shape in every species once

    equivalent time        t' = t / W^(b_V - b_CL)
    normalised conc.       C' = C / (Dose / W^b_V)          (Dose absolute, mg)

("complex Dedrick" plot, Boxenbaum 1982, J Pharmacokinet Biopharm 10:201; with b_V = 1 this is the
*elementary* Dedrick plot: t' = t / W^(1 - b_CL), C' = C / (Dose per kg)).  Inverting for a human of weight W_h
given a human dose gives the predicted profile

    t_h = t_a * (W_h / W_a)^(b_V - b_CL),       C_h = C_a * (D_h / W_h^b_V) / (D_a / W_a^b_V).

Both functions are vectorised over the samples.  Doses are given per kg (``dose_unit='mg/kg'``) or absolute
(``'mg'``); concentrations keep their unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .species import HUMAN_WEIGHT_KG

__all__ = ["dedrick_coordinates", "human_profile_from_animal"]


def _absolute_dose(dose: float, weight: float, dose_unit: str) -> float:
    if dose_unit not in ("mg/kg", "mg"):
        raise ValueError(f"dose_unit must be 'mg/kg' or 'mg'. Got {dose_unit!r}.")
    if not (dose > 0 and weight > 0):
        raise ValueError(f"Dose and body weight must be > 0. Got dose {dose!r}, weight {weight!r}.")
    return dose * weight if dose_unit == "mg/kg" else dose


def dedrick_coordinates(time, conc, dose: float, body_weight: float, *, b_cl: float = 0.85, b_v: float = 1.0,
                        dose_unit: str = "mg/kg") -> pd.DataFrame:
    """Dedrick coordinates of one profile: columns ``equivalent_time`` = t / W^(b_V - b_CL) and
    ``normalised_conc`` = C / (Dose / W^b_V) (module docstring).  Profiles of several species that follow the
    allometric model fall on one curve in these coordinates."""
    t, c = np.asarray(time, float), np.asarray(conc, float)
    d = _absolute_dose(dose, body_weight, dose_unit)
    return pd.DataFrame({"equivalent_time": t / body_weight ** (b_v - b_cl),
                         "normalised_conc": c / (d / body_weight ** b_v)})


def human_profile_from_animal(time, conc, animal_dose: float, human_dose: float, animal_weight: float, *,
                              human_weight: float = HUMAN_WEIGHT_KG, b_cl: float = 0.85, b_v: float = 1.0,
                              dose_unit: str = "mg/kg") -> pd.DataFrame:
    """Predicted human profile (``time``, ``conc``) from an animal profile by species-invariant time.

    ``animal_dose`` and ``human_dose`` are in ``dose_unit`` (mg/kg by default).  Times keep the animal's unit.
    """
    t, c = np.asarray(time, float), np.asarray(conc, float)
    d_a = _absolute_dose(animal_dose, animal_weight, dose_unit)
    d_h = _absolute_dose(human_dose, human_weight, dose_unit)
    time_factor = (human_weight / animal_weight) ** (b_v - b_cl)
    conc_factor = (d_h / human_weight ** b_v) / (d_a / animal_weight ** b_v)
    return pd.DataFrame({"time": t * time_factor, "conc": c * conc_factor})
