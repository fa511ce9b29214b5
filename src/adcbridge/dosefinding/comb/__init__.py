"""Drug-combination BOIN (``comb-boin``): one MTD on a J x K grid of two agents (Lin & Yin 2017), or an MTD
contour by the waterfall design (Zhang & Yuan 2016), with the rules of BOIN 2.7.2 (``next.comb``,
``select.mtd.comb``, ``next.subtrial``, ``get.oc.comb``) and the deliberate differences of ``docs/comb_boin.md``."""

from .design import CombBoinDesign, comb_boin

__all__ = ["CombBoinDesign", "comb_boin"]
