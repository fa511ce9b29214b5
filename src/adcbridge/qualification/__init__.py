"""Installation and operational qualification: ``adcbridge validate`` re-runs the reference comparisons bundled
with the package (:mod:`.checks`, data and provenance under ``reference/``) on the installed version and writes a
dated report (:mod:`.report`: ``validation.json`` and ``validation.html``).

>>> from adcbridge.qualification import run_checks, write_report
>>> run = run_checks()                              # doctest: +SKIP
>>> write_report(run, "adcbridge_validation")       # doctest: +SKIP

Names are imported from their sub-modules on first use.
"""

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "AREAS": ".checks", "Area": ".checks", "CheckResult": ".checks", "Comparison": ".checks",
    "QualificationRun": ".checks", "run_checks": ".checks", "reference_files": ".checks",
    "check_output_folder": ".report", "report_record": ".report", "write_report": ".report",
}

__all__ = ["AREAS", "Area", "CheckResult", "Comparison", "QualificationRun", "check_output_folder",
           "reference_files", "report_record", "run_checks", "write_report"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
