"""BOIN12 (Lin et al. 2020): a phase I/II design finding the optimal biological dose from toxicity and
efficacy; rules of phase12designs 0.2.0 ``oc_boin12`` with Iso 0.0-18.1 (``docs/boin12.md``).

Names are imported from their sub-modules on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {
    "Boin12Design": ".design", "boin12": ".design", "boin12_tables": ".boundaries",
    "benchmark_utility": ".boundaries", "desirability": ".boundaries", "select_obd": ".selection",
    "ObdSelection": ".selection", "unimodal_fit": ".unimodal", "simulate_boin12": ".simulate",
    "boin12_pathways": ".pathways", "boin12_text": ".protocol",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
