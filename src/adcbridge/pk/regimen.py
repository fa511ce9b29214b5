"""Dosing regimens: dose amounts, times and infusion durations (an inert, validated specification).

>>> r = Regimen.repeated(dose=3.0, tau=504, n=3, duration=0.5)   # Q3W x 3, 0.5-h infusions, mg/kg and h
>>> r.time, r.dose
((0.0, 504.0, 1008.0), (3.0, 3.0, 3.0))
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from pydantic import model_validator

from adcbridge.spec import Spec

from .units import to_hours

__all__ = ["Regimen"]


class Regimen(Spec):
    """Doses (mg/kg or mg) given at ``time`` (h) over ``duration`` (h; 0 = IV bolus).  ``tau`` (h) is the dosing
    interval of a regular regimen (used for "the k-th cycle" in :func:`adcbridge.pk.exposure`)."""

    spec_name: ClassVar[str] = "regimen"
    dose: tuple[float, ...]
    time: tuple[float, ...]
    duration: tuple[float, ...]
    tau: float | None = None

    @model_validator(mode="after")
    def _check(self):
        n = len(self.dose)
        if n == 0:
            raise ValueError("A regimen needs at least one dose ('dose' is empty).")
        if len(self.time) != n or len(self.duration) != n:
            raise ValueError(f"The 'dose', 'time' and 'duration' parameters of regimen must have the same length "
                             f"(got {n}, {len(self.time)}, {len(self.duration)}).")
        for name in ("dose", "time", "duration"):
            values = getattr(self, name)
            bad = [i for i, v in enumerate(values) if not math.isfinite(v) or (v < 0 and name != "time")]
            if bad:
                raise ValueError(f"The '{name}' parameter of regimen must be finite and >= 0. "
                                 f"Got {values[bad[0]]!r} (dose {bad[0] + 1}).")
        back = [i for i in range(1, n) if self.time[i] < self.time[i - 1]]
        if back:
            raise ValueError(f"The 'time' parameter of regimen must be non-decreasing; dose {back[0] + 1} (time "
                             f"{self.time[back[0]]!r}) comes before dose {back[0]} ({self.time[back[0] - 1]!r}).")
        if self.tau is not None and not self.tau > 0:
            raise ValueError(f"The 'tau' parameter of regimen must be > 0. Got {self.tau!r}.")
        return self

    @classmethod
    def single(cls, dose: float, duration: float = 0.0, time: float = 0.0, time_unit: str = "h") -> Regimen:
        """One dose at ``time`` (bolus when ``duration`` is 0)."""
        f = float(to_hours(1.0, time_unit))
        return cls(dose=(float(dose),), time=(float(time) * f,), duration=(float(duration) * f,))

    @classmethod
    def repeated(cls, dose: float, tau: float, n: int, duration: float = 0.0, start: float = 0.0,
                 time_unit: str = "h") -> Regimen:
        """``n`` equal doses every ``tau`` from ``start`` (``time_unit`` "h" or "day" for tau/start/duration)."""
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise ValueError(f"The 'n' parameter of regimen must be an integer >= 1. Got {n!r}.")
        f = float(to_hours(1.0, time_unit))
        if not tau > 0:
            raise ValueError(f"The 'tau' parameter of regimen must be > 0. Got {tau!r}.")
        if duration * f > tau * f:
            raise ValueError(f"The 'duration' parameter of regimen ({duration}) is longer than tau ({tau}).")
        times = tuple(float(start * f + i * tau * f) for i in range(int(n)))
        return cls(dose=(float(dose),) * int(n), time=times, duration=(float(duration) * f,) * int(n), tau=tau * f)

    def scaled(self, factor: float) -> Regimen:
        """The same regimen with every dose multiplied by ``factor``."""
        return self.replace(dose=tuple(d * factor for d in self.dose))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dose_time, amount, duration), each (1, D)."""
        return (np.asarray(self.time, dtype=float)[None], np.asarray(self.dose, dtype=float)[None],
                np.asarray(self.duration, dtype=float)[None])
