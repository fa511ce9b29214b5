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
from .yaml_files import load_yaml_model

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


def load_nca_config(path: str | Path) -> NcaConfig:
    """Read and validate ``nca.yaml`` (an empty file means every default)."""
    return load_yaml_model(path, NcaConfig, empty_ok=True)
