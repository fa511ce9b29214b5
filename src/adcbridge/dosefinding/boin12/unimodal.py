"""Unimodal (umbrella) isotonic fits of the efficacy rates, as Iso 0.0-18.1's ``ufit`` computes them.

BOIN12's reference (phase12designs 0.2.0 ``peestimate``) fits, for every mode m = 1..J, a unimodal curve to the
raw efficacy rates with ``Iso::ufit(pe, lmode = m, x = (1, ..., m-1, J, J-1, ..., m), w)``.  With Iso 0.0-18.1 --
the reference environment -- that call makes the mode index exactly m and computes (SPEC 7.6):

* m = 1: the non-increasing weighted PAVA fit; m = J: the non-decreasing one;
* 1 < m < J: (a) the non-decreasing PAVA fit of doses 1..m-1 and the non-increasing fit of doses m+1..J; (b) the
  two fitted sequences merged into one ascending list (left part in dose order, right part from dose J down; on
  equal values the right-hand element first), the raw value of dose m appended last; (c) the weights attached
  to the merged list in *permuted* order: with pi(p) the dose at merged position p, position p receives the
  weight of dose pi^-1(p) (not of pi(p)); (d) the non-decreasing weighted PAVA fit of the merged list; (e) each
  dose takes the value of its merged position.

Step (c) is Iso's own; it makes the fit differ from the weighted least-squares umbrella fit whenever the weights
differ, and it is reproduced here because the reference's selections depend on it.  Iso >= 0.0-19 (CRAN 0.0-21)
instead always returns the non-decreasing fit for peestimate's ``x``; adcbridge offers that as
``efficacy_fit="isotonic"``.

Every function works on a batch of rows (trials) at once; the PAVA is :func:`~adcbridge.dosefinding.isotonic.
pava_rows` (first adjacent strict decrease pooled first, as Iso and BOIN).
"""

from __future__ import annotations

import numpy as np

from ..isotonic import pava_rows

__all__ = ["decreasing_fit", "unimodal_fit", "unimodal_fits"]


def decreasing_fit(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The non-increasing weighted PAVA fit of each row (the non-decreasing fit of the negated values)."""
    if x.shape[1] == 0:
        return x.copy()
    return -pava_rows(-x, w)


def unimodal_fit(x: np.ndarray, w: np.ndarray, mode: int) -> np.ndarray:
    """Iso 0.0-18.1's unimodal fit of each row of ``x`` (B, J) with weights ``w`` and the mode at the 0-based
    column ``mode`` (see the module docstring)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    B, J = x.shape
    if mode == 0:
        return decreasing_fit(x, w)
    if mode == J - 1:
        return pava_rows(x, w)
    left = pava_rows(x[:, :mode], w[:, :mode])
    right = decreasing_fit(x[:, mode + 1:], w[:, mode + 1:])
    # (b) the right part from dose J down, then the left part: a stable sort puts right-hand values first on ties
    doses = np.concatenate([np.arange(J - 1, mode, -1), np.arange(mode)])
    values = np.concatenate([right[:, ::-1], left], axis=1)
    order = np.argsort(values, axis=1, kind="stable")
    rows = np.arange(B)[:, None]
    merged = np.concatenate([values[rows, order], x[:, mode:mode + 1]], axis=1)
    pi = np.concatenate([np.broadcast_to(doses, (B, J - 1))[rows, order], np.full((B, 1), mode)], axis=1)
    inverse = np.empty_like(pi)
    inverse[rows, pi] = np.arange(J)[None, :]                  # inverse[dose] = its merged position
    weights = w[rows, inverse]                                  # (c) position p gets the weight of dose pi^-1(p)
    fit = pava_rows(merged, weights)                            # (d)
    return fit[rows, inverse]                                   # (e)


def unimodal_fits(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """All J unimodal fits: an array (B, J modes, J doses)."""
    J = np.asarray(x).shape[1]
    return np.stack([unimodal_fit(x, w, m) for m in range(J)], axis=1)
