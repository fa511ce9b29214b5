"""Trial specifications (YAML) and trial data tables (dose, n, dlt) for dose finding."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adcbridge import validation
from adcbridge.dosefinding import DoseCounts
from adcbridge.dosefinding.outcomes import counts_from_table
from adcbridge.dosefinding.registry import design_class, design_names

from .tables import read_table
from .yaml_files import load_yaml_model, located_error, misread_value, read_yaml, spec_problem, unknown_key

__all__ = ["TrialSpec", "Scenario", "load_trial_spec", "read_dose_counts"]


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    p_true: list[float]


class TrialSpec(BaseModel):
    """A dose-finding trial as written in a YAML file: the design and the scenarios to simulate.

    ``design`` and the keys of ``options`` are registered design names (:mod:`adcbridge.dosefinding.registry`);
    the top-level ``target``, ``dose_levels``, ``dose_unit``, ``cohort_size`` and ``n_cohorts`` go to every
    design that has such a parameter (3+3 has no target and fixed cohorts of 3)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    design: str = "boin"
    target: float
    dose_levels: list[float]
    dose_unit: str = "mg/kg"
    cohort_size: int = 3
    n_cohorts: int = 10
    options: dict[str, dict[str, object]] = Field(default_factory=dict)
    scenarios: list[Scenario] = Field(default_factory=list)

    @field_validator("design")
    @classmethod
    def _registered(cls, v: str) -> str:
        if v not in design_names():
            raise ValueError(f"unknown design {v!r}; the registered designs are {', '.join(design_names())}")
        return v

    @field_validator("options")
    @classmethod
    def _registered_options(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(design_names()))
        if unknown:
            raise ValueError(f"options for unknown design(s) {unknown}; the registered designs are "
                             f"{', '.join(design_names())}")
        return v

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
        cls = design_class(kind)
        shared = {"target": self.target, "n_doses": len(self.dose_levels), "dose_levels": tuple(self.dose_levels),
                  "dose_unit": self.dose_unit, "cohort_size": self.cohort_size, "n_cohorts": self.n_cohorts}
        given = {k: v for k, v in shared.items() if k in cls.model_fields
                 and (k != "n_cohorts" or "n_cohorts" in self.model_fields_set or cls.spec_name != "comb-boin")}
        return cls(**given, **self.options.get(kind, {}))


_SHARED = ("target", "n_doses", "dose_levels", "dose_unit", "cohort_size", "n_cohorts")


def _check_raw(raw: dict) -> tuple[tuple, str] | None:
    """What :class:`TrialSpec` cannot type: empty lists, and each design's ``options`` (unknown keys, with the
    nearest name; numbers and booleans written as text), checked against the design's own spec."""
    if raw.get("dose_levels") == []:
        return ("dose_levels",), "is empty: list the dose levels, e.g. [1.0, 2.1, 4.2]"
    if raw.get("scenarios") == []:
        return ("scenarios",), ("is empty: list at least one scenario ({name: ..., p_true: [...]}), or leave the "
                                "key out for the design alone")
    found = _check_scenarios(raw)
    if found:
        return found
    options = raw.get("options")
    if not isinstance(options, dict):
        return None
    for kind, opts in options.items():
        if kind not in design_names() or not isinstance(opts, dict):
            continue                                   # the model words these
        cls = design_class(kind)
        for key in opts:
            if key not in cls.model_fields and key not in _SHARED:
                return ("options", kind, key), unknown_key(key, [k for k in cls.model_fields if k not in _SHARED])
        found = misread_value(opts, cls, ("options", kind))
        if found:
            return found
    return None


