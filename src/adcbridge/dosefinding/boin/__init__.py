"""Bayesian optimal interval (BOIN) design: spec, decision table, live decisions, MTD selection, conduct.

Names are imported from their sub-modules on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "BoinBoundaries": ".boundaries", "count_tables": ".boundaries", "decision_table": ".boundaries",
    "interval_boundaries": ".boundaries", "NextDose": "..nextdose", "next_dose": ".decision",
    "BoinDesign": ".design", "boin": ".design", "BoinPolicy": ".policy", "MtdSelection": ".selection",
    "select_mtd": ".selection",
}

__all__ = ["BoinDesign", "boin", "BoinBoundaries", "decision_table", "count_tables", "interval_boundaries",
           "NextDose", "next_dose", "MtdSelection", "select_mtd", "BoinPolicy"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
