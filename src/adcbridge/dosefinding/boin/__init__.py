"""Bayesian optimal interval (BOIN) design: spec, decision table, live decisions, MTD selection, conduct.

Names are imported from their sub-modules on first use."""

_EXPORTS = {
    "BoinBoundaries": ".boundaries", "count_tables": ".boundaries", "decision_table": ".boundaries",
    "interval_boundaries": ".boundaries", "NextDose": "..nextdose", "next_dose": ".decision",
    "BoinDesign": ".design", "boin": ".design", "BoinPolicy": ".policy", "MtdSelection": ".selection",
    "select_mtd": ".selection",
}

__all__ = ["BoinDesign", "boin", "BoinBoundaries", "decision_table", "count_tables", "interval_boundaries",
           "NextDose", "next_dose", "MtdSelection", "select_mtd", "BoinPolicy"]


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
