"""Phase I dose finding: BOIN, 3+3 and CRM behind one spec / next-dose / simulation interface.

>>> from adcbridge.dosefinding import boin, decision_table, next_dose, select_mtd, simulate, exact_oc
>>> design = boin(target=0.3, doses=[1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4], cohort_size=3, cohorts=10)
>>> round(decision_table(design).lambda_e, 4)
0.2365
"""

from .boin import (BoinBoundaries, BoinDesign, MtdSelection, NextDose, boin, decision_table, interval_boundaries,
                   select_mtd)
from .crm import CrmDesign, crm, indifference_skeleton
from .decide import next_dose
from .oc import OperatingCharacteristics
from .outcomes import Cohort, DoseCounts, format_outcomes, parse_outcomes
from .paths import dose_transition_pathways
from .protocol import protocol_text
from .simulate import DesignComparison, compare_designs, exact_oc, simulate
from .threeplusthree import ThreePlusThreeDesign, three_plus_three

__all__ = [
    "BoinDesign", "boin", "BoinBoundaries", "decision_table", "interval_boundaries", "NextDose", "next_dose",
    "MtdSelection", "select_mtd", "CrmDesign", "crm", "indifference_skeleton", "ThreePlusThreeDesign",
    "three_plus_three", "OperatingCharacteristics", "simulate", "exact_oc", "compare_designs", "DesignComparison",
    "Cohort", "DoseCounts", "parse_outcomes", "format_outcomes", "dose_transition_pathways", "protocol_text",
]
