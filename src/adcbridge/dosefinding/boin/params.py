"""The parameter checks the BOIN family shares (BOIN, TITE-BOIN, combination BOIN, BOIN12, backfill).

One place for the rules of the BOIN reference implementations' argument checks, so that every design of the
family refuses the same values with the same sentence:

* the target DLT probability phi in [0.05, 0.6];
* the extra-safety ``offset`` in [0, 0.5);
* BOIN's interval: ``p_saf`` (phi1) in (0, 0.9 phi] and ``p_tox`` (phi2) in [1.1 phi, 1) -- at least 10% of
  the target away from it (BOIN12's looser interval, phi1 < phi < phi2, has its own check);
* a start dose among the doses, dose levels positive, strictly increasing and one per dose;
* the warning for ``n_earlystop <= 6``.

Field validators (``target``, ``offset``) return the value or raise ``ValueError("must be ...")`` (the spec base
turns it into "The 'target' parameter of NAME must be ...").  The relation checks raise a whole sentence naming
the design.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

__all__ = ["check_target", "check_offset", "check_interval", "check_start_dose", "check_dose_levels",
           "warn_low_n_earlystop"]


def check_target(v: float) -> float:
    """Field validator body: the target DLT probability, in [0.05, 0.6]."""
    if not (0.05 <= v <= 0.6):
        raise ValueError("must be in [0.05, 0.6]")
    return v


def check_offset(v: float) -> float:
    """Field validator body: the extra-safety offset, in [0, 0.5) (the field's own bound gives >= 0)."""
    if v >= 0.5:
        raise ValueError("must be in [0, 0.5)")
    return v


def check_interval(name: str, target: float, phi1: float, phi2: float) -> None:
    """BOIN's interval: phi1 (``p_saf``) in (0, 0.9 target], phi2 (``p_tox``) in [1.1 target, 1).  The bounds are
    closed to rounding: ``p_saf=0.054`` at target 0.06 is 0.9 target as the user writes it, though
    ``0.06 - 0.054 < 0.1 * 0.06`` in floating point (a relative slack of 1e-9 of the target)."""
    slack = 1e-9 * target
    if not (0 < phi1) or (target - phi1) < 0.1 * target - slack:
        raise ValueError(f"The 'p_saf' parameter of {name} must be in (0, 0.9*target] = (0, {0.9 * target:.4g}]. "
                         f"Got {phi1!r}.")
    if not (phi2 < 1) or (phi2 - target) < 0.1 * target - slack:
        raise ValueError(f"The 'p_tox' parameter of {name} must be in [1.1*target, 1) = [{1.1 * target:.4g}, 1). "
                         f"Got {phi2!r}.")


def check_start_dose(name: str, start_dose: int, n_doses: int) -> None:
    """A single-agent start dose among the design's doses."""
    if start_dose > n_doses:
        raise ValueError(f"The 'start_dose' parameter of {name} must be in 1..n_doses = 1..{n_doses}. "
                         f"Got {start_dose}.")


def check_dose_levels(name: str, levels: Sequence[float] | None, n: int, *, field: str = "dose_levels",
                      count: str | None = None) -> None:
    """Dose levels (labels of the doses): ``n`` of them, positive and strictly increasing.  ``count`` says what
    ``n`` is in the message (default ``n_doses = n``)."""
    if levels is None:
        return
    if len(levels) != n:
        raise ValueError(f"The '{field}' parameter of {name} must have {count or f'n_doses = {n}'} values. "
                         f"Got {len(levels)}.")
    if levels[0] <= 0 or any(b <= a for a, b in itertools.pairwise(levels)):
        raise ValueError(f"The '{field}' parameter of {name} must be positive and strictly increasing. "
                         f"Got {list(levels)}.")


def warn_low_n_earlystop(n_earlystop: int, stacklevel: int = 3) -> None:
    """BOIN's advice: stopping with 6 or fewer patients at a dose is too early for good operating
    characteristics."""
    if n_earlystop <= 6:
        warnings.warn("n_earlystop <= 6 is too low to ensure good operating characteristics; 9 to 18 is usual.",
                      UserWarning, stacklevel=stacklevel)
