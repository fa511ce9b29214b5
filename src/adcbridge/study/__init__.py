"""The study pipeline: one YAML study file from the raw preclinical package to the first-in-human trial design,
run into one output folder with an HTML report (``adcbridge run study.yaml --out DIR``).

Names are imported from their sub-modules on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {"Study": ".schema", "StudyError": ".schema", "load_study": ".schema", "run_study": ".run",
            "StudyRun": ".run", "KINDS": ".kinds"}

__all__ = ["Study", "StudyError", "load_study", "run_study", "StudyRun", "KINDS"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
