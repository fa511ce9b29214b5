"""Reading NCA inputs: concentration tables (CSV, TSV, Excel or Parquet; see :mod:`.tables`) and the optional
``nca.yaml`` configuration.

``nca.yaml`` (every key optional; command-line options override it)::

    columns: {subject: ID, time: TIME, conc: CONC, dose: DOSE, analyte: ANALYTE, groups: [SEX, DOSE],
              blq: BLQ, lloq: LLOQ, route: ROUTE, duration: TINF}
    route: iv-infusion          # when there is no route column
    duration: 0.5               # infusion duration when there is no duration column
    options:
      auc_method: lin-up-log-down
      blq: {before: keep, middle: drop, after: keep}
      partial_aucs: [[0, 168], [0, 504]]
      metabolites: [PAYLOAD]
      units: {time: h, conc: ug/mL, dose: mg/kg}
    lambda_z:                   # manual lambda_z points, each with a reason
      - {ID: SD001, ANALYTE: ADC, time: 24, action: exclude, reason: "sample haemolysed"}

Each lambda_z entry names the profile by every key column (grouping columns, subject, analyte) and the sample
``time``; for a multiple-dose analysis also ``DOSENO``, with ``time`` counted from that dose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .tables import read_table
from .yaml_files import load_yaml_model, misread_value, unknown_key

__all__ = ["read_concentrations", "NcaConfig", "load_nca_config"]


def read_concentrations(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """A long concentration table: :func:`adcbridge.io.tables.read_table` (CSV, TSV, Excel or Parquet; any of
    the encodings and regional formats it detects), kept under this name for the commands that call it."""
    return read_table(path, sheet=sheet)


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str | None = None
    time: str | None = None
    conc: str | None = None
    dose: str | None = None
    analyte: str | None = None
    groups: list[str] = Field(default_factory=list)
    blq: str | None = None
    lloq: str | None = None
    route: str | None = None
    duration: str | None = None


class NcaConfig(BaseModel):
    """The contents of ``nca.yaml`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    columns: Columns = Field(default_factory=Columns)
    route: str | None = None
    duration: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    lambda_z: list[dict[str, Any]] = Field(default_factory=list)


def _unknown_option(value, model, loc: tuple) -> tuple[tuple, str] | None:
    """The first key of the mapping ``value`` that ``model`` (an options model: :class:`NcaOptions`, its ``blq``
    rules, its ``units``) has no field for, looked into its sub-models, or None."""
    if not isinstance(value, dict):
        return None                                   # the model words it
    fields = model.model_fields
    for key, item in value.items():
        if key not in fields:
            return loc + (key,), unknown_key(key, fields)
        sub = fields[key].annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            found = _unknown_option(item, sub, loc + (key,))
            if found:
                return found
    return None


def _check_raw(raw: dict) -> tuple[tuple, str] | None:
    """What :class:`NcaConfig` cannot type: ``options`` by the NCA's own options (:class:`NcaOptions`: unknown
    keys, with the nearest name; numbers and booleans written as text), and each ``lambda_z`` entry's ``time`` (a
    number: ``time: 12:30`` is text in YAML 1.2, not 750 minutes)."""
    from adcbridge.nca.engine import NcaOptions
    options = raw.get("options")
    found = _unknown_option(options, NcaOptions, ("options",)) or misread_value(options, NcaOptions, ("options",))
    if found:
        return found
    entries = raw.get("lambda_z")
    for k, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or "time" not in entry:
            continue                                  # the model, or the NCA, words these
        time = entry["time"]
        found = misread_value(entry, {"time": float}, ("lambda_z", k))
        if found:
            return found
        if isinstance(time, bool) or not isinstance(time, (int, float)):
            return ("lambda_z", k, "time"), (f"must be a number (the sample's time, in the table's time unit), "
                                             f"got {time!r}")
    return None


def load_nca_config(path: str | Path) -> NcaConfig:
    """Read and validate ``nca.yaml`` (an empty file means every default); ``options`` are checked by the NCA's
    options (:class:`adcbridge.nca.engine.NcaOptions`) as the file is read."""
    return load_yaml_model(path, NcaConfig, empty_ok=True, check=_check_raw)
