"""Dose-response curves for cell binding (EC50) and cytotoxicity (IC50): drc's models and inference in Python.

>>> from adcbridge.assays.dose_response import fit_dose_response, MODELS
>>> sorted(MODELS)
['LL.3', 'LL.4', 'LL.5', 'W1.4', 'W2.4']

See ``docs/assays_dose_response.md`` for the models, the standard-error options and where drc and Prism differ.
"""

from .batch import BatchFit, fit_curves_array
from .batch_table import DoseResponseBatch, DoseResponseBatchSpec, fit_dose_response_batch, long_to_arrays
from .compare import NestedModelTest, anova, nested_f_test
from .data import CurveData, prepare_curves
from .fit import DoseResponseFit, fit_dose_response
from .inference import compare_parameters, effective_doses, fieller_interval, relative_potency
from .models import MODELS, PARAMETERS, DoseResponseModel, get_model, self_start
from .spec import DoseResponseSpec

__all__ = ["fit_dose_response", "DoseResponseFit", "DoseResponseSpec", "MODELS", "PARAMETERS", "DoseResponseModel",
           "get_model", "self_start", "effective_doses", "relative_potency", "compare_parameters",
           "fieller_interval", "anova", "nested_f_test", "NestedModelTest", "CurveData", "prepare_curves",
           "fit_dose_response_batch", "fit_curves_array", "DoseResponseBatch", "DoseResponseBatchSpec", "BatchFit",
           "long_to_arrays"]
