"""Continual reassessment method: one-parameter models, skeletons, posterior and trial conduct.

Names are imported from their sub-modules on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {"CrmDesign": ".design", "CrmPolicy": ".design", "crm": ".design", "CrmModel": ".model",
            "Posterior": ".model", "indifference_skeleton": ".model"}

__all__ = ["CrmDesign", "CrmPolicy", "crm", "CrmModel", "Posterior", "indifference_skeleton"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
