"""TITE-BOIN: BOIN with pending patients counted through their follow-up (TITEgBOIN 0.4.0's rules).

:mod:`.design` (the spec), :mod:`.kernel` (the rules as array functions), :mod:`.decision` (live decision),
:mod:`.selection` (MTD), :mod:`.times` and :mod:`.trials` (the trial in time), :mod:`.simulate` (operating
characteristics), :mod:`.table` (decision table), :mod:`.protocol` (protocol text).
"""

from .design import TiteBoinDesign, tite_boin

__all__ = ["TiteBoinDesign", "tite_boin"]
