"""Statistics of NCA parameters: the common ground of dose proportionality and sex comparisons.

The analyses themselves live in two modules:

* :mod:`adcbridge.nca.proportionality` -- :func:`~adcbridge.nca.proportionality.power_model` (log P = a + b log
  dose with the Smith et al. (2000) criterion) and
  :func:`~adcbridge.nca.proportionality.dose_normalised_anova` (one-way ANOVA of log(P/dose) on dose group);
* :mod:`adcbridge.nca.sex` -- :func:`~adcbridge.nca.sex.sex_comparison` (per-dose t tests,
  pooled dose-group model with the dose-by-sex interaction, power model with sex).

All of them take a *long* table of per-subject parameter values -- one row per subject and parameter, as the
CDISC PP output of the NCA (``PPCAT`` = analyte, ``PPTESTCD``, ``PPSTRESN``) joined with the dose and sex of each
subject -- and analyse every group of the ``by`` columns separately.  This module holds the column options that
they share (:class:`StatisticsColumns`, :class:`SexColumns`) and the validation of the input
(:func:`prepare_parameter_data`): a missing column, a non-numeric, missing or non-positive dose, a non-positive
or infinite parameter value or an unknown sex code is a :class:`ValueError` that names the column and the row, in
the one message shape of :mod:`adcbridge.validation` (``pp.csv: column 'DOSE', line 7: expected a number > 0,
got '0'``).  A *missing*
parameter value (an NCA parameter that could not be computed) is dropped and reported as an
:class:`~adcbridge.results.Issue`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import field_validator, model_validator

from adcbridge import validation
from adcbridge.results import Issue
from adcbridge.spec import Spec

__all__ = ["StatisticsColumns", "SexColumns", "prepare_parameter_data", "group_label", "groups",
           "require_dose_levels", "resolve_spec", "DOSE", "VALUE", "SEX"]

# internal column names of the prepared frame (the ``by`` columns keep their own names)
DOSE, VALUE, SEX = "_dose", "_value", "_sex"


class StatisticsColumns(Spec):
    """Where the analyses find their inputs.

    Parameters
    ----------
    value : str
        Column of the parameter values P (default ``PPSTRESN``, the CDISC standard result); must be > 0.
    dose : str
        Column of the administered dose (default ``DOSE``; any unit, e.g. mg/kg); must be > 0.  Each distinct
        dose is one dose group.
    by : tuple of str
        Columns whose combinations are analysed separately (default ``("PPCAT", "PPTESTCD")``: analyte and
        parameter).  May be empty.
    """

    value: str = "PPSTRESN"
    dose: str = "DOSE"
    by: tuple[str, ...] = ("PPCAT", "PPTESTCD")

    @field_validator("value", "dose")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        if not v:
            raise ValueError("must be a non-empty column name")
        return v

    @model_validator(mode="after")
    def _distinct_columns(self):
        used = [self.value, self.dose, *self.by, *self._extra_columns()]
        if len(set(used)) != len(used):
            raise ValueError(f"The column parameters of {self.spec_name} must name different columns. "
                             f"Got {used}.")
        return self

    def _extra_columns(self) -> list[str]:
        return []


class SexColumns(StatisticsColumns):
    """:class:`StatisticsColumns` plus the sex column and its two codes.

    Parameters
    ----------
    sex : str
        Column of the sex of each subject (default ``SEX``).
    female, male : str
        The codes of the two sexes in that column (default ``F`` and ``M``).  Ratios are female / male.
    """

    sex: str = "SEX"
    female: str = "F"
    male: str = "M"

    @model_validator(mode="after")
    def _distinct_codes(self):
        if self.female == self.male:
            raise ValueError(f"The 'female' and 'male' parameters of {self.spec_name} must differ. "
                             f"Got {self.female!r} for both.")
        return self

    def _extra_columns(self) -> list[str]:
        return [self.sex]


def group_label(by: tuple[str, ...], key: Any) -> str:
    """``"PPCAT='ADC', PPTESTCD='CMAX'"`` for the group ``key`` of the ``by`` columns (``"all data"`` if none)."""
    if not by:
        return "all data"
    key = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{c}={(k.item() if isinstance(k, np.generic) else k)!r}" for c, k in zip(by, key))


def prepare_parameter_data(data: pd.DataFrame, spec: StatisticsColumns, *,
                           use_sex: bool = False) -> tuple[pd.DataFrame, tuple[Issue, ...]]:
    """Validate ``data`` and return the columns the analyses use, with the issues found.

    The returned frame has the ``by`` columns under their own names and ``_dose``, ``_value`` (floats) and, with
    ``use_sex``, ``_sex`` (``"F"``/``"M"``, whatever the codes of the spec); rows with a missing value are
    dropped (one :class:`~adcbridge.results.Issue` per group).  Raises :class:`ValueError` naming the column and
    row for a missing column, a non-numeric entry, a missing or non-positive dose, a non-positive value or a sex
    code other than ``spec.female``/``spec.male``.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"the data must be a pandas DataFrame of per-subject parameter values; "
                         f"got {type(data).__name__}")
    by = list(spec.by)
    validation.require_columns(data, [spec.value, spec.dose, *by] + ([spec.sex] if use_sex else []))  # type: ignore
    if data.empty:
        raise validation.table_error(data, "the data have no rows")
    key = by or None
    dose = pd.Series(validation.numeric_column(data, spec.dose, above=0, key=key), index=data.index)
    value = pd.Series(validation.numeric_column(data, spec.value, above=0, allow_missing=True, key=key),
                      index=data.index)

    out = data[list(spec.by)].copy()
    out[DOSE] = dose
    out[VALUE] = value
    if use_sex:
        codes = {spec.female: "F", spec.male: "M"}  # type: ignore[attr-defined]
        raw = data[spec.sex].map(lambda v: str(v) if not (isinstance(v, float) and math.isnan(v)) else v)
        mapped = raw.map(codes)
        validation.fail_first(data, spec.sex, mapped.isna().to_numpy(),  # type: ignore[attr-defined]
                              f"{spec.female!r} or {spec.male!r}", key=key)  # type: ignore[attr-defined]
        out[SEX] = mapped

    issues: list[Issue] = []
    missing = out[VALUE].isna()
    if missing.any():
        if spec.by:
            counts = list(out[missing].groupby(list(spec.by), sort=False, dropna=False).size().items())
        else:
            counts = [((), int(missing.sum()))]
        for group, count in counts:
            issues.append(Issue("missing_value",
                                f"{group_label(spec.by, group)}: {count} row(s) with a missing "
                                f"'{spec.value}' left out of the analysis", "warning"))
        out = out[~missing]
    if out.empty:
        raise validation.table_error(data, f"column '{spec.value}' (parameter value) has no non-missing values",
                                     column=spec.value)
    return out, tuple(issues)


def groups(frame: pd.DataFrame, by: tuple[str, ...]):
    """Iterate ``(key, sub-frame)`` over the ``by`` groups in order of first appearance (one group if none)."""
    if not by:
        yield (), frame
        return
    for key, sub in frame.groupby(list(by), sort=False, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), sub


def require_dose_levels(sub: pd.DataFrame, where: str, minimum: int = 2) -> None:
    """ValueError unless ``sub`` holds at least ``minimum`` distinct doses."""
    k = sub[DOSE].nunique()
    if k < minimum:
        raise ValueError(f"{where}: at least {minimum} dose levels are needed; the data hold {k} "
                         f"({sorted(sub[DOSE].unique().tolist())})")


def resolve_spec(cls: type[Spec], spec: Spec | None, options: dict[str, Any]):
    """``spec`` with ``options`` replacing its fields, or ``cls(**options)`` when no spec is given."""
    if spec is None:
        return cls(**options)
    if not isinstance(spec, cls):
        raise ValueError(f"spec must be a {cls.__name__}; got {type(spec).__name__}")
    return spec.replace(**options) if options else spec
