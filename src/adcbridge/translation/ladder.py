"""Dose-escalation ladders for a first-in-human trial, convertible to a BOIN design.

Schemes (increments are fractions of the previous dose: dose[i+1] = dose[i] * (1 + increment)):

``doubling``
    100 % increments until a *signal*, then the ``after_switch`` increments (default 50 %, 33 %, the last one
    repeated).  The signal is either a given dose level (``switch_at_level``: the first smaller step is taken
    *from* that level) or the first level whose predicted human exposure (``exposure_metric``, AUC by default)
    reaches ``switch_at_exposure_fraction`` of the animal exposure at the HNSTD.
``modified_fibonacci``
    Increments 100, 67, 50, 40, 33 % and then 33 % for every further step (multipliers 2.0, 1.67, 1.5, 1.4,
    1.33, 1.33, ...), the conventional "modified Fibonacci" sequence of phase I oncology.
``list``
    The user's doses (strictly increasing, else an error).

The ladder runs for ``n_levels`` levels and/or until the next dose would exceed ``max_dose``.  Doses are rounded
to ``sig_figs`` significant figures (default 2) or to a multiple of ``step`` mg/kg: the **start dose is rounded
down** so that it never exceeds the computed safe start dose; every further level is the planned multiplier
applied to the previous *rounded* level, rounded to the nearest value unless that would make the step more than
5 percentage points larger than planned (``ROUNDING_EXCESS``) or more than a doubling, in which case it is rounded
down -- so 9.6 -> 13 mg/kg (35 %) is a 33 % step, but 3.2 -> 6.5 (103 %) is not a doubling and becomes 6.4.
If rounding makes two levels equal, that is an error (use more figures or a finer step); if it cuts a step to
less than half of the planned increment (``SHRUNK_STEP``; e.g. 0.08 -> 0.1 mg/kg, +25 %, for a doubling with one
significant figure) an issue names those levels.  The table's ``unrounded_dose`` is the planned dose of each
level *before rounding* -- the computed start dose, then the previous reported (rounded) level times the planned
multiplier -- and ``planned_increment_pct`` the planned step, so ``dose`` vs ``unrounded_dose`` shows what
rounding did to each level.  The exposure-based switch is evaluated on the geometric chain from the unrounded
start dose (start x multipliers).

With human exposures (a table or predictor, see :mod:`adcbridge.translation.margins`) every level carries its
predicted ``cmax``/``auc`` and, with animal exposure at the HNSTD, the margins.  :meth:`DoseLadder.to_boin`
returns the :class:`~adcbridge.dosefinding.BoinDesign` with the ladder's doses as labelled dose levels.

>>> lad = dose_ladder(1.62, "doubling", n_levels=6, switch_at_level=3)
>>> lad.doses
(1.6, 3.2, 6.4, 9.6, 13.0, 17.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from adcbridge.dosefinding import BoinDesign, boin
from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .margins import ExposureSource, margin_columns, resolve_exposure
from .units import json_records

__all__ = ["LadderSpec", "DoseLadder", "dose_ladder", "MODIFIED_FIBONACCI", "round_dose"]

MODIFIED_FIBONACCI = (1.0, 0.67, 0.5, 0.4, 0.33)
ROUNDING_EXCESS = 0.05          # a rounded escalation step may exceed the planned increment by this much (not 100 %)
SHRUNK_STEP = 0.5               # a realised step below this fraction of the planned increment raises an issue


class LadderSpec(Spec):
    """Options of :func:`dose_ladder` (see the module docstring)."""

    spec_name: ClassVar[str] = "dose_ladder"

    start_dose: float = Field(gt=0)
    scheme: Literal["doubling", "modified_fibonacci", "list"] = "doubling"
    n_levels: int | None = Field(None, ge=1, le=50)
    max_dose: float | None = Field(None, gt=0)
    doses: tuple[float, ...] | None = None
    switch_at_level: int | None = Field(None, ge=1)
    switch_at_exposure_fraction: float | None = Field(None, gt=0)
    exposure_metric: Literal["auc", "cmax"] = "auc"
    after_switch: tuple[float, ...] = (0.5, 0.33)
    sig_figs: int | None = Field(2, ge=1, le=6)
    step: float | None = Field(None, gt=0)
    dose_unit: str = "mg/kg"
    animal_cmax: float | None = Field(None, gt=0)
    animal_auc: float | None = Field(None, gt=0)

    @field_validator("after_switch")
    @classmethod
    def _positive_steps(cls, v):
        if not v or any(not (0 < x <= 1) for x in v):
            raise ValueError("must hold increments in (0, 1] (e.g. 0.5 for +50 %)")
        return v

    @model_validator(mode="after")
    def _relations(self):
        if self.scheme == "list":
            if not self.doses:
                raise ValueError("The 'doses' parameter of dose_ladder is required with scheme 'list'.")
            d = self.doses
            if any(not (x > 0) for x in d) or any(b <= a for a, b in zip(d, d[1:])):
                raise ValueError(f"The 'doses' parameter of dose_ladder must be positive and strictly increasing. "
                                 f"Got {list(d)}.")
        elif self.n_levels is None and self.max_dose is None:
            raise ValueError("Give 'n_levels' and/or 'max_dose' to dose_ladder.")
        if self.switch_at_level is not None and self.switch_at_exposure_fraction is not None:
            raise ValueError("Give 'switch_at_level' or 'switch_at_exposure_fraction' to dose_ladder, not both.")
        if self.max_dose is not None and self.max_dose < self.start_dose:
            raise ValueError(f"The 'max_dose' parameter of dose_ladder must be >= start_dose = {self.start_dose:g}. "
                             f"Got {self.max_dose:g}.")
        return self


def round_dose(x: float, sig_figs: int | None = 2, step: float | None = None, down: bool = False) -> float:
    """Round a dose to ``step`` (a multiple of it) or to ``sig_figs`` significant figures (nearest, or down)."""
    if step is not None:
        q = x / step
        q = math.floor(q + 1e-9) if down else math.floor(q + 0.5 + 1e-9)
        return round(q * step, 10)
    if sig_figs is None:
        return float(x)
    e = math.floor(math.log10(abs(x))) - sig_figs + 1
    q = x / 10.0 ** e
    q = math.floor(q + 1e-9) if down else math.floor(q + 0.5 + 1e-9)
    return float(round(q * 10.0 ** e, max(0, -e) + 2))


@dataclass(frozen=True, eq=False)
class DoseLadder(Result):
    """A dose ladder.  ``table``: ``level`` (1-based), ``dose``, ``unrounded_dose`` (the planned dose before
    rounding: the start dose, then the previous rounded level x the planned multiplier), ``increment_pct`` (from
    the previous level), ``planned_increment_pct``, ``phase`` (``doubling``, ``reduced``, ``modified_fibonacci``
    or ``user``), and when exposures were given ``cmax``, ``auc``, ``cmax_margin``, ``auc_margin``,
    ``auc_fraction``.  ``switch_level`` is the level from which smaller steps were taken (doubling only)."""

    dose_unit: str = "mg/kg"
    switch_level: int | None = None

    @property
    def doses(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.table["dose"])

    def to_boin(self, target: float = 0.3, cohort_size: int = 3, cohorts: int = 10, **options) -> BoinDesign:
        """The BOIN design whose dose levels are this ladder's doses (labelled in ``dose_unit``)."""
        return boin(target, list(self.doses), cohort_size=cohort_size, cohorts=cohorts, dose_unit=self.dose_unit,
                    **options)

    def record_body(self) -> dict[str, Any]:
        return {"doses": list(self.doses), "dose_unit": self.dose_unit, "switch_level": self.switch_level,
                "levels": json_records(self.table)}


