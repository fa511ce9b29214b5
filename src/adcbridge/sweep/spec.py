"""The sweep file: designs x scenarios x sample sizes, the number of trials per cell and the seed.

.. code-block:: yaml

    designs:                     # registered designs, each a spec with its name (and an optional label)
      - name: boin
        target: 0.3
        n_doses: 5
      - name: crm
        label: crm-logistic
        target: 0.3
        n_doses: 5
        model: logistic
    scenarios:                   # the truths: p_true, and what a design's simulator needs besides
      - name: S1
        p_true: [0.05, 0.10, 0.20, 0.30, 0.50]
      - name: S2
        p_true: [0.30, 0.40, 0.50, 0.60, 0.70]
    sample_sizes: [10, 15]       # optional: numbers of cohorts (each design's n_cohorts)
    trials: 100000               # per cell
    seed: 2026

Every key is checked (an unknown key, a repeated key, an empty list entry or a label given twice is refused,
naming the line).  A scenario may carry the truths and conduct settings that designs with their own simulator
take (``q_true`` for BOIN12 and backfill, ``accrual_rate`` for TITE-BOIN, ...); each design receives the ones it
takes, and a key that no design of the sweep takes is refused.  ``target`` in a scenario sets the target of the
operating characteristics for designs without one (3+3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator, model_validator

__all__ = ["SweepFile", "SweepScenario", "load_sweep", "MAX_TRIALS_PER_CELL"]

MAX_TRIALS_PER_CELL = 100_000_000


class SweepScenario(BaseModel):
    """One scenario: its name, the true DLT probabilities and any other truths (extra keys)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: str = Field(min_length=1)
    p_true: list[StrictFloat | StrictInt] | list[list[StrictFloat | StrictInt]]
    target: StrictFloat | None = None

    @property
    def truths(self) -> dict[str, Any]:
        """The scenario's other keys (``q_true``, ``accrual_rate``, ...)."""
        return dict(self.model_extra or {})


class SweepFile(BaseModel):
    """A sweep file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    designs: list[dict[str, Any]] = Field(min_length=1)
    scenarios: list[SweepScenario] = Field(min_length=1)
    sample_sizes: list[StrictInt] | None = None
    trials: StrictInt = Field(ge=1, le=MAX_TRIALS_PER_CELL)
    seed: StrictInt = Field(ge=0, lt=2 ** 63)

    @field_validator("designs", mode="before")
    @classmethod
    def _designs(cls, value):
        if not isinstance(value, list):
            raise ValueError("must be a list of designs, each a mapping with its 'name' and options")
        for i, d in enumerate(value):
            if not isinstance(d, dict):
                raise ValueError(f"entry {i + 1} is {d!r}: each design is a mapping with its 'name' and options")
            if "name" not in d:
                raise ValueError(f"entry {i + 1} has no 'name' (a registered design: boin, crm, ...)")
        return value

    @field_validator("sample_sizes")
    @classmethod
    def _sizes(cls, value):
        if value is None:
            return value
        if not value:
            raise ValueError("is empty: list numbers of cohorts, or leave it out")
        if any(v < 1 for v in value) or len(set(value)) != len(value):
            raise ValueError(f"must be distinct numbers of cohorts >= 1, got {value}")
        return value

    @model_validator(mode="after")
    def _unique(self):
        names = [s.name for s in self.scenarios]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"scenario name {twice[0]!r} is given twice")
        labels = [design_label(d) for d in self.designs]
        twice = sorted({n for n in labels if labels.count(n) > 1})
        if twice:
            raise ValueError(f"design {twice[0]!r} is given twice: give each a distinct 'label'")
        return self


def design_label(entry: dict) -> str:
    """The label of a design entry: its ``label``, else its ``name``."""
    return str(entry.get("label", entry["name"]))


def load_sweep(path: str | Path) -> SweepFile:
    """Read and check a sweep file; every error is one line naming the file, the key and the line."""
    from adcbridge.io.yaml_files import load_yaml_model
    return load_yaml_model(path, SweepFile)
