"""Non-compartmental analysis (NCA) for ADC studies: profiles, lambda_z, AUCs, CDISC parameters, statistics.

>>> from adcbridge.nca import run_nca, NcaOptions, BlqRules, NcaUnits
"""

from .analysis import NcaResult, run_nca
from .blq import BlqRules
from .engine import NcaOptions
from .multiple_dose import dosing_intervals, run_nca_multiple_dose
from .parameters import REGISTRY, NcaUnits
from .profiles import Profiles, build_profiles
from .proportionality import Subset, dose_normalised_anova, power_model
from .sex import sex_comparison
from .summary import describe

__all__ = ["run_nca", "NcaResult", "NcaOptions", "BlqRules", "NcaUnits", "REGISTRY", "Profiles", "build_profiles",
           "describe", "run_nca_multiple_dose", "dosing_intervals", "power_model", "dose_normalised_anova", "sex_comparison", "Subset"]