def dose_ladder(start_dose: float | None, scheme: str = "doubling", *, n_levels: int | None = None,
                max_dose: float | None = None, doses=None, switch_at_level: int | None = None,
                switch_at_exposure_fraction: float | None = None, exposure_metric: str = "auc",
                after_switch=(0.5, 0.33), sig_figs: int | None = 2, step: float | None = None,
                exposure: ExposureSource | None = None, animal_cmax: float | None = None,
                animal_auc: float | None = None, dose_unit: str = "mg/kg") -> DoseLadder:
    """Build a dose ladder (rules: module docstring).  ``exposure`` gives predicted human exposures (table with
    ``dose``, ``cmax``, ``auc`` or a function of dose, e.g. :func:`~adcbridge.translation.margins.
    proportional_exposure` or a pk-simulation wrapper); ``animal_cmax``/``animal_auc`` are the animal exposures
    at the HNSTD for the margins and the exposure-based switch.  With ``scheme='list'`` the ladder starts at
    the list's first dose (``start_dose`` may be None)."""
    notes: list[Issue] = []
    if scheme == "list" and doses is not None and len(doses):
        if start_dose is not None and not math.isclose(float(start_dose), float(doses[0])):
            notes.append(Issue("start_dose_ignored", f"scheme 'list' starts at its first dose {float(doses[0]):g}, "
                                                     f"not at start_dose {float(start_dose):g}.", "info"))
        start_dose = float(doses[0])
    spec = LadderSpec(start_dose=start_dose, scheme=scheme, n_levels=n_levels, max_dose=max_dose,
                      doses=None if doses is None else tuple(float(d) for d in doses), switch_at_level=switch_at_level,
                      switch_at_exposure_fraction=switch_at_exposure_fraction, exposure_metric=exposure_metric,
                      after_switch=tuple(after_switch), sig_figs=sig_figs, step=step, dose_unit=dose_unit,
                      animal_cmax=animal_cmax, animal_auc=animal_auc)
    if spec.switch_at_exposure_fraction is not None:
        ref = spec.animal_auc if spec.exposure_metric == "auc" else spec.animal_cmax
        if exposure is None or ref is None:
            raise ValueError(f"An exposure-based switch needs the human exposure predictions and the animal "
                             f"{spec.exposure_metric} at the HNSTD.")
    issues: list[Issue] = notes
    switch_level = None
    if spec.scheme == "list":
        raw = list(spec.doses)
        phases = ["user"] * len(raw)
        rounded = raw
        planned_inc = [np.nan] + [(b / a - 1.0) * 100.0 for a, b in zip(raw, raw[1:])]
    else:
        chain, phases, switch_level = _chain(spec, exposure)
        rounded = [round_dose(chain[0], spec.sig_figs, spec.step, down=True)]
        raw = [chain[0]]                 # the planned dose of each level: start, then previous rounded x multiplier
        planned_inc = [np.nan]
        for i in range(1, len(chain)):
            # the planned multiplier applied to the previous *rounded* dose; rounding may shrink a step but
            # never enlarge it beyond the scheme's increment
            factor = chain[i] / chain[i - 1]
            target = rounded[-1] * factor
            level = round_dose(target, spec.sig_figs, spec.step)
            limit = min(factor + ROUNDING_EXCESS, 2.0)        # a rounded step may exceed the plan by 5 points,
            if level > rounded[-1] * limit * (1 + 1e-9):      # never a doubling
                level = round_dose(target, spec.sig_figs, spec.step, down=True)
            rounded.append(level)
            raw.append(target)
            planned_inc.append((factor - 1.0) * 100.0)
        if spec.max_dose is not None and rounded[-1] > spec.max_dose:      # rounding up may pass the maximum
            raw[-1] = min(raw[-1], spec.max_dose)
            rounded[-1] = round_dose(raw[-1], spec.sig_figs, spec.step, down=True)
        if rounded[0] <= 0:
            raise ValueError(f"The start dose {raw[0]:g} rounds down to 0 with step {spec.step:g}: use a finer step.")
        for i in range(1, len(rounded)):
            if rounded[i] <= rounded[i - 1]:
                raise ValueError(f"Rounding makes dose levels {i} and {i + 1} equal or decreasing "
                                 f"({rounded[i - 1]:g}, {rounded[i]:g} {dose_unit}): use more significant figures "
                                 "or a finer step.")
    table = pd.DataFrame({"level": np.arange(1, len(rounded) + 1), "dose": np.asarray(rounded, float),
                          "unrounded_dose": np.asarray(raw, float)})
    table["increment_pct"] = np.r_[np.nan, (table["dose"].to_numpy()[1:] / table["dose"].to_numpy()[:-1] - 1) * 100]
    table["planned_increment_pct"] = np.asarray(planned_inc, float)
    table["phase"] = pd.Series(phases, dtype=object)
    realised, planned = table["increment_pct"].to_numpy(), table["planned_increment_pct"].to_numpy()
    cut = (planned > 0) & (realised < SHRUNK_STEP * planned)
    if cut.any():
        which = ", ".join(f"level {int(lv)} ({d:g} {dose_unit}: +{r:.0f} % instead of +{p:.0f} %)"
                          for lv, d, r, p in zip(table["level"][cut], table["dose"][cut], realised[cut], planned[cut]))
        issues.append(Issue("step_shrunk_by_rounding", f"Rounding cut the escalation step to less than "
                            f"{SHRUNK_STEP:.0%} of the planned increment at {which}: use more significant figures "
                            "or a finer step, or accept the smaller step."))
    if exposure is not None:
        h = resolve_exposure(exposure, table["dose"].to_numpy())
        table["cmax"], table["auc"] = h["cmax"].to_numpy(), h["auc"].to_numpy()
        if spec.animal_cmax or spec.animal_auc:
            table = pd.concat([table, margin_columns(h, spec.animal_cmax, spec.animal_auc)], axis=1)
            worst = table[["cmax_margin", "auc_margin"]].min(axis=1, skipna=True)
            if (worst < 1).any():
                lvl = int(table.loc[worst < 1, "level"].iloc[0])
                issues.append(Issue("exposure_above_animal", f"From level {lvl} the predicted human exposure exceeds "
                                                             "the animal exposure at the HNSTD (margin < 1)."))
    if spec.switch_at_exposure_fraction is not None and switch_level is None:
        issues.append(Issue("no_signal", "No level reached the exposure fraction: doubling throughout.", "info"))
    return DoseLadder(spec=spec, table=table, issues=tuple(issues), provenance=make_provenance(spec, table),
                      dose_unit=spec.dose_unit, switch_level=switch_level)


