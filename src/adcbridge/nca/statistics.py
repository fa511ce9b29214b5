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
parameter value or an unknown sex code is a :class:`ValueError` that names the column and the row.  A *missing*
parameter value (an NCA parameter that could not be computed) is dropped and reported as an
:class:`~adcbridge.results.Issue`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import field_validator, model_validator

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


def _numeric(data: pd.DataFrame, column: str, what: str) -> pd.Series:
    raw = data[column]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        row = bad.idxmax()
        raise ValueError(f"column '{column}' ({what}) must be numeric; row {row!r} holds {raw[row]!r}")
    return num.astype(float)


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
    needed = {"value": spec.value, "dose": spec.dose}
    needed.update({f"by ({i + 1})": c for i, c in enumerate(spec.by)})
    if use_sex:
        needed["sex"] = spec.sex  # type: ignore[attr-defined]
    for role, column in needed.items():
        if column not in data.columns:
            raise ValueError(f"column '{column}' (the '{role}' column) is missing from the data; "
                             f"the columns are {list(map(str, data.columns))}")
    if data.empty:
        raise ValueError("the data have no rows")

    dose = _numeric(data, spec.dose, "dose")
    if dose.isna().any():
        row = dose.isna().idxmax()
        raise ValueError(f"column '{spec.dose}' (dose) is missing in row {row!r}")
    if (dose <= 0).any():
        row = (dose <= 0).idxmax()
        raise ValueError(f"column '{spec.dose}' (dose) must be > 0 for a log-scale analysis; "
                         f"row {row!r} holds {dose[row]!r}")
    value = _numeric(data, spec.value, "parameter value")
    bad = value.notna() & ~(value > 0)
    if bad.any():
        row = bad.idxmax()
        where = group_label(spec.by, tuple(data.loc[row, list(spec.by)])) if spec.by else "the data"
        raise ValueError(f"column '{spec.value}' (parameter value) must be > 0 for a log-scale analysis; "
                         f"row {row!r} ({where}) holds {value[row]!r}")
    if not np.isfinite(value.dropna()).all():
        row = (value.notna() & ~np.isfinite(value)).idxmax()
        raise ValueError(f"column '{spec.value}' (parameter value) must be finite; row {row!r} holds {value[row]!r}")

    out = data[list(spec.by)].copy()
    out[DOSE] = dose
    out[VALUE] = value
    if use_sex:
        codes = {spec.female: "F", spec.male: "M"}  # type: ignore[attr-defined]
        raw = data[spec.sex].map(lambda v: str(v) if not (isinstance(v, float) and math.isnan(v)) else v)
        mapped = raw.map(codes)
        if mapped.isna().any():
            row = mapped.isna().idxmax()
            raise ValueError(f"column '{spec.sex}' (sex) must hold {spec.female!r} or "  # type: ignore
                             f"{spec.male!r}; row {row!r} holds {data.loc[row, spec.sex]!r}")  # type: ignore
        out[SEX] = mapped

    issues: list[Issue] = []
    missing = out[VALUE].isna()
    if missing.any():
        if spec.by:
            counts = list(out[missing].groupby(list(spec.by), sort=False, dropna=False).size().items())
        else:
            counts = [((), int(missing.sum()))]
        for key, count in counts:
            issues.append(Issue("missing_value",
                                f"{group_label(spec.by, key)}: {count} row(s) with a missing "
                                f"'{spec.value}' left out of the analysis", "warning"))
        out = out[~missing]
    if out.empty:
        raise ValueError(f"column '{spec.value}' (parameter value) has no non-missing values")
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
