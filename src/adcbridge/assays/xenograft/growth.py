"""Growth rates of log tumour volume: a linear mixed model with group slopes and their comparisons, the
SynergyLMM form on log relative volume, and the two-stage (per-animal slope) analysis.

**Model (a)**, as R ``nlme::lme(log(volume) ~ day * group, random = ~ day | animal, method = "REML")`` and
``lmerTest::lmer(log(volume) ~ day * group + (day | animal))``::

    ln V_ij = (b0 + b0_g + u0_i) + (g_C + d_g + u1_i) t_ij + e_ij,   (u0, u1) ~ N(0, G),  e ~ N(0, s2)

with t the time since the baseline day and treatment coding against the control group.  The group slope
g_g = g_C + d_g is the exponential growth rate (1/day); doubling time ln 2 / g_g (negative: halving time of a
regressing tumour); rate-based TGI = 100 (1 - g_T / g_C) (Hather et al. 2014; > 100 % for regression).
Missing measurements after humane-endpoint dropouts are handled by the likelihood (valid when dropout depends
on the observed volumes, MAR), unlike group means of the survivors.

* Fixed effects and slope CIs: Wald, with nlme's containment df (242 for within-animal terms in the reference).
* Slope contrasts (treated - control): Wald z, unadjusted and Dunnett single-step adjusted (multcomp ``glht``
  on an ``lme``), and Kenward-Roger t.
* ANOVA: nlme's ``anova(type = "marginal")`` (treatment-coded terms: ``day`` is the control slope) with
  containment df; lmerTest's type III (``day`` is the mean slope over groups, ``group`` the difference at
  t = 0, ``day:group`` equal slopes) with Satterthwaite and Kenward-Roger df.  The df differ (242 vs ~28) and so
  do the p values.
* Likelihood-ratio test of equal slopes: ML fits with and without ``day:group``.

**Model (b)**, the SynergyLMM ``lmmModel(grwth_model = "exp")`` form: ``ln(V/V0) ~ 0 + day:group`` with a
random slope per animal (no intercept), on the measurements after baseline (REML).

**Two-stage**: an ordinary least-squares slope of ln V on day per animal (all its measurements), then a one-way
ANOVA of the slopes with Dunnett's contrasts (pooled variance, t on N - k df).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from adcbridge.fitting import FitResult, covariance_entries
from adcbridge.results import Issue, Result, make_provenance

from .data import TumourVolumes, log_volume, relative_volumes, require_control
from .lmm_inference import containment_df
from .mixed import MixedFit, fit_mixed, growth_design
from .multiplicity import dunnett_adjusted_p
from .options import XenograftOptions

__all__ = ["GrowthRateResult", "fit_growth_rates"]

LN2 = math.log(2.0)


@dataclass(frozen=True, eq=False)
class GrowthRateResult(Result, FitResult):
    """Growth rates of ln V.

    ``table``: one row per group: ``group, slope`` (1/day), ``se, df, ci_low, ci_high, doubling_time``,
    ``tgi_rate`` (%), ``unit``.  ``fixed_effects``: ``term, estimate, se, df, t, p`` (R's term names).
    ``contrasts``: treated - control slopes: ``estimate, se, z, p, p_adjusted`` (single-step, normal),
    ``df_kr, p_kr`` (Kenward-Roger).  ``anova``: ``term, hypothesis, method`` (containment, satterthwaite,
    kenward_roger), ``num_df, den_df, F, p``.  ``tests``: the likelihood-ratio test of equal slopes.
    ``variance_components``: ``parameter, value``.  ``fit_statistics``: ``statistic, value``.
    ``rtv_slopes``/``rtv_fit``: model (b).  ``animal_slopes``: per-animal OLS slopes; ``two_stage``: their
    group means and contrasts.

    ``parameters(level)`` (see :class:`~adcbridge.fitting.FitResult`): one row per ``group``, ``term`` ``slope``
    (the growth rate of model (a), 1/day) with Wald-t intervals on nlme's containment df (``wald_t``) at any
    level, then ``doubling_time`` and ``tgi_rate``.  ``cov_params()`` is L Phi L' (Phi the covariance of the GLS
    fixed effects, L the rows that make each group's slope), stored as ``parameter_vcov``."""

    fixed_effects: pd.DataFrame | None = None
    contrasts: pd.DataFrame | None = None
    anova: pd.DataFrame | None = None
    tests: pd.DataFrame | None = None
    variance_components: pd.DataFrame | None = None
    fit_statistics: pd.DataFrame | None = None
    rtv_slopes: pd.DataFrame | None = None
    rtv_fit: pd.DataFrame | None = None
    animal_slopes: pd.DataFrame | None = None
    two_stage: pd.DataFrame | None = None
    parameter_vcov: pd.DataFrame | None = None

    result_type: ClassVar[str] = "GrowthRateResult"
    fit_keys: ClassVar[tuple[str, ...]] = ("group",)

    def _parameter_rows(self) -> pd.DataFrame:
        t = self.table
        return pd.DataFrame({"group": t["group"].astype(object), "term": "slope",
                             "estimate": t["slope"].astype(float), "se": t["se"].astype(float),
                             "df": t["df"].astype(float), "scale": "linear", "unit": t["unit"].astype(object),
                             "doubling_time": t["doubling_time"].astype(float),
                             "tgi_rate": t["tgi_rate"].astype(float)})

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        if self.parameter_vcov is None:
            return super()._covariance(rows)
        return self._covariance_from_entries(self.parameter_vcov, rows)

    def slope(self, group: str) -> float:
        row = self.table[self.table["group"] == group]
        if row.empty:
            raise KeyError(f"no group {group!r}")
        return float(row["slope"].iloc[0])

    def statistic(self, name: str) -> float:
        return float(self.fit_statistics.set_index("statistic").loc[name, "value"])

    def record_body(self) -> dict[str, Any]:
        return {"slopes": _records(self.table), "contrasts": _records(self.contrasts),
                "anova": _records(self.anova), "tests": _records(self.tests),
                "variance_components": {r["parameter"]: _num(r["value"])
                                        for r in self.variance_components.to_dict("records")},
                "fit": {r["statistic"]: _num(r["value"]) for r in self.fit_statistics.to_dict("records")},
                "rtv_model": _records(self.rtv_slopes), "two_stage": _records(self.two_stage),
                "parameters": _records(self.parameters())}


def _num(v):
    if v is None:
        return None
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if np.isfinite(v) else None
    return v.item() if isinstance(v, np.generic) else v


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    if df is None:
        return []
    return [{k: _num(v) for k, v in r.items()} for r in df.to_dict("records")]


def _prepare(volumes: TumourVolumes, options: XenograftOptions):
    tab = volumes.table
    y = log_volume(tab["volume"].to_numpy(), options.volume_floor, tab["animal"].to_numpy(), tab["day"].to_numpy(),
                   volumes.column("volume"))
    t = tab["day"].to_numpy() - volumes.baseline_day
    return tab, y, t


def _model_a(volumes, options, groups, issues):
    tab, y, t = _prepare(volumes, options)
    grp, ani = tab["group"].to_numpy(), tab["animal"].to_numpy()
    X, names = growth_design(t, grp, groups)
    Z = np.column_stack([np.ones_like(t), t])
    fit = fit_mixed(y, X, Z, ani, names, reml=True)
    if not fit.converged:
        issues.append(Issue("not_converged", f"mixed model (REML): {fit.message}", "error"))
    sd = np.sqrt(np.diag(fit.G))
    ratio, max_corr = options.min_random_sd_ratio, options.max_random_correlation
    if np.any(sd < ratio * max(1.0, float(np.max(sd)))) or abs(fit.G[0, 1]) >= max_corr * sd[0] * sd[1]:
        issues.append(Issue("singular_fit", "a random-effect variance is ~0 or the intercept-slope correlation is "
                            "+-1; the random part may be over-parameterised", "warning"))
    return fit, X, ani, y, t, grp


def _slope_rows(fit: MixedFit, groups) -> np.ndarray:
    """L (groups x fixed effects): the slope of group g is L[g] beta (control slope plus its interaction)."""
    L = np.zeros((len(groups), len(fit.names)))
    L[:, fit.index("day")] = 1
    for i, g in enumerate(groups):
        if g != groups[0]:
            L[i, fit.index(f"day:group{g}")] = 1
    return L


def _slopes(fit: MixedFit, groups, dfs, level, control) -> pd.DataFrame:
    inf = fit.inference
    rows = []
    slope_c = None
    for g, L in zip(groups, _slope_rows(fit, groups)):
        est = float(L @ inf.beta)
        se = float(np.sqrt(L @ inf.phi @ L))
        df = float(dfs[fit.index("day")])
        q = stats.t.ppf(0.5 + level / 2, df)
        slope_c = est if g == control else slope_c
        rows.append({"group": g, "slope": est, "se": se, "df": df, "ci_low": est - q * se, "ci_high": est + q * se,
                     "doubling_time": LN2 / est if est != 0 else np.nan})
    out = pd.DataFrame(rows)
    out["tgi_rate"] = 100 * (1 - out["slope"] / slope_c) if slope_c else np.nan
    out["unit"] = "1/day"
    return out


def _anova(fit: MixedFit, groups, dfs) -> pd.DataFrame:
    inf = fit.inference
    p = len(fit.names)
    eye = np.eye(p)
    k = len(groups)
    rows = []
    gidx = [fit.index(f"group{g}") for g in groups[1:]]
    iidx = [fit.index(f"day:group{g}") for g in groups[1:]]
    nlme_terms = [("(Intercept)", "intercept of the control group = 0", eye[[0]], dfs[0]),
                  ("day", "slope of the control group = 0", eye[[1]], dfs[1])]
    if k > 1:
        nlme_terms += [("group", "equal intercepts (t = 0)", eye[gidx], dfs[gidx[0]]),
                       ("day:group", "equal slopes", eye[iidx], dfs[iidx[0]])]
    for term, hyp, L, df in nlme_terms:
        rows.append({"term": term, "hypothesis": hyp, "method": "containment", **inf.wald(L, df)})
    mean_slope = eye[[1]].copy()
    if k > 1:
        mean_slope[0, iidx] = 1.0 / k
    type3 = [("day", "mean slope over groups = 0", mean_slope)]
    if k > 1:
        type3 += [("group", "equal intercepts (t = 0)", eye[gidx]), ("day:group", "equal slopes", eye[iidx])]
    for method in ("satterthwaite", "kenward_roger"):
        for term, hyp, L in type3:
            res = inf.satterthwaite(L) if method == "satterthwaite" else inf.kenward_roger(L)
            rows.append({"term": term, "hypothesis": hyp, "method": method,
                         **{c: res[c] for c in ("num_df", "den_df", "F", "p")}})
    return pd.DataFrame(rows, columns=["term", "hypothesis", "method", "num_df", "den_df", "F", "p"])


def _contrasts(fit: MixedFit, groups, control) -> pd.DataFrame:
    inf = fit.inference
    p = len(fit.names)
    rows, z, var_t = [], [], []
    i_day = fit.index("day")
    for g in groups[1:]:
        L = np.zeros(p)
        L[fit.index(f"day:group{g}")] = 1
        est, se = float(L @ inf.beta), float(np.sqrt(L @ inf.phi @ L))
        kr = inf.kenward_roger(L[None, :])
        Ls = L.copy()
        Ls[i_day] = 1
        var_t.append(float(Ls @ inf.phi @ Ls))
        z.append(est / se)
        rows.append({"contrast": f"{g} - {control}", "estimate": est, "se": se, "z": est / se,
                     "p": float(2 * stats.norm.sf(abs(est / se))), "df_kr": kr["den_df"],
                     "p_kr": kr["p"]})
    out = pd.DataFrame(rows, columns=["contrast", "estimate", "se", "z", "p", "p_adjusted", "df_kr", "p_kr"])
    if rows:
        out["p_adjusted"] = dunnett_adjusted_p(np.array(z), float(inf.phi[i_day, i_day]), np.array(var_t))
    return out


def _lrt_slopes(volumes, options, groups, y, t, grp, ani) -> dict:
    full_X, full_names = growth_design(t, grp, groups)
    red_X, red_names = growth_design(t, grp, groups, interaction=False)
    Z = np.column_stack([np.ones_like(t), t])
    full = fit_mixed(y, full_X, Z, ani, full_names, reml=False)
    red = fit_mixed(y, red_X, Z, ani, red_names, reml=False)
    stat = max(2 * (full.llf - red.llf), 0.0)
    df = len(groups) - 1
    return {"test": "equal_slopes_lrt", "statistic": stat, "df": float(df), "p": float(stats.chi2.sf(stat, df)),
            "loglik_full": full.llf, "loglik_reduced": red.llf, "method": "ML",
            "converged": bool(full.converged and red.converged)}


def _rtv_model(volumes, options, groups, issues):
    sub = relative_volumes(volumes, options.volume_floor)
    y = sub["log_rtv"].to_numpy()
    t = sub["day"].to_numpy() - volumes.baseline_day
    grp = sub["group"].to_numpy()
    present = [g for g in groups if (grp == g).any()]
    X = np.column_stack([(grp == g) * t for g in present])
    names = [f"day:group{g}" for g in present]
    fit = fit_mixed(y, X, t[:, None], sub["animal"].to_numpy(), names, reml=True)
    if not fit.converged:
        issues.append(Issue("not_converged", f"log RTV model (REML): {fit.message}", "error"))
    if fit.G[0, 0] < options.min_random_variance:
        issues.append(Issue("singular_fit", "log RTV model: the random-slope variance is ~0 (the animals' slopes "
                            "do not vary beyond the residual noise)", "warning"))
    se = np.sqrt(np.diag(fit.inference.phi))
    slopes = pd.DataFrame({"group": present, "slope": fit.beta, "se": se, "unit": "1/day"})
    stats_ = pd.DataFrame({"statistic": ["sigma", "sd_random_slope", "loglik", "n_obs"],
                           "value": [math.sqrt(fit.s2), math.sqrt(fit.G[0, 0]), fit.llf, float(fit.n_obs)]})
    return slopes, stats_


def _two_stage(volumes, options, groups, control, issues):
    tab, y, t = _prepare(volumes, options)
    rows = []
    for (g, a), idx in tab.groupby(["group", "animal"], sort=False).groups.items():
        i = np.asarray(idx)
        if i.size < 2:
            issues.append(Issue("one_measurement", f"animal {a!r} has one measurement; no per-animal slope", "info"))
            continue
        slope = float(np.polyfit(t[i], y[i], 1)[0])
        rows.append({"group": g, "animal": a, "n": int(i.size), "slope": slope})
    per = pd.DataFrame(rows, columns=["group", "animal", "n", "slope"])
    present = [g for g in groups if (per["group"] == g).any()]
    s = {g: per.loc[per["group"] == g, "slope"].to_numpy() for g in present}
    df = int(sum(v.size for v in s.values()) - len(present))
    s2 = sum(float(np.sum((v - v.mean()) ** 2)) for v in s.values()) / df if df > 0 else np.nan
    out = [{"group": g, "contrast": None, "n": int(s[g].size), "estimate": float(s[g].mean()), "se": np.nan,
            "t": np.nan, "df": float(df), "p": np.nan, "p_adjusted": np.nan} for g in present]
    if control is not None and control in s and df > 0:
        treated = [g for g in present if g != control]
        n_c = s[control].size
        est = np.array([s[g].mean() - s[control].mean() for g in treated])
        n_t = np.array([s[g].size for g in treated])
        se = np.sqrt(s2 * (1 / n_t + 1 / n_c))
        with np.errstate(divide="ignore", invalid="ignore"):
            tv = np.where(se > 0, est / np.where(se > 0, se, 1.0), np.nan)
        if not np.all(se > 0):
            issues.append(Issue("zero_variance", "two-stage: the per-animal slopes do not vary within groups; no "
                                "t tests", "warning"))
        padj = dunnett_adjusted_p(tv, 1 / n_c, 1 / n_t, df) if treated else []
        for g, e, sei, ti, pa, nt in zip(treated, est, se, tv, padj, n_t):
            out.append({"group": g, "contrast": f"{g} - {control}", "n": int(nt), "estimate": float(e),
                        "se": float(sei), "t": float(ti), "df": float(df),
                        "p": float(2 * stats.t.sf(abs(ti), df)), "p_adjusted": float(pa)})
    return per, pd.DataFrame(out)


def fit_growth_rates(volumes: TumourVolumes, options: XenograftOptions | None = None, **option_values
                     ) -> GrowthRateResult:
    """Mixed-model growth rates of ln V per group, their comparisons with the control, the SynergyLMM form and
    the two-stage analysis (see the module docstring).  Without ``control`` the first group is the reference and
    no contrasts, rate TGI or two-stage comparisons are reported.

    >>> import numpy as np, pandas as pd
    >>> from adcbridge.assays.xenograft import tumour_volumes, fit_growth_rates
    >>> rng = np.random.default_rng(1)
    >>> rows = [(g, f"{g}{i}", d, 100 * np.exp(r * d + 0.05 * rng.standard_normal()))
    ...         for g, r in (("C", 0.1), ("T", 0.03)) for i in range(6) for d in (0, 4, 8, 12)]
    >>> df = pd.DataFrame(rows, columns=["group", "animal", "day", "volume"])
    >>> r = fit_growth_rates(tumour_volumes(df), control="C")
    >>> round(r.slope("C"), 2), round(r.slope("T"), 2)
    (0.1, 0.03)
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    control = options.control
    if control is not None:
        require_control(volumes, control)
    groups = volumes.ordered_groups(control)
    issues: list[Issue] = []
    if volumes.table["animal"].nunique() < 3:
        raise ValueError(f"a mixed model needs at least 3 animals (column {volumes.column('animal')!r})")
    fit, X, ani, y, t, grp = _model_a(volumes, options, groups, issues)
    dfs = containment_df(X, ani)
    inf = fit.inference
    se = np.sqrt(np.diag(inf.phi))
    tval = inf.beta / se
    fixed = pd.DataFrame({"term": list(fit.names), "estimate": inf.beta, "se": se, "df": dfs, "t": tval,
                          "p": 2 * stats.t.sf(np.abs(tval), dfs)})
    slopes = _slopes(fit, groups, dfs, options.confidence, control if control is not None else None)
    if control is None:
        slopes["tgi_rate"] = np.nan
    if (slopes["slope"] <= 0).any():
        issues.append(Issue("regression", "a group slope is <= 0 (regressing tumours): its doubling time is a "
                            "negative halving time and its rate-based TGI exceeds 100 %", "info"))
    contrasts = _contrasts(fit, groups, control) if control is not None else None
    anova = _anova(fit, groups, dfs)
    tests = pd.DataFrame([_lrt_slopes(volumes, options, groups, y, t, grp, ani)]) if len(groups) > 1 else None
    G = fit.G
    vc = pd.DataFrame({"parameter": ["var_intercept", "var_slope", "cov_intercept_slope", "var_residual",
                                     "sd_intercept", "sd_slope", "corr_intercept_slope", "sd_residual"],
                       "value": [G[0, 0], G[1, 1], G[0, 1], fit.s2, math.sqrt(G[0, 0]), math.sqrt(G[1, 1]),
                                 G[0, 1] / math.sqrt(G[0, 0] * G[1, 1]) if G[0, 0] * G[1, 1] > 0 else np.nan,
                                 math.sqrt(fit.s2)]})
    fstats = pd.DataFrame({"statistic": ["loglik_reml", "aic", "bic", "sigma", "n_obs", "n_animals"],
                           "value": [fit.llf, fit.aic, fit.bic, math.sqrt(fit.s2), float(fit.n_obs),
                                     float(fit.n_groups)]})
    rtv_slopes, rtv_fit = _rtv_model(volumes, options, groups, issues)
    per, two = _two_stage(volumes, options, groups, control, issues)
    L = _slope_rows(fit, groups)
    cov = L @ inf.phi @ L.T
    vcov = covariance_entries([(np.arange(len(groups)), 0.5 * (cov + cov.T))])
    return GrowthRateResult(spec=options, table=slopes, issues=tuple(issues),
                            provenance=make_provenance(options, volumes.table), fixed_effects=fixed,
                            contrasts=contrasts, anova=anova, tests=tests, variance_components=vc,
                            fit_statistics=fstats, rtv_slopes=rtv_slopes, rtv_fit=rtv_fit, animal_slopes=per,
                            two_stage=two, parameter_vcov=vcov)
