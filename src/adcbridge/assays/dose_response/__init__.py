"""Dose-response curves for cell binding (EC50) and cytotoxicity (IC50): drc's models and inference in Python.

>>> from adcbridge.assays.dose_response import fit_dose_response, MODELS
>>> sorted(MODELS)
['LL.3', 'LL.4', 'LL.5', 'W1.4', 'W2.4']

See ``docs/assays_dose_response.md`` for the models, the standard-error options and where drc and Prism differ.
Names are imported from their sub-modules on first use (the batch command then loads no scipy).
"""

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "BatchFit": ".batch", "fit_curves_array": ".batch", "DoseResponseBatch": ".batch_table",
    "DoseResponseBatchSpec": ".batch_table", "fit_dose_response_batch": ".batch_table",
    "long_to_arrays": ".batch_table", "NestedModelTest": ".compare", "anova": ".compare",
    "nested_f_test": ".compare", "CurveData": ".data", "prepare_curves": ".data", "DoseResponseFit": ".fit",
    "fit_dose_response": ".fit", "compare_parameters": ".inference", "effective_doses": ".inference",
    "fieller_interval": ".inference", "relative_potency": ".inference", "MODELS": ".models",
    "PARAMETERS": ".models", "DoseResponseModel": ".models", "get_model": ".models", "self_start": ".models",
    "DoseResponseSpec": ".spec",
}

__all__ = ["fit_dose_response", "DoseResponseFit", "DoseResponseSpec", "MODELS", "PARAMETERS", "DoseResponseModel",
           "get_model", "self_start", "effective_doses", "relative_potency", "compare_parameters",
           "fieller_interval", "anova", "nested_f_test", "NestedModelTest", "CurveData", "prepare_curves",
           "fit_dose_response_batch", "fit_curves_array", "DoseResponseBatch", "DoseResponseBatchSpec", "BatchFit",
           "long_to_arrays"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
