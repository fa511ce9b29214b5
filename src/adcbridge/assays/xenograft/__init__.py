"""Xenograft efficacy: tumour volume per animal over time, TGI under each common definition (chosen by name),
T/C, % regression, best-response classes, mixed-model growth rates of log volume with group comparisons,
time to endpoint (Kaplan-Meier, log-rank, TGD, log cell kill), humane-endpoint dropouts, and the Simeoni 2004
tumour growth inhibition model.  Definitions and choices: docs/assays_xenograft.md.

>>> from adcbridge.assays.xenograft import analyze_xenograft, XenograftOptions, TGI_DEFINITIONS
>>> # analyze_xenograft(df, control="Vehicle", tgi="all", days=[14, 21], humane_endpoint=2000)
"""

from .analysis import XenograftResult, analyze_xenograft
from .cross_section import DayComparisonResult, compare_day
from .data import TumourVolumes, group_summary, relative_volumes, tumour_volumes
from .growth import GrowthRateResult, fit_growth_rates
from .multiplicity import dunnett_adjusted_p, holm
from .options import TGI_DEFINITIONS, XenograftOptions
from .response import CATEGORIES, BestResponseResult, best_response, classify_response
from .simeoni import SimeoniModel, SimeoniResult, bolus_concentration, simulate_simeoni
from .survival import TimeToEndpointResult, endpoint_times, km_median, time_to_endpoint
from .tgi import GrowthInhibitionResult, growth_inhibition

__all__ = ["analyze_xenograft", "XenograftResult", "XenograftOptions", "TGI_DEFINITIONS",
           "tumour_volumes", "TumourVolumes", "group_summary", "relative_volumes",
           "growth_inhibition", "GrowthInhibitionResult",
           "compare_day", "DayComparisonResult",
           "fit_growth_rates", "GrowthRateResult",
           "time_to_endpoint", "TimeToEndpointResult", "endpoint_times", "km_median",
           "best_response", "BestResponseResult", "classify_response", "CATEGORIES",
           "simulate_simeoni", "SimeoniModel", "SimeoniResult", "bolus_concentration",
           "dunnett_adjusted_p", "holm"]
