"""Bayesian optimal interval (BOIN) design: spec, decision table, live decisions, MTD selection, conduct."""

from .boundaries import BoinBoundaries, count_tables, decision_table, interval_boundaries
from ..nextdose import NextDose
from .decision import next_dose
from .design import BoinDesign, boin
from .policy import BoinPolicy
from .selection import MtdSelection, select_mtd

__all__ = ["BoinDesign", "boin", "BoinBoundaries", "decision_table", "count_tables", "interval_boundaries",
           "NextDose", "next_dose", "MtdSelection", "select_mtd", "BoinPolicy"]
