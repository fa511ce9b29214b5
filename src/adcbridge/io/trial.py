"""Trial specifications (YAML) and trial data tables (CSV) for dose finding."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from adcbridge.dosefinding import BoinDesign, CrmDesign, DoseCounts, ThreePlusThreeDesign
from adcbridge.dosefinding.outcomes import counts_from_table

from .yaml_files import load_yaml_model

__all__ = ["TrialSpec", "Scenario", "load_trial_spec", "read_dose_counts"]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    p_true: list[float]


class TrialSpec(BaseModel):
    """A dose-finding trial as written in a YAML file: the design and the scenarios to simulate."""

    model_config = ConfigDict(extra="forbid")
    name: str
    design: Literal["boin", "3+3", "crm"] = "boin"
    target: float
    dose_levels: list[float]
    dose_unit: str = "mg/kg"
    cohort_size: int = 3
    n_cohorts: int = 10
    options: dict[Literal["boin", "3+3", "crm"], dict[str, object]] = Field(default_factory=dict)
    scenarios: list[Scenario] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self):
        fixed = {"target", "n_doses", "dose_levels", "dose_unit", "cohort_size", "n_cohorts"}
        for kind, opts in self.options.items():
            clash = sorted(fixed & set(opts))
            if clash:
                raise ValueError(f"options.{kind} repeats {clash}: set them once at the top level")
        for s in self.scenarios:
            if len(s.p_true) != len(self.dose_levels):
                raise ValueError(f"scenario {s.name!r} has {len(s.p_true)} probabilities for "
                                 f"{len(self.dose_levels)} dose levels")
        return self

    def build_design(self, design: str | None = None):
        """The design spec (``design`` overrides the file's design, e.g. to compare BOIN with 3+3)."""
        kind = design or self.design
        levels = tuple(self.dose_levels)
        if kind == "boin":
            return BoinDesign(target=self.target, n_doses=len(levels), dose_levels=levels, dose_unit=self.dose_unit,
                              cohort_size=self.cohort_size, n_cohorts=self.n_cohorts, **self.options.get("boin", {}))
        if kind == "3+3":
            return ThreePlusThreeDesign(n_doses=len(levels), dose_levels=levels, dose_unit=self.dose_unit,
                                        **self.options.get("3+3", {}))
        crm_options = dict(self.options.get("crm", {}))
        return CrmDesign(target=self.target, n_doses=len(levels), dose_levels=levels, dose_unit=self.dose_unit,
                         cohort_size=self.cohort_size, n_cohorts=self.n_cohorts, **crm_options)


def load_trial_spec(path: str | Path) -> TrialSpec:
    """Read and validate a trial YAML file; errors name the file and the field."""
    path = Path(path)
    spec = load_yaml_model(path, TrialSpec)
    for kind in ("boin", "3+3", "crm"):           # every design the file describes must be valid
        try:
            spec.build_design(kind)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: the {kind} design: {str(exc).splitlines()[0]}") from None
    return spec


def read_dose_counts(path: str | Path, n_doses: int) -> DoseCounts:
    """Per-dose counts from a CSV with columns ``dose``, ``n``, ``dlt`` (one or more rows per dose)."""
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from None
    missing = [c for c in ("dose", "n", "dlt") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")
    for col in ("dose", "n", "dlt"):
        bad = pd.to_numeric(df[col], errors="coerce").isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValueError(f"{path}: row {row + 2}, column '{col}': not a number ({df[col].iloc[row]!r})")
    try:
        return counts_from_table(df["dose"].to_numpy(), df["n"].to_numpy(), df["dlt"].to_numpy(), n_doses)
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("row "):
            k = int(msg.split()[1].rstrip(":"))
            msg = f"row {k + 1}" + msg[msg.index(":"):]   # data row k is line k + 1 of the file
        raise ValueError(f"{path}: {msg}") from None
