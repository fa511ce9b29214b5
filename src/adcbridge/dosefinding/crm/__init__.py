"""Continual reassessment method: one-parameter models, skeletons, posterior and trial conduct.

Names are imported from their sub-modules on first use."""

_EXPORTS = {"CrmDesign": ".design", "CrmPolicy": ".design", "crm": ".design", "CrmModel": ".model",
            "Posterior": ".model", "indifference_skeleton": ".model"}

__all__ = ["CrmDesign", "CrmPolicy", "crm", "CrmModel", "Posterior", "indifference_skeleton"]


def __getattr__(name: str):
    """Import the sub-module that defines ``name`` on first use (PEP 562), so that a command needing one design
    does not import every design's dependencies (scipy, pandas) at start-up."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
