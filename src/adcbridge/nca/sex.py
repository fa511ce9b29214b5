"""Sex comparison of NCA parameters: female / male geometric-mean ratios (GMR) with confidence intervals.

For each ``by`` group (analyte x parameter) three analyses, one ``analysis`` code each in the output:

``t_test_per_dose`` (one row per dose)
    Two-sample t tests of log(P) between females (F) and males (M) within the dose group:
    d = mean(log P_F) - mean(log P_M), GMR = exp(d).  *Pooled* (equal variances): SE = s_p sqrt(1/n_F + 1/n_M),
    s_p^2 = [(n_F - 1) s_F^2 + (n_M - 1) s_M^2] / (n_F + n_M - 2), df = n_F + n_M - 2.  *Welch*:
    SE = sqrt(s_F^2/n_F + s_M^2/n_M) with Welch-Satterthwaite df.  t = d / SE, two-sided p, and the interval
    exp(d -/+ t(1 - alpha/2, df) SE) (90 % by default) for each.

``anova_dose_sex`` (pooled over doses)
    Least squares of log(P/dose) = mu + dose_group_j + beta * [sex = F] (dose group as a factor, male the
    reference): GMR = exp(beta) with its t interval, t = beta/SE(beta), df = n - k - 1, p; the type-I (sequential)
    F test of sex entered after dose group (F = t^2); and the dose-by-sex interaction: the sequential F test of
    the ``dose_group:sex`` terms in log(P/dose) ~ dose_group * sex, on (k - 1, n - 2k) degrees of freedom.

``power_model_sex`` (pooled over doses)
    Least squares of log(P) = a + b log(dose) + beta * [sex = F]: GMR = exp(beta) with interval, t, df = n - 3,
    p, and the slope b with its interval (the power model adjusted for sex).

Each sex must have at least 2 animals in every dose group (ValueError otherwise, naming the group, dose and sex):
a t test with a single animal has no variance estimate for that sex.  Results reproduce R 4.2.2 ``t.test``,
``lm``, ``confint`` and ``anova`` to about 1e-13 (``tests/reference/test_nca_statistics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from pydantic import Field
from scipy import stats
from statsmodels.stats.anova import anova_lm

from adcbridge.results import Result, make_provenance

from .statistics import (
    DOSE,
    SEX,
    VALUE,
    SexColumns,
    group_label,
    groups,
    prepare_parameter_data,
    require_dose_levels,
    resolve_spec,
)

__all__ = ["SexComparisonSpec", "SexComparison", "sex_comparison", "ANALYSES"]

ANALYSES = ("t_test_per_dose", "anova_dose_sex", "power_model_sex")
_COLUMNS = ["analysis", "dose", "n_male", "n_female", "gmr", "gmr_ci_low", "gmr_ci_high", "t", "df", "p",
            "t_welch", "df_welch", "p_welch", "gmr_ci_low_welch", "gmr_ci_high_welch", "f_sex", "p_f_sex",
            "f_interaction", "df_interaction", "df_interaction_resid", "p_interaction", "slope", "slope_ci_low",
            "slope_ci_high"]


class SexComparisonSpec(SexColumns):
    """Options of :func:`sex_comparison` (columns: see :class:`~adcbridge.nca.statistics.SexColumns`).

    Parameters
    ----------
    confidence : float
        Two-sided confidence level of the GMR and slope intervals (default 0.90).
    """

    spec_name: ClassVar[str] = "sex_comparison"

    confidence: float = Field(0.90, gt=0, lt=1)


@dataclass(frozen=True, eq=False)
class SexComparison(Result):
    """Female / male comparisons, one row per ``by`` group and analysis (and dose for the t tests).

    ``table`` columns: the ``by`` columns; ``analysis`` (``t_test_per_dose``, ``anova_dose_sex``,
    ``power_model_sex``); ``dose`` (t tests only); ``n_male``, ``n_female``; ``gmr`` (F/M) with ``gmr_ci_low``,
    ``gmr_ci_high``, ``t``, ``df``, ``p`` (pooled t test, or the sex coefficient of the model); ``t_welch``,
    ``df_welch``, ``p_welch``, ``gmr_ci_low_welch``, ``gmr_ci_high_welch`` (t tests only); ``f_sex``,
    ``p_f_sex``, ``f_interaction``, ``df_interaction``, ``df_interaction_resid``, ``p_interaction``
    (``anova_dose_sex`` only); ``slope``, ``slope_ci_low``, ``slope_ci_high`` (``power_model_sex`` only).
    Entries that do not apply to a row are missing.
    """

    def rows(self, analysis: str) -> pd.DataFrame:
        """The rows of one analysis (a copy), without the columns that do not apply to it."""
        if analysis not in ANALYSES:
            raise ValueError(f"analysis must be one of {ANALYSES}; got {analysis!r}")
        out = self.table[self.table["analysis"] == analysis]
        return out.dropna(axis=1, how="all").reset_index(drop=True)


def _t_tests(sub: pd.DataFrame, confidence: float, where: str) -> list[dict]:
    rows = []
    for dose, part in sub.groupby(DOSE, sort=True):
        logs = {s: np.log(part.loc[part[SEX] == s, VALUE].to_numpy()) for s in ("F", "M")}
        for s, name in (("F", "female"), ("M", "male")):
            if len(logs[s]) < 2:
                raise ValueError(f"{where}, dose {dose:g}: the {name} group has {len(logs[s])} animal(s); "
                                 f"a per-dose t test needs at least 2 per sex")
        pooled = stats.ttest_ind(logs["F"], logs["M"], equal_var=True)
        welch = stats.ttest_ind(logs["F"], logs["M"], equal_var=False)
        ci_p = pooled.confidence_interval(confidence_level=confidence)
        ci_w = welch.confidence_interval(confidence_level=confidence)
        rows.append({"analysis": "t_test_per_dose", "dose": float(dose), "n_male": len(logs["M"]),
                     "n_female": len(logs["F"]), "gmr": float(np.exp(logs["F"].mean() - logs["M"].mean())),
                     "gmr_ci_low": float(np.exp(ci_p.low)), "gmr_ci_high": float(np.exp(ci_p.high)),
                     "t": float(pooled.statistic), "df": float(pooled.df), "p": float(pooled.pvalue),
                     "t_welch": float(welch.statistic), "df_welch": float(welch.df), "p_welch": float(welch.pvalue),
                     "gmr_ci_low_welch": float(np.exp(ci_w.low)), "gmr_ci_high_welch": float(np.exp(ci_w.high))})
    return rows


def _sex_effect(fit, confidence: float) -> dict:
    """GMR (F/M), interval, t, df and p of the ``female`` indicator of a fitted OLS model."""
    lo, hi = fit.conf_int(alpha=1 - confidence).loc["female"]
    return {"gmr": float(np.exp(fit.params["female"])), "gmr_ci_low": float(np.exp(lo)),
            "gmr_ci_high": float(np.exp(hi)), "t": float(fit.tvalues["female"]), "df": float(fit.df_resid),
            "p": float(fit.pvalues["female"])}


def _pooled_models(sub: pd.DataFrame, confidence: float) -> list[dict]:
    frame = pd.DataFrame({"log_dn": np.log(sub[VALUE] / sub[DOSE]), "log_p": np.log(sub[VALUE]),
                          "log_dose": np.log(sub[DOSE]), "dose_group": pd.Categorical(sub[DOSE]),
                          "female": (sub[SEX] == "F").astype(float)})
    counts = {"n_male": int((sub[SEX] == "M").sum()), "n_female": int((sub[SEX] == "F").sum())}

    additive = smf.ols("log_dn ~ C(dose_group) + female", frame).fit()
    sequential = anova_lm(additive, typ=1)
    interaction = anova_lm(smf.ols("log_dn ~ C(dose_group) * female", frame).fit(), typ=1)
    inter = interaction.loc["C(dose_group):female"]
    anova_row = {"analysis": "anova_dose_sex", **counts, **_sex_effect(additive, confidence),
                 "f_sex": float(sequential.loc["female", "F"]), "p_f_sex": float(sequential.loc["female", "PR(>F)"]),
                 "f_interaction": float(inter["F"]), "df_interaction": float(inter["df"]),
                 "df_interaction_resid": float(interaction.loc["Residual", "df"]),
                 "p_interaction": float(inter["PR(>F)"])}

    power = smf.ols("log_p ~ log_dose + female", frame).fit()
    b_lo, b_hi = power.conf_int(alpha=1 - confidence).loc["log_dose"]
    power_row = {"analysis": "power_model_sex", **counts, **_sex_effect(power, confidence),
                 "slope": float(power.params["log_dose"]), "slope_ci_low": float(b_lo), "slope_ci_high": float(b_hi)}
    return [anova_row, power_row]


def sex_comparison(data: pd.DataFrame, spec: SexComparisonSpec | None = None, **options) -> SexComparison:
    """Compare females with males per ``by`` group: per-dose t tests, the dose-group model with the dose-by-sex
    interaction and the power model with sex (equations in the module docstring).

    ``spec`` or keyword ``options`` (the fields of :class:`SexComparisonSpec`: ``value``, ``dose``, ``by``,
    ``sex``, ``female``, ``male``, ``confidence``) choose columns and options.  Raises ValueError for bad input
    (see :func:`~adcbridge.nca.statistics.prepare_parameter_data`), fewer than 2 dose levels in a group, or a sex
    with fewer than 2 animals at a dose.

    >>> import pandas as pd
    >>> d = pd.DataFrame({"DOSE": [1] * 4 + [10] * 4, "SEX": list("FFMM") * 2,
    ...                   "PPSTRESN": [12.0, 13.0, 10.0, 11.0, 118.0, 125.0, 99.0, 104.0]})
    >>> r = sex_comparison(d, by=())
    >>> round(float(r.rows("anova_dose_sex").loc[0, "gmr"]), 4)
    1.1939
    """
    spec = resolve_spec(SexComparisonSpec, spec, options)
    frame, issues = prepare_parameter_data(data, spec, use_sex=True)
    rows = []
    for key, sub in groups(frame, spec.by):
        where = group_label(spec.by, key)
        require_dose_levels(sub, where)
        keys = dict(zip(spec.by, key))
        rows += [{**keys, **r} for r in _t_tests(sub, spec.confidence, where) + _pooled_models(sub, spec.confidence)]
    table = pd.DataFrame(rows, columns=[*spec.by, *_COLUMNS])
    table = table.astype({"n_male": "int64", "n_female": "int64", "analysis": object})
    return SexComparison(spec=spec, table=table, issues=issues, provenance=make_provenance(spec, frame))