def _is_probability(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1


def _check_scenarios(raw: dict) -> tuple[tuple, str] | None:
    """Every scenario's ``p_true``: probabilities in [0, 1], one per dose level (checked when the file is read,
    not when the scenario is simulated)."""
    scenarios = raw.get("scenarios")
    if not isinstance(scenarios, list):
        return None                                    # the model words it
    levels = raw.get("dose_levels")
    n_levels = len(levels) if isinstance(levels, list) else None
    for i, entry in enumerate(scenarios):
        p_true = entry.get("p_true") if isinstance(entry, dict) else None
        if not isinstance(p_true, list):
            continue                                   # missing, or not a list: the model words it
        loc = ("scenarios", i, "p_true")
        if not p_true:
            return loc, "is empty: give one true DLT probability per dose level"
        for j, v in enumerate(p_true):
            if not _is_probability(v):
                return loc + (j,), f"must be a number in [0, 1], got {v!r}"
        if n_levels is not None and len(p_true) != n_levels:
            many = "probability" if len(p_true) == 1 else "probabilities"
            return loc, (f"has {len(p_true)} {many} for {n_levels} dose levels: give one true DLT probability per "
                         f"dose level")
    return None


#: the top-level key of the trial file that gives each design parameter shared by the designs
_SHARED_KEY = {"target": "target", "n_doses": "dose_levels", "dose_levels": "dose_levels", "dose_unit": "dose_unit",
               "cohort_size": "cohort_size", "n_cohorts": "n_cohorts"}


def _design_problem(message: str, kind: str, raw: dict) -> tuple[tuple, str]:
    """A design's error (built from the trial file) as ``(key path in the file, message)``: at the option of
    ``options.<design>`` or the top-level key (``target``, ``dose_levels``, ...) it comes from, else at the
    design's options, else nowhere (``()``)."""
    options = raw.get("options")
    opts = options.get(kind) if isinstance(options, dict) else None
    opts = opts if isinstance(opts, dict) else {}
    given = {**{p: raw[k] for p, k in _SHARED_KEY.items() if k in raw and p != "n_doses"}, **opts}
    loc, msg = spec_problem(message, design_class(kind).model_fields, given)
    if loc and loc[0] in opts:
        return ("options", kind, *loc), msg
    if loc and loc[0] in _SHARED_KEY and _SHARED_KEY[loc[0]] in raw:
        return (_SHARED_KEY[loc[0]], *loc[1:]), f"{msg} (the {kind} design)"
    if isinstance(options, dict) and kind in options:
        return ("options", kind), message
    return (), f"the {kind} design: {message}"


def load_trial_spec(path: str | Path) -> TrialSpec:
    """Read and validate a trial YAML file; errors name the file, the key and its line.

    Every scenario's ``p_true`` is checked here (probabilities in [0, 1], one per dose level), and so is every
    design the file describes -- its design, those it gives options for and the designs the trial is compared
    with (BOIN, 3+3, CRM) -- before anything is simulated."""
    path = Path(path)
    spec = load_yaml_model(path, TrialSpec, check=_check_raw)
    text = raw = None
    for kind in dict.fromkeys([spec.design, *spec.options, "boin", "3+3", "crm"]):
        try:
            spec.build_design(kind)
        except (ValueError, TypeError) as exc:
            if raw is None:
                text, raw = read_yaml(path)
            loc, msg = _design_problem(str(exc).splitlines()[0], kind, raw if isinstance(raw, dict) else {})
            raise located_error(path, text, loc, msg) from None
    return spec


def read_dose_counts(path: str | Path, n_doses: int) -> DoseCounts:
    """Per-dose counts from a table (CSV, TSV, Excel, Parquet: :func:`~adcbridge.io.read_table`) with columns
    ``dose`` (the dose level, 1..``n_doses``), ``n`` (patients treated) and ``dlt`` (patients with a DLT, at most
    ``n``); a dose may appear on several rows (they are added).

    Every cell must be a whole number (no empty cell, no ``inf``); a bad cell is named in the one message shape of
    :mod:`adcbridge.validation`::

        data.csv: column 'dlt', line 3 (dose 2): expected a whole number >= 0 and <= 3 (the 'n' on the same
        line), got '5'

    (one line in the error).  The counts are added per dose by
    :func:`~adcbridge.dosefinding.outcomes.counts_from_table`.
    """
    df = read_table(path)
    validation.require_columns(df, ["dose", "n", "dlt"])
    dose = _whole_numbers(df, "dose", 1, n_doses, " (a dose level)")
    n = _whole_numbers(df, "n", 0, None, "", key="dose")
    dlt = _whole_numbers(df, "dlt", 0, None, "", key="dose")
    over = np.flatnonzero(dlt > n)
    if over.size:
        pos = int(over[0])
        raise validation.cell_error(df, "dlt", pos, f"a whole number >= 0 and <= {n[pos]:g} (the 'n' on the same "
                                                    f"{validation.row_place(df, pos).split()[0]})", key="dose")
    return counts_from_table(dose.astype(int), n.astype(int), dlt.astype(int), n_doses)


def _whole_numbers(df: pd.DataFrame, column: str, low: int, high: int | None, note: str,
                   key: str | None = None) -> np.ndarray:
    """The column as whole numbers in [low, high], checked cell by cell (a TableError for the first bad one)."""
    values = validation.numeric_column(df, column, key=key)          # numbers, none missing, none infinite
    bad = (values != np.floor(values)) | (values < low)
    if high is not None:
        bad |= values > high
    bounds = f">= {low}" + (f" and <= {high}" if high is not None else "")
    validation.fail_first(df, column, bad, f"a whole number {bounds}{note}", key=key)
    return values
