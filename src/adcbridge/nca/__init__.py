"""Non-compartmental analysis (NCA) for ADC studies: profiles, lambda_z, AUCs, CDISC parameters, statistics.

>>> from adcbridge.nca import run_nca, NcaOptions, BlqRules, NcaUnits
"""

from .analysis import NcaResult, run_nca
from .blq import BlqRules
from .engine import NcaOptions
from .multiple_dose import dosing_intervals, run_nca_multiple_dose
from .parameters import REGISTRY, NcaUnits
from .profiles import Profiles, build_profiles
from .summary import describe

# the statistics import statsmodels (about 1 s): loaded on first use, so that an NCA starts fast
_LAZY = {"Subset": "proportionality", "dose_normalised_anova": "proportionality", "power_model": "proportionality",
         "sex_comparison": "sex"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["run_nca", "NcaResult", "NcaOptions", "BlqRules", "NcaUnits", "REGISTRY", "Profiles", "build_profiles",
           "describe", "run_nca_multiple_dose", "dosing_intervals", "power_model", "dose_normalised_anova",
           "sex_comparison", "Subset"]
