"""Phase I dose finding: BOIN, 3+3 and CRM behind one core -- designs registered by name (:mod:`.registry`),
each an inert spec giving its policy, live decision and protocol text (:mod:`.design`), patient-level histories
(:mod:`.history`), one next-dose function and one simulation engine.

>>> from adcbridge.dosefinding import boin, decision_table, next_dose, select_mtd, simulate, exact_oc
>>> design = boin(target=0.3, doses=[1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4], cohort_size=3, cohorts=10)
>>> round(decision_table(design).lambda_e, 4)
0.2365

Names are imported from their sub-modules on first use.
"""

import sys
import types

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "BoinBoundaries": ".boin.boundaries", "decision_table": ".boin.boundaries",
    "interval_boundaries": ".boin.boundaries", "BoinDesign": ".boin.design", "boin": ".boin.design",
    "MtdSelection": ".boin.selection", "select_mtd": ".boin.selection", "NextDose": ".nextdose",
    "CrmDesign": ".crm.design", "crm": ".crm.design", "indifference_skeleton": ".crm.model",
    "CombBoinDesign": ".comb.design", "comb_boin": ".comb.design",
    "Boin12Design": ".boin12.design", "boin12": ".boin12.design",
    "TiteBoinDesign": ".tite.design", "tite_boin": ".tite.design",
    "next_dose": ".decide", "OperatingCharacteristics": ".oc", "Cohort": ".outcomes", "DoseCounts": ".outcomes",
    "format_outcomes": ".outcomes", "parse_outcomes": ".outcomes", "dose_transition_pathways": ".paths",
    "protocol_text": ".protocol", "DesignComparison": ".simulate", "compare_designs": ".simulate",
    "exact_oc": ".simulate", "simulate": ".simulate", "ThreePlusThreeDesign": ".threeplusthree",
    "three_plus_three": ".threeplusthree", "DoseFindingDesign": ".design", "History": ".history",
    "Patient": ".history", "design_names": ".registry", "design_class": ".registry", "build_design": ".registry",
    "design_from_record": ".registry",
    "BackfillBoinDesign": ".backfill.design", "boin_backfill": ".backfill.design",
}

__all__ = [
    "BoinDesign", "boin", "BoinBoundaries", "decision_table", "interval_boundaries", "NextDose", "next_dose",
    "MtdSelection", "select_mtd", "CrmDesign", "crm", "indifference_skeleton", "ThreePlusThreeDesign",
    "three_plus_three", "OperatingCharacteristics", "simulate", "exact_oc", "compare_designs", "DesignComparison",
    "Cohort", "DoseCounts", "parse_outcomes", "format_outcomes", "dose_transition_pathways", "protocol_text",
    "DoseFindingDesign", "History", "Patient", "design_names", "design_class", "build_design", "design_from_record",
]


class _Package(types.ModuleType):
    """``boin``, ``crm`` and ``simulate`` name both a sub-module and the function the package exports.  The import
    system binds a sub-module to its parent when it first loads it; this keeps the exported function instead
    (as an eager ``from .simulate import simulate`` used to), so ``adcbridge.dosefinding.simulate`` is always the
    function however the modules were loaded."""

    def __setattr__(self, name: str, value) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
