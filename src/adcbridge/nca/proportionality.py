"""Dose proportionality of NCA parameters: the power model with the Smith et al. (2000) criterion, and the
one-way ANOVA of dose-normalised values.

**Power model.**  For each group (analyte x parameter) and subset of the data, ordinary least squares of

    log(P_i) = a + b * log(dose_i) + e_i,    e_i ~ N(0, sigma^2)      (natural logarithms)

gives the slope b, its standard error and the (1 - alpha) confidence interval [L, U] = b -/+ t(1 - alpha/2, n - 2)
SE(b) (90 % by default), the residual degrees of freedom n - 2 and sigma (residual standard deviation).  With
r = Dmax / Dmin the ratio of the highest to the lowest dose of the subset and the equivalence limits theta_L, theta_H
(default 0.8, 1.25), Smith et al. (2000) declare dose proportionality when the interval lies inside the critical
region

    1 + ln(theta_L) / ln(r)  <=  L  <  U  <=  1 + ln(theta_H) / ln(r),

``not proportional`` when it lies entirely outside it (U < lower limit or L > upper limit), and ``inconclusive``
otherwise.  Derived quantities:

* Rdnm = r^(b - 1), the ratio of dose-normalised geometric means at Dmax and Dmin, with interval r^(L-1) .. r^(U-1);
* rho1, the largest dose ratio over which proportionality can still be concluded:
  ln(rho1) = min(ln(theta_L) / (L - 1) [if L < 1], ln(theta_H) / (U - 1) [if U > 1]); with theta_L = 1/theta_H
  this is theta_H^(1 / max(1 - L, U - 1));
* rho2, the dose ratio beyond which disproportionality is concluded, defined only when the interval excludes 1:
  rho2 = theta_H^(1 / (L - 1)) if L > 1, theta_L^(1 / (U - 1)) if U < 1.

A rho beyond the largest double (about 1.8e308) is reported as missing, with an issue.

**Dose-normalised ANOVA.**  One-way ANOVA of log(P / dose) on the dose group (each distinct dose): F =
[SS_between / (k - 1)] / [SS_within / (n - k)] on (k - 1, n - k) degrees of freedom.  Under proportionality the
dose-normalised parameter does not depend on the dose.

Reference: Smith BP, Vandenhende FR, DeSante KA, et al. Confidence interval criteria for assessment of dose
proportionality.  Pharm Res 2000;17:1278-1283.  Both analyses reproduce R 4.2.2 ``lm``/``confint``/``anova`` to
about 1e-13 (``tests/reference/test_nca_statistics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import statsmodels.api as sm
from pydantic import Field, field_validator, model_validator
from scipy import stats

from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .statistics import (
    DOSE,
    SEX,
    VALUE,
    SexColumns,
    StatisticsColumns,
    group_label,
    groups,
    prepare_parameter_data,
    require_dose_levels,
    resolve_spec,
)

__all__ = ["Subset", "PowerModelSpec", "PowerModel", "power_model", "DoseNormalisedAnovaSpec",
           "DoseNormalisedAnova", "dose_normalised_anova", "smith_criterion"]


class Subset(Spec):
    """A subset of the data for the power model: a dose range and/or one sex.

    ``dose_min``/``dose_max`` are inclusive limits (either may be left out); ``sex`` is a code of the sex column
    (the spec's ``female`` or ``male``).  ``label`` names the subset in the output; by default it is built from
    the data: ``"all doses 0.3-30"`` (no filter), ``"1-30"`` (a dose range: the doses actually in it), ``"males"``
    / ``"females"``, or a combination such as ``"males 1-30"``.
    """

    spec_name: ClassVar[str] = "subset"

    label: str | None = None
    dose_min: float | None = Field(None, gt=0)
    dose_max: float | None = Field(None, gt=0)
    sex: str | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.dose_min is not None and self.dose_max is not None and self.dose_min > self.dose_max:
            raise ValueError(f"The 'dose_min' parameter of subset must not exceed 'dose_max'. "
                             f"Got {self.dose_min} > {self.dose_max}.")
        return self


class PowerModelSpec(SexColumns):
    """Options of :func:`power_model` (column options: see :class:`~adcbridge.nca.statistics.SexColumns`).

    Parameters
    ----------
    confidence : float
        Two-sided confidence level of the slope interval (default 0.90, as Smith et al. recommend).
    theta_low, theta_high : float
        Equivalence limits for the ratio of dose-normalised means at the highest and lowest dose (default 0.8,
        1.25); 0 < theta_low < 1 < theta_high.
    subsets : tuple of Subset
        The subsets of the data to analyse, each separately (default: all data).  The sex column is needed only
        when a subset selects a sex.
    """

    spec_name: ClassVar[str] = "power_model"

    confidence: float = Field(0.90, gt=0, lt=1)
    theta_low: float = Field(0.8, gt=0, lt=1)
    theta_high: float = Field(1.25, gt=1)
    subsets: tuple[Subset, ...] = (Subset(),)

    @field_validator("subsets")
    @classmethod
    def _some_subsets(cls, v):
        if not v:
            raise ValueError("must hold at least one subset")
        return v

    @model_validator(mode="after")
    def _known_sex_codes(self):
        for s in self.subsets:
            if s.sex is not None and s.sex not in (self.female, self.male):
                raise ValueError(f"A subset's 'sex' must be the 'female' ({self.female!r}) or 'male' "
                                 f"({self.male!r}) code of power_model. Got {s.sex!r}.")
        return self


@dataclass(frozen=True, eq=False)
class PowerModel(Result):
    """Power-model fits with the Smith criterion, one row per ``by`` group and subset.

    ``table`` columns: the ``by`` columns; ``subset`` (label); ``n``; ``dose_min``, ``dose_max``, ``dose_ratio``
    (r); ``intercept`` (a), ``slope`` (b), ``slope_se``, ``slope_ci_low``, ``slope_ci_high``; ``df_resid``,
    ``sigma``; ``crit_low``, ``crit_high`` (Smith critical region); ``proportional`` (bool), ``conclusion``
    (``proportional``, ``not proportional`` or ``inconclusive``); ``rdnm``, ``rdnm_ci_low``, ``rdnm_ci_high``;
    ``rho1``, ``rho2`` (see the module docstring for the equations).
    """


def smith_criterion(slope: np.ndarray, ci_low: np.ndarray, ci_high: np.ndarray, dose_ratio: np.ndarray,
                    theta_low: float = 0.8, theta_high: float = 1.25) -> pd.DataFrame:
    """The Smith et al. (2000) columns for slopes ``slope`` with intervals [``ci_low``, ``ci_high``] over dose
    ratios ``dose_ratio`` (arrays of one length): ``crit_low``, ``crit_high``, ``proportional``, ``conclusion``,
    ``rdnm``, ``rdnm_ci_low``, ``rdnm_ci_high``, ``rho1``, ``rho2`` (equations in the module docstring).

    >>> s = smith_criterion([1.0], [0.98], [1.02], [100])
    >>> round(float(s.loc[0, "crit_low"]), 4), s.loc[0, "conclusion"]
    (0.9515, 'proportional')
    """
    b, lo, hi, r = (np.asarray(v, dtype=float) for v in (slope, ci_low, ci_high, dose_ratio))
    ln_l, ln_h, ln_r = np.log(theta_low), np.log(theta_high), np.log(r)
    crit_low, crit_high = 1 + ln_l / ln_r, 1 + ln_h / ln_r
    inside = (lo >= crit_low) & (hi <= crit_high)
    outside = (hi < crit_low) | (lo > crit_high)
    conclusion = np.where(inside, "proportional", np.where(outside, "not proportional", "inconclusive"))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ln_rho1 = np.minimum(np.where(lo < 1, ln_l / (lo - 1), np.inf), np.where(hi > 1, ln_h / (hi - 1), np.inf))
        ln_rho2 = np.where(lo > 1, ln_h / (lo - 1), np.where(hi < 1, ln_l / (hi - 1), np.nan))
        rho1, rho2 = np.exp(ln_rho1), np.exp(ln_rho2)
    return pd.DataFrame({
        "crit_low": crit_low, "crit_high": crit_high, "proportional": inside, "conclusion": conclusion.astype(object),
        "rdnm": r ** (b - 1), "rdnm_ci_low": r ** (lo - 1), "rdnm_ci_high": r ** (hi - 1), "rho1": rho1, "rho2": rho2,
    })


def _subset_rows(frame: pd.DataFrame, subset: Subset, spec: PowerModelSpec) -> tuple[pd.Series, str]:
    keep = pd.Series(True, index=frame.index)
    if subset.dose_min is not None:
        keep &= frame[DOSE] >= subset.dose_min
    if subset.dose_max is not None:
        keep &= frame[DOSE] <= subset.dose_max
    if subset.sex is not None:
        keep &= frame[SEX] == ("F" if subset.sex == spec.female else "M")
    if subset.label is not None:
        return keep, subset.label
    doses = frame.loc[keep, DOSE]
    span = f"{doses.min():g}-{doses.max():g}" if len(doses) else "(no doses)"
    parts = []
    if subset.sex is not None:
        parts.append("females" if subset.sex == spec.female else "males")
    if subset.dose_min is not None or subset.dose_max is not None:
        parts.append(span)
    return keep, " ".join(parts) if parts else f"all doses {span}"


def _power_fit(sub: pd.DataFrame, confidence: float, where: str) -> dict:
    require_dose_levels(sub, where)
    if len(sub) < 3:
        raise ValueError(f"{where}: the power model needs at least 3 values (residual df >= 1); got {len(sub)}")
    x = np.log(sub[DOSE].to_numpy())
    fit = sm.OLS(np.log(sub[VALUE].to_numpy()), sm.add_constant(x, has_constant="add")).fit()
    ci = fit.conf_int(alpha=1 - confidence)
    dmin, dmax = float(sub[DOSE].min()), float(sub[DOSE].max())
    return {"n": len(sub), "dose_min": dmin, "dose_max": dmax, "dose_ratio": dmax / dmin,
            "intercept": float(fit.params[0]), "slope": float(fit.params[1]), "slope_se": float(fit.bse[1]),
            "slope_ci_low": float(ci[1, 0]), "slope_ci_high": float(ci[1, 1]), "df_resid": int(round(fit.df_resid)),
            "sigma": float(np.sqrt(fit.scale))}


def power_model(data: pd.DataFrame, spec: PowerModelSpec | None = None, **options) -> PowerModel:
    """Fit log(P) = a + b log(dose) per ``by`` group and subset and apply the Smith et al. (2000) criterion.

    ``data`` is a long table of per-subject values (see :mod:`adcbridge.nca.statistics`); ``spec`` or keyword
    ``options`` (the fields of :class:`PowerModelSpec`: ``value``, ``dose``, ``by``, ``sex``, ``female``,
    ``male``, ``confidence``, ``theta_low``, ``theta_high``, ``subsets``) choose columns and options; options
    given with a spec replace its fields.  Raises ValueError for bad input (see
    :func:`~adcbridge.nca.statistics.prepare_parameter_data`), a subset with fewer than 2 dose levels or fewer
    than 3 values.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"DOSE": [1, 1, 10, 10, 100, 100], "PPSTRESN": [2.0, 2.2, 19.0, 21.0, 205.0, 195.0]})
    >>> r = power_model(d, by=(), confidence=0.9)
    >>> row = r.table.loc[0]
    >>> row["subset"], round(float(row["slope"]), 4), row["conclusion"]
    ('all doses 1-100', 0.9896, 'proportional')
    """
    spec = resolve_spec(PowerModelSpec, spec, options)
    use_sex = any(s.sex is not None for s in spec.subsets)
    frame, issues = prepare_parameter_data(data, spec, use_sex=use_sex)
    selections = [_subset_rows(frame, s, spec) for s in spec.subsets]
    rows = []
    for key, sub in groups(frame, spec.by):
        for keep, label in selections:
            where = f"{group_label(spec.by, key)}, subset {label!r}"
            part = sub[keep.loc[sub.index]]
            if part.empty:
                raise ValueError(f"{where}: the subset holds no values")
            rows.append({**dict(zip(spec.by, key)), "subset": label, **_power_fit(part, spec.confidence, where)})
    table = pd.DataFrame(rows)
    smith = smith_criterion(table["slope"], table["slope_ci_low"], table["slope_ci_high"], table["dose_ratio"],
                            spec.theta_low, spec.theta_high)
    table = pd.concat([table, smith], axis=1)
    issues = list(issues)
    for col in ("rho1", "rho2"):
        huge = np.isinf(table[col])
        for i in np.flatnonzero(huge):
            where = group_label(spec.by, tuple(table.loc[i, list(spec.by)]))
            issues.append(Issue(f"{col}_overflow", f"{where}, subset {table.loc[i, 'subset']!r}: {col} exceeds the "
                                f"largest double (a slope interval bound within ~1e-3 of 1); reported as missing",
                                "info"))
        table.loc[huge, col] = np.nan
    table["subset"] = table["subset"].astype(object)
    table["conclusion"] = table["conclusion"].astype(object)
    return PowerModel(spec=spec, table=table, issues=tuple(issues), provenance=make_provenance(spec, frame))


class DoseNormalisedAnovaSpec(StatisticsColumns):
    """Options of :func:`dose_normalised_anova`: the columns only (see
    :class:`~adcbridge.nca.statistics.StatisticsColumns`)."""

    spec_name: ClassVar[str] = "dose_normalised_anova"


@dataclass(frozen=True, eq=False)
class DoseNormalisedAnova(Result):
    """One-way ANOVA of log(P / dose) on dose group, one row per ``by`` group.

    ``table`` columns: the ``by`` columns; ``n``; ``n_doses`` (k); ``f_dose`` (F statistic), ``df_dose`` (k - 1),
    ``df_resid`` (n - k), ``p_dose`` (upper-tail F probability).
    """


def dose_normalised_anova(data: pd.DataFrame, spec: DoseNormalisedAnovaSpec | None = None,
                          **options) -> DoseNormalisedAnova:
    """One-way ANOVA of log(P / dose) on the dose group (each distinct dose), per ``by`` group.

    F = [sum_j n_j (m_j - m)^2 / (k - 1)] / [sum_ij (y_ij - m_j)^2 / (n - k)] with y = log(P / dose), m_j the
    mean of dose group j and m the overall mean; p = Pr(F(k - 1, n - k) > F).  Options: ``value``, ``dose``,
    ``by`` (see :class:`DoseNormalisedAnovaSpec`).  Raises ValueError for bad input, fewer than 2 dose levels
    or no residual degree of freedom (n = k).

    >>> import pandas as pd
    >>> d = pd.DataFrame({"DOSE": [1, 1, 10, 10], "PPSTRESN": [2.0, 2.2, 19.0, 21.0]})
    >>> round(float(dose_normalised_anova(d, by=()).table.loc[0, "p_dose"]), 4)
    0.5525
    """
    spec = resolve_spec(DoseNormalisedAnovaSpec, spec, options)
    frame, issues = prepare_parameter_data(data, spec)
    rows = []
    for key, sub in groups(frame, spec.by):
        where = group_label(spec.by, key)
        require_dose_levels(sub, where)
        y = np.log(sub[VALUE] / sub[DOSE])
        samples = [g.to_numpy() for _, g in y.groupby(sub[DOSE], sort=True)]
        n, k = len(sub), len(samples)
        if n - k < 1:
            raise ValueError(f"{where}: the ANOVA needs a dose group with at least 2 values (n = k = {n})")
        res = stats.f_oneway(*samples)
        rows.append({**dict(zip(spec.by, key)), "n": n, "n_doses": k, "f_dose": float(res.statistic),
                     "df_dose": k - 1, "df_resid": n - k, "p_dose": float(res.pvalue)})
    return DoseNormalisedAnova(spec=spec, table=pd.DataFrame(rows), issues=issues,
                               provenance=make_provenance(spec, frame))

