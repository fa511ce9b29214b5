"""Units of pharmacokinetic parameters for allometric scaling.

A unit is read as ``<volume>[/<time>][/kg]`` (clearances, volumes) or ``1/<time>`` (rate constants) or
``<time>`` (times).  Volumes: ``uL``, ``mL``, ``dL``, ``L``; times: ``min``, ``h`` (``hr``), ``day`` (``d``),
``week`` (``wk``).  ``mL/day/kg`` and ``mL/kg/day`` are the same unit.  Parsing returns the factor to litres
(volumes), the time unit, and whether the value is per kg of body weight.

>>> parse_unit("mL/day/kg")
ParsedUnit(volume_l=0.001, time='day', per_kg=True, kind='clearance')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ParsedUnit", "parse_unit", "VOLUME_TO_L", "TIME_UNITS", "json_records"]

VOLUME_TO_L = {"ul": 1e-6, "µl": 1e-6, "ml": 1e-3, "dl": 0.1, "l": 1.0}
TIME_UNITS = {"min": "min", "mins": "min", "minute": "min", "h": "h", "hr": "h", "hour": "h", "hours": "h",
              "d": "day", "day": "day", "days": "day", "wk": "week", "week": "week", "weeks": "week"}


@dataclass(frozen=True)
class ParsedUnit:
    """A parsed unit: litres per volume unit (None for rates and times), time unit, per-kg flag and the kind of
    quantity the unit can carry (``clearance``, ``volume``, ``rate_constant`` or ``time``)."""

    volume_l: float | None
    time: str | None
    per_kg: bool
    kind: str


def parse_unit(unit: str) -> ParsedUnit:
    """Parse ``unit`` (see the module docstring); raises ValueError naming the unit when it is not understood."""
    text = str(unit).strip().replace(" ", "").replace("·", "/").lower()
    parts = [p for p in text.split("/")]
    if not text or any(p == "" and i > 0 for i, p in enumerate(parts)):
        raise ValueError(f"Unit {unit!r} is not understood (expected e.g. 'mL/day/kg', 'L', '1/day', 'day').")
    per_kg = "kg" in parts[1:]
    rest = [p for i, p in enumerate(parts) if not (i > 0 and p == "kg")]
    head, tail = rest[0], rest[1:]
    if head in ("1", "") and len(tail) == 1 and tail[0] in TIME_UNITS and not per_kg:
        return ParsedUnit(None, TIME_UNITS[tail[0]], False, "rate_constant")
    if head in TIME_UNITS and not tail and not per_kg:
        return ParsedUnit(None, TIME_UNITS[head], False, "time")
    if head in VOLUME_TO_L and not tail:
        return ParsedUnit(VOLUME_TO_L[head], None, per_kg, "volume")
    if head in VOLUME_TO_L and len(tail) == 1 and tail[0] in TIME_UNITS:
        return ParsedUnit(VOLUME_TO_L[head], TIME_UNITS[tail[0]], per_kg, "clearance")
    raise ValueError(f"Unit {unit!r} is not understood (expected e.g. 'mL/day/kg', 'L', '1/day', 'day').")


def json_records(df) -> list[dict]:
    """Rows of a table as JSON-ready dictionaries (missing or infinite numbers become None, numpy scalars Python
    ones): :func:`adcbridge.results.table_records`."""
    from adcbridge.results import table_records
    return table_records(df)
