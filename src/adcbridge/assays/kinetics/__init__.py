"""SPR/BLI binding kinetics: global 1:1 Langmuir (and mass-transport) fits of multi- and single-cycle kinetics,
steady-state affinity, and a reader for wide instrument exports.

>>> from adcbridge.assays.kinetics import fit_kinetics, KineticsOptions, sensorgrams_from_wide
"""

from .data import Sensorgrams, build_sensorgrams
from .fit import fit_kinetics
from .models import LANGMUIR, MASS_TRANSPORT, MODELS, BindingModel, compile_schedule, simulate
from .options import KineticsOptions, SteadyStateOptions, molar_factor
from .results import KineticsResult, SteadyStateResult
from .steady_state import fit_steady_state, report_points
from .wide import sensorgram_table, sensorgrams_from_wide

__all__ = ["fit_kinetics", "KineticsOptions", "KineticsResult", "sensorgrams_from_wide", "sensorgram_table",
           "report_points", "fit_steady_state", "SteadyStateOptions", "SteadyStateResult",
           "LANGMUIR", "MASS_TRANSPORT", "MODELS", "BindingModel",
           "Sensorgrams", "build_sensorgrams", "compile_schedule", "simulate", "molar_factor"]