def _chain(spec: LadderSpec, exposure) -> tuple[list[float], list[str], int | None]:
    """Unrounded doses, the phase of each level, and the switch level (doubling)."""
    doses, phases = [spec.start_dose], ["start"]
    switch = None
    limit = spec.n_levels if spec.n_levels is not None else 50
    ref = spec.animal_auc if spec.exposure_metric == "auc" else spec.animal_cmax
    n_reduced = 0
    while len(doses) < limit:
        level = len(doses)                       # 1-based level of the last dose
        if spec.scheme == "modified_fibonacci":
            inc = MODIFIED_FIBONACCI[min(level - 1, len(MODIFIED_FIBONACCI) - 1)]
            phase = "modified_fibonacci"
        else:
            if switch is None:
                if spec.switch_at_level is not None and level >= spec.switch_at_level:
                    switch = spec.switch_at_level
                elif spec.switch_at_exposure_fraction is not None:
                    e = resolve_exposure(exposure, [doses[-1]])[spec.exposure_metric].iloc[0]
                    if e >= spec.switch_at_exposure_fraction * ref:
                        switch = level
            if switch is None:
                inc, phase = 1.0, "doubling"
            else:
                inc = spec.after_switch[min(n_reduced, len(spec.after_switch) - 1)]
                n_reduced += 1
                phase = "reduced"
        nxt = doses[-1] * (1.0 + inc)
        if spec.max_dose is not None and nxt > spec.max_dose * (1 + 1e-9):
            break
        doses.append(nxt)
        phases.append(phase)
    return doses, phases, switch
