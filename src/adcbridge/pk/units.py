"""Units of the PK package, stated once.

Internal convention (every model, the simulation API and the fits):

=================  ==========================  ==============================================================
quantity           unit                         note
=================  ==========================  ==============================================================
time               h                            sample and dose times; ``day`` inputs are converted (x 24)
dose               mg/kg (or mg)                the amount per dose
volume             mL/kg (or mL)                per kg when the dose is per kg, absolute when the dose is in mg
clearance          mL/h/kg (or mL/h)            ``rate_time="day"`` declares clearances and rate constants per
                                                day instead (mL/day/kg, 1/day); the models divide by 24
concentration      ug/mL (= mg/L)               ``1000 * dose / volume``; the ADC model's payload in ng/mL
=================  ==========================  ==============================================================

So a clearance of 20 mL/day/kg is ``TwoCompartment(rate_time="day")`` with ``CL=20``, or the default model with
``CL=20/24`` mL/h/kg.  Per-kg and absolute inputs differ only in their labels (``per_kg=False``): a dose in mg
with volumes in mL gives the same ug/mL.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HOURS_PER", "to_hours", "rate_factor", "MG_TO_UG"]

HOURS_PER = {"h": 1.0, "day": 24.0}
MG_TO_UG = 1000.0


def to_hours(values, unit: str = "h") -> np.ndarray:
    """Times in ``unit`` (``"h"`` or ``"day"``) as hours."""
    if unit not in HOURS_PER:
        raise ValueError(f"time unit must be 'h' or 'day'; got {unit!r}")
    return np.asarray(values, dtype=float) * HOURS_PER[unit]


def rate_factor(rate_time: str) -> float:
    """Divide a per-``rate_time`` quantity by this to get it per hour."""
    if rate_time not in HOURS_PER:
        raise ValueError(f"The 'rate_time' parameter must be 'h' or 'day'. Got {rate_time!r}.")
    return HOURS_PER[rate_time]
