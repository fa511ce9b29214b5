"""BF-BOIN: BOIN with backfill cohorts (Zhao, Yuan, Korn, Freidlin 2024; reference bfboin 0.1.1).

Names are imported from their sub-modules on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {"BackfillBoinDesign": ".design", "boin_backfill": ".design", "simulate_backfill": ".simulate",
            "weibull_parameters": ".timing"}

__all__ = ["BackfillBoinDesign", "boin_backfill", "simulate_backfill", "weibull_parameters"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
