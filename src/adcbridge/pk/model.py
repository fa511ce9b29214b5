"""What a PK model declares, and nothing more (lifelines style).

A model is a :class:`PKModel` subclass that declares

* ``parameters`` -- a tuple of :class:`Parameter` (name, kind, bounds, start value, description); the *kind*
  gives the unit (``clearance`` mL/h/kg, ``volume`` mL/kg, ``rate`` 1/h, ``amount_rate`` ug/h/kg, ``conc``
  ug/mL, ``fraction`` -);
* ``outputs`` -- the analytes it predicts (``("C",)`` for the plain models; ``("ADC", "TAb", "PAYLOAD")``);
* its equations, either as a **closed form** ``exponentials(p, output) -> (B, lam)`` (unit-bolus response
  ``sum B exp(-lam s)``, see :mod:`adcbridge.pk.exponentials`), or as an **ODE** ``rhs(x, p, rate_in)`` over
  ``n_states`` amounts (ug/kg) with ``observe(x, p, output)``.  A linear model may declare both (the ODE is then
  the cross-check).

Everything else -- simulation, exposure, fitting, standard errors -- is shared code.  Parameter values are
passed as a dict ``name -> array (N,)`` (N parameter sets); ``rate_time="day"`` makes clearances, rate constants
and amount rates per day (divided by 24 before the equations see them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .units import rate_factor

__all__ = ["Parameter", "PKModel", "KIND_UNITS"]

KIND_UNITS = {"clearance": "mL/{t}/kg", "volume": "mL/kg", "rate": "1/{t}", "amount_rate": "ug/{t}/kg",
              "conc": "ug/mL", "fraction": "1"}
_PER_TIME = {"clearance", "rate", "amount_rate"}


@dataclass(frozen=True)
class Parameter:
    """A model parameter: ``name``, ``kind`` (sets the unit), ``lower``/``upper`` bounds (> 0: parameters are
    estimated on the log scale), ``start`` (per hour) and a one-line ``description``."""

    name: str
    kind: str
    lower: float
    upper: float
    start: float
    description: str = ""


class PKModel:
    """Base of every PK model (see the module docstring)."""

    name: ClassVar[str] = "model"
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    outputs: ClassVar[tuple[str, ...]] = ("C",)
    output_units: ClassVar[dict[str, str]] = {}
    closed_form: ClassVar[bool] = False
    n_states: ClassVar[int] = 0
    dose_state: ClassVar[int] = 0

    def __init__(self, rate_time: str = "h", per_kg: bool = True):
        self.factor = rate_factor(rate_time)
        self.rate_time = rate_time
        self.per_kg = per_kg

    # ------------------------------------------------------------------------------------------- declared
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ValueError(f"model {self.name} has no parameter {name!r} (parameters: {list(self.names)})")

    def unit(self, name: str) -> str:
        """The unit of a parameter in this model's convention (rate time, per kg or absolute)."""
        unit = KIND_UNITS[self.parameter(name).kind].format(t=self.rate_time)
        return unit if self.per_kg else unit.replace("/kg", "")

    def output_unit(self, output: str) -> str:
        return self.output_units.get(output, "ug/mL")

    def start(self) -> dict[str, float]:
        """Default start values in this model's units."""
        return {p.name: p.start * (self.factor if p.kind in _PER_TIME else 1.0) for p in self.parameters}

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {p.name: (p.lower * (self.factor if p.kind in _PER_TIME else 1.0),
                         p.upper * (self.factor if p.kind in _PER_TIME else 1.0)) for p in self.parameters}

    def check_output(self, output: str | None) -> str:
        output = self.outputs[0] if output is None else output
        if output not in self.outputs:
            raise ValueError(f"model {self.name} predicts {list(self.outputs)}, not {output!r}")
        return output

    def hourly(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Parameter arrays converted to per-hour values (the equations' units)."""
        out = {}
        for p in self.parameters:
            if p.name not in params:
                raise ValueError(f"model {self.name}: parameter {p.name!r} is missing (needs {list(self.names)})")
            v = np.asarray(params[p.name], dtype=float)
            out[p.name] = v / self.factor if p.kind in _PER_TIME else v
        return out

    # ------------------------------------------------------------------------------------------ equations
    def exponentials(self, p: dict[str, np.ndarray], output: str) -> tuple[np.ndarray, np.ndarray]:
        """Unit-bolus response ``sum B exp(-lam s)`` of ``output``: (B, lam), each (N, M).  ``p`` per hour."""
        raise NotImplementedError(f"model {self.name} has no closed form")

    def rhs(self, x: np.ndarray, p: dict[str, np.ndarray], rate_in: np.ndarray) -> np.ndarray:
        """d(amounts)/dt, ``x`` (n_states, N) in ug/kg, ``rate_in`` (N,) ug/h/kg into ``dose_state``."""
        raise NotImplementedError(f"model {self.name} has no ODE form")

    def observe(self, x: np.ndarray, p: dict[str, np.ndarray], output: str) -> np.ndarray:
        """Concentration of ``output`` from the states ``x`` (n_states, ...)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rate_time={self.rate_time!r}, per_kg={self.per_kg})"
