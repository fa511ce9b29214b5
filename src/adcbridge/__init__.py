"""adcbridge: from an antibody-drug conjugate's preclinical package to a first-in-human dose-escalation trial.

The science lives in sub-packages that never read files, plot or print:

* :mod:`adcbridge.dosefinding` -- BOIN, 3+3 and CRM designs, decision tables, MTD selection, operating
  characteristics (Monte Carlo and exact).

Files are read and written only by :mod:`adcbridge.io`; plots and HTML live in :mod:`adcbridge.report`; the
command line (:mod:`adcbridge.cli`) is a thin layer over the library.
"""

from adcbridge._version import __version__

__all__ = ["__version__"]
