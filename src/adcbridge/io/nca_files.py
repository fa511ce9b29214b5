"""Reading NCA inputs: concentration tables (CSV or Excel) and the optional ``nca.yaml`` configuration.

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

from .yaml_files import load_yaml_model

__all__ = ["read_concentrations", "NcaConfig", "load_nca_config"]


def read_concentrations(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """A long concentration table from CSV (``.csv``, ``.csv.gz``, ``.txt``) or Excel (``.xlsx``/``.xls``)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a file")
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, sheet_name=sheet or 0)
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable table ({str(exc).splitlines()[0]})") from None


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
