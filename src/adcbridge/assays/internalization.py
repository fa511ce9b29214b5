"""Antibody (ADC) internalization: % internalized over time from quench or acid-strip flow cytometry, one-phase
association fits, and the comparison of two antibodies by extra-sum-of-squares F tests.

**Correction.**  With U and Q the unquenched (total) and quenched (or acid-stripped) MFI at 37 C, both minus the
background MFI, and the quench efficiency QE measured on cells kept at 4 C (no internalization)::

    QE = 1 - mean(Q_4C - bkg) / mean(U_4C - bkg)               (per antibody, a ratio of means)
    % internalized = 100 (Q - U (1 - QE)) / (U QE)

Without the correction (QE = 1) the surface signal that escapes quenching reads as internalized antibody
(about 8 % at t = 0 when QE = 0.92).  For acid stripping, QE is the stripping efficiency; the formula is the same.

**One-phase association** (GraphPad Prism)::

    Y(t) = Y0 + (Plateau - Y0) (1 - exp(-k t)),     half-time = ln 2 / k

fitted with Y0 fixed at 0 and with Y0 free.  Standard errors are s^2 (J'J)^-1 (R ``nls``, Prism); intervals are
Wald-t (estimate -/+ t SE) and profile-likelihood (R ``confint`` on an ``nls`` fit, solved exactly).

**Comparing two antibodies** (Prism's "do the best-fit values differ?", R ``anova(reduced, full)``): a joint fit
with separate plateau and k for each antibody (pooled residual variance) against the fits with a shared k, a
shared plateau, and one curve for both; F = ((RSS_r - RSS_f)/(df_r - df_f)) / (RSS_f/df_f).  The joint fit also
gives k1 - k2 and ln(k1/k2) with delta-method SEs.  AUC(0-last) is the trapezoid area under the mean % internalized
at each time.

>>> import pandas as pd
>>> from adcbridge.assays.internalization import fit_internalization
>>> import numpy as np
>>> t = np.repeat([0.0, 0.5, 1, 2, 4, 8, 24], 2)
>>> df = pd.DataFrame({"adc": "A", "time_h": t, "pct_internalized": 60 * (1 - np.exp(-0.3 * t))})
>>> r = fit_internalization(df)
>>> round(r.estimate("A", "plateau"), 6), round(r.estimate("A", "k"), 6)
(60.0, 0.3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from adcbridge import validation
from adcbridge.fitting import FitResult, covariance_entries
from adcbridge.results import Issue, Result, make_provenance
from adcbridge.spec import Spec

from .nls import NlsFit, extra_sum_of_squares_test, nls_fit, profile_interval, t_quantile

__all__ = ["InternalizationOptions", "InternalizationResult", "quench_efficiency", "percent_internalized",
           "fit_internalization", "analyze_internalization", "one_phase"]

LN2 = math.log(2.0)


class InternalizationOptions(Spec):
    """Options of an internalization analysis.

    * ``background`` -- MFI subtracted from every reading (unstained or isotype cells).
    * ``method`` -- ``"quench"`` or ``"acid_strip"`` (the same correction; the label says which was used).
    * ``quench_efficiency`` -- a known QE for every antibody, instead of 4 C controls.
    * ``compare`` -- the two antibodies to compare (default: the two in the data, when there are two).
    * ``compare_y0`` -- the one-phase model of the comparison: ``"fixed"`` (Y0 = 0) or ``"free"``.
    * ``confidence`` -- level of the confidence intervals; ``time_unit`` -- label of the time column's unit.
    * ``max_plateau_ratio`` -- a fit whose plateau exceeds this many times the largest observation (in absolute
      value) is flagged ``plateau_extrapolated`` (the curve has not levelled off within the sampled times).
    """

    spec_name: ClassVar[str] = "internalization"
    background: float = 0.0
    method: Literal["quench", "acid_strip"] = "quench"
    quench_efficiency: float | None = Field(None, gt=0, le=1)
    compare: tuple[str, str] | None = None
    compare_y0: Literal["fixed", "free"] = "fixed"
    confidence: float = Field(0.95, gt=0, lt=1)
    time_unit: Literal["s", "min", "h", "day"] = "h"
    max_plateau_ratio: float = Field(1.5, gt=0)


def _numeric(data: pd.DataFrame, column: str, what: str, key: str | None = None, min: float | None = None
             ) -> np.ndarray:
    """The column as finite floats (:func:`adcbridge.validation.numeric_column`; ``key`` names the row's antibody
    in errors, ``min`` is the smallest value allowed)."""
    return validation.numeric_column(data, column, table=f"the {what}", key=key, min=min)


def _labels(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    return validation.label_column(data, column, what="an antibody label", table=f"the {what}").astype(str).to_numpy()


def quench_efficiency(controls: pd.DataFrame, *, background: float = 0.0, antibody: str = "adc",
                      unquenched: str = "MFI_unquenched_4C", quenched: str = "MFI_quenched_4C") -> pd.DataFrame:
    """QE per antibody from 4 C controls: ``1 - mean(Q - bkg) / mean(U - bkg)``.  Columns ``antibody``,
    ``quench_efficiency``, ``n``."""
    ab = _labels(controls, antibody, "4 C control table")
    u = _numeric(controls, unquenched, "4 C control table", antibody) - background
    q = _numeric(controls, quenched, "4 C control table", antibody) - background
    rows = []
    for name in pd.unique(ab):
        m = ab == name
        if np.mean(u[m]) <= 0:
            raise ValueError(f"antibody {name!r}: the 4 C unquenched MFI is not above the background ({background:g})")
        qe = 1.0 - np.mean(q[m]) / np.mean(u[m])
        if not (0 < qe <= 1):
            raise ValueError(f"antibody {name!r}: the quench efficiency from the 4 C controls is {qe:.4g}, not in "
                             f"(0, 1]; check the columns {unquenched!r} and {quenched!r}")
        rows.append((name, float(qe), int(m.sum())))
    return pd.DataFrame(rows, columns=["antibody", "quench_efficiency", "n"])


def percent_internalized(raw: pd.DataFrame, qe, *, background: float = 0.0, antibody: str = "adc",
                         time: str = "time_h", unquenched: str = "MFI_unquenched",
                         quenched: str = "MFI_quenched") -> pd.DataFrame:
    """``raw`` with ``QE`` and ``pct_internalized = 100 (Q - U (1 - QE)) / (U QE)`` added (U, Q minus the
    background).  ``qe`` is a number, a mapping antibody -> QE, or the table of :func:`quench_efficiency`."""
    ab = _labels(raw, antibody, "MFI table")
    _numeric(raw, time, "MFI table", antibody, min=0)                  # times are checked, not used here
    u = _numeric(raw, unquenched, "MFI table", antibody) - background
    q = _numeric(raw, quenched, "MFI table", antibody) - background
    if isinstance(qe, pd.DataFrame):
        qe = dict(zip(qe["antibody"].astype(str), qe["quench_efficiency"]))
    if isinstance(qe, dict):
        missing = [a for a in pd.unique(ab) if a not in qe]
        if missing:
            raise ValueError(f"antibody {missing[0]!r} has no quench efficiency (no 4 C controls)")
        eff = np.array([qe[a] for a in ab], dtype=float)
    else:
        eff = np.full(ab.size, float(qe))
    if np.any(~(eff > 0) | (eff > 1)):
        raise ValueError(f"the quench efficiency must be in (0, 1]; got {float(eff[~(eff > 0) | (eff > 1)][0])!r}")
    validation.fail_first(raw, unquenched, u <= 0, f"an MFI above the background ({background:g})", key=antibody,
                          table="the MFI table")
    out = raw.reset_index(drop=True)
    out["QE"] = eff
    out["pct_internalized"] = 100.0 * (q - u * (1.0 - eff)) / (u * eff)
    return out


def one_phase(t, plateau, k, y0=0.0):
    """Prism's one-phase association, ``y0 + (plateau - y0) (1 - exp(-k t))``."""
    return y0 + (plateau - y0) * (1.0 - np.exp(-k * np.asarray(t, dtype=float)))


# ------------------------------------------------------------------------------------------------ fitting
def _start(t: np.ndarray, y: np.ndarray, y0_free: bool) -> np.ndarray:
    """Best k on a log grid with (Y0, plateau) solved by linear least squares."""
    pos = t[t > 0]
    grid = np.logspace(np.log10(0.01 / t.max()), np.log10(100.0 / pos.min()), 121)
    best = None
    for k in grid:
        e = np.exp(-k * t)
        A = np.column_stack([e, 1 - e]) if y0_free else (1 - e)[:, None]
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        rss = float(np.sum((y - A @ coef) ** 2))
        if best is None or rss < best[0]:
            best = (rss, np.concatenate([coef, [k]]))
    return best[1]


@dataclass(frozen=True)
class _Curves:
    """The model of one or several antibodies with some parameters shared: ``index[c]`` maps antibody c's
    (Y0, plateau, k) to positions in the parameter vector (-1: Y0 fixed at 0)."""

    t: list[np.ndarray]
    y: np.ndarray
    index: list[tuple[int, int, int]]
    names: tuple[str, ...]

    def residuals(self, x: np.ndarray) -> np.ndarray:
        pred = [one_phase(t, x[p], x[k], x[y0] if y0 >= 0 else 0.0) for t, (y0, p, k) in zip(self.t, self.index)]
        return self.y - np.concatenate(pred)

    def fit(self, x0) -> NlsFit:
        return nls_fit(self.residuals, x0, self.names)


def _joint(ts, ys, labels, y0_free: bool, share: tuple[str, ...]):
    """Curves for len(ts) antibodies with the parameters in ``share`` (subset of y0, plateau, k) in common."""
    names, index, pos = [], [], {}
    for lab in labels:
        slots = []
        for par in ("Y0", "plateau", "k"):
            if par == "Y0" and not y0_free:
                slots.append(-1)
                continue
            key = par if par.lower() in share else f"{par}_{lab}"
            if key not in pos:
                pos[key] = len(names)
                names.append(key)
            slots.append(pos[key])
        index.append(tuple(slots))
    return _Curves(ts, np.concatenate(ys), index, tuple(names))


def _param_rows(curves: _Curves, fit: NlsFit, level: float) -> list[dict]:
    q = t_quantile(level, fit.df)
    se = fit.se
    rows = []
    for j, name in enumerate(fit.names):
        est = float(fit.x[j])
        tval = est / se[j] if se[j] > 0 else np.nan
        lo, hi = profile_interval(curves.residuals, fit, j, level)
        rows.append({"parameter": name, "estimate": est, "se": float(se[j]), "t": float(tval),
                     "p": float(2 * stats.t.sf(abs(tval), fit.df)), "ci_low": est - q * se[j],
                     "ci_high": est + q * se[j], "profile_low": lo, "profile_high": hi})
    return rows


def _fit_one(t, y, y0_free: bool, level: float, label: str):
    curves = _joint([t], [y], [label], y0_free, ("y0", "plateau", "k"))
    fit = curves.fit(_start(t, y, y0_free))
    rows = _param_rows(curves, fit, level)
    k = next(r for r in rows if r["parameter"] == "k")
    q = t_quantile(level, fit.df)
    half = LN2 / k["estimate"]
    se_half = LN2 * k["se"] / k["estimate"] ** 2
    rows.append({"parameter": "half_time", "estimate": half, "se": se_half, "t": np.nan, "p": np.nan,
                 "ci_low": half - q * se_half, "ci_high": half + q * se_half,
                 "profile_low": LN2 / k["profile_high"] if k["profile_high"] > 0 else np.nan,
                 # a profile interval of k reaching 0 leaves the half-time unbounded above: missing, not negative
                 "profile_high": LN2 / k["profile_low"] if k["profile_low"] > 0 else np.nan})
    return fit, rows


def _fit_quality(fit: NlsFit, rows: list[dict], y: np.ndarray, what: str, level: float,
                 max_plateau_ratio: float = 1.5) -> list[Issue]:
    """Issues of one fit: parameters not determined (rank-deficient Jacobian, missing SEs), a rate or plateau
    whose Wald interval includes 0, a plateau beyond ``max_plateau_ratio`` times the data (no plateau reached)."""
    out = []
    est = {r["parameter"]: r for r in rows}
    if fit.rank < fit.p or not np.all(np.isfinite(fit.se)):
        out.append(Issue("non_identifiable", f"{what}: the parameters are not determined by the data (no "
                                             f"internalization, or a curve with neither rise nor plateau); "
                                             f"standard errors are missing", "error"))
        return out
    for name in ("k", "plateau"):
        r = est.get(name)
        if r is not None and not (r["ci_low"] > 0 or r["ci_high"] < 0):
            out.append(Issue("not_determined", f"{what}: the {100 * level:g}% Wald interval of {name} "
                                               f"({r['ci_low']:.3g} to {r['ci_high']:.3g}) includes 0; "
                                               f"the {'half-time' if name == 'k' else 'plateau'} is not determined",
                             "warning"))
    plateau = est.get("plateau")
    top = float(np.nanmax(np.abs(y))) if y.size else 0.0
    if plateau is not None and top > 0 and abs(plateau["estimate"]) > max_plateau_ratio * top:
        out.append(Issue("plateau_extrapolated", f"{what}: the plateau ({plateau['estimate']:.3g} %) lies far "
                                                 f"beyond the largest observation ({top:.3g} %): the curve has not "
                                                 f"levelled off within the sampled times", "warning"))
    return out


def _one_fit_covariance(fit: NlsFit) -> np.ndarray:
    """Covariance of a one-phase fit's parameters (in ``fit.names`` order) and the half-time ln 2 / k appended
    (delta method: d half = -ln 2 / k^2 dk)."""
    k = fit.names.index("k")
    g = -LN2 / fit.x[k] ** 2
    V = np.asarray(fit.vcov, dtype=float)
    out = np.empty((fit.p + 1, fit.p + 1))
    out[:-1, :-1] = V
    out[-1, :-1] = out[:-1, -1] = g * V[k]
    out[-1, -1] = g * g * V[k, k]
    return out


@dataclass(frozen=True, eq=False)
class InternalizationResult(Result, FitResult):
    """Internalization analysis.

    ``table``: one row per antibody x model (``y0_fixed``: Y0 = 0; ``y0_free``) x parameter (``Y0``,
    ``plateau`` in %, ``k`` in 1/time, ``half_time``) with ``estimate, se, t, p, ci_low, ci_high`` (Wald-t),
    ``profile_low, profile_high`` (profile likelihood; for the half-time, the transformed interval of k) and
    ``unit``.  ``fit_statistics``: n, df, RSS, Sy.x per fit.  ``percent``: the per-replicate % internalized (when
    computed from MFI).  ``quench``: QE per antibody.  ``comparison_parameters``: the joint fit (separate
    parameters, pooled variance).  ``comparison_tests``: F tests ``k_equal``, ``plateau_equal``, ``all_equal``.
    ``comparison_contrasts``: ``k_diff``, ``log_k_ratio`` and ``k_ratio`` with SEs and CIs.  ``auc``: area under
    the mean % internalized curve.  ``observed``: the fitted observations in standard columns ``antibody``,
    ``time``, ``value`` (so a plot needs nothing else).

    ``parameters(level)`` (see :class:`~adcbridge.fitting.FitResult`): ``antibody, model, term`` -- the rows of
    ``table`` and, with a comparison, the joint fit's rows (``model`` ``joint``) -- with Wald-t intervals
    (``wald_t``, t on the fit's residual df) at any level, ``p_value`` (H0: parameter = 0) and the profile-likelihood
    interval ``profile_low``, ``profile_high``, which exists at the fit's own level only (missing at another
    level).  ``cov_params()`` from ``parameter_vcov`` (each fit's s^2 (J'J)^-1, the half-time by the delta method;
    NaN between separate fits)."""

    fit_statistics: pd.DataFrame | None = None
    percent: pd.DataFrame | None = None
    quench: pd.DataFrame | None = None
    comparison_parameters: pd.DataFrame | None = None
    comparison_tests: pd.DataFrame | None = None
    comparison_contrasts: pd.DataFrame | None = None
    auc: pd.DataFrame | None = None
    observed: pd.DataFrame | None = None
    parameter_vcov: pd.DataFrame | None = None

    result_type: ClassVar[str] = "InternalizationResult"
    fit_keys: ClassVar[tuple[str, ...]] = ("antibody", "model")

    def _parameter_rows(self) -> pd.DataFrame:
        t = self.table
        df = {(a, m): float(d) for a, m, d in zip(self.fit_statistics["antibody"], self.fit_statistics["model"],
                                                  self.fit_statistics["df"])}
        rows = pd.DataFrame({"antibody": t["antibody"].astype(object), "model": t["model"].astype(object),
                             "term": t["parameter"].astype(object), "estimate": t["estimate"].astype(float),
                             "se": t["se"].astype(float),
                             "df": [df.get((a, m), np.nan) for a, m in zip(t["antibody"], t["model"])],
                             "scale": "linear", "unit": t["unit"].astype(object), "p_value": t["p"].astype(float),
                             "profile_low": t["profile_low"].astype(float),
                             "profile_high": t["profile_high"].astype(float)})
        joint = self.comparison_parameters
        if joint is not None and len(joint):
            terms, antibodies = zip(*(str(n).split("_", 1) if "_" in str(n) else (str(n), None)
                                      for n in joint["parameter"]))
            time_unit = self.spec.time_unit
            rows = pd.concat([rows, pd.DataFrame({
                "antibody": list(antibodies), "model": "joint", "term": list(terms),
                "estimate": joint["estimate"].astype(float), "se": joint["se"].astype(float),
                "df": float(self.comparison_tests["df2"].iloc[0]), "scale": "linear",
                "unit": [{"Y0": "%", "plateau": "%", "k": f"1/{time_unit}"}.get(n, "") for n in terms],
                "p_value": joint["p"].astype(float), "profile_low": joint["profile_low"].astype(float),
                "profile_high": joint["profile_high"].astype(float)})], ignore_index=True)
        return rows.astype({"antibody": object, "model": object, "term": object, "unit": object})

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        if self.parameter_vcov is None:
            return super()._covariance(rows)
        return self._covariance_from_entries(self.parameter_vcov, rows)

    def _level_dependent(self, table: pd.DataFrame, level: float) -> pd.DataFrame:
        if not np.isclose(level, self.spec.confidence, rtol=0, atol=1e-12):
            table["profile_low"] = np.nan
            table["profile_high"] = np.nan
        return table

    def estimate(self, antibody: str, parameter: str, model: str = "y0_fixed") -> float:
        t = self.table
        row = t[(t["antibody"] == antibody) & (t["parameter"] == parameter) & (t["model"] == model)]
        if row.empty:
            raise KeyError(f"no {parameter!r} for antibody {antibody!r} ({model})")
        return float(row["estimate"].iloc[0])

    def record_body(self) -> dict[str, Any]:
        """The JSON of ``adcbridge fit internalization --format json`` (``parameters``: the parameter table of
        :meth:`parameters` as a list of rows)."""
        def num(v):
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        def block(rows):
            return {r["parameter"]: {k: num(r[k]) for k in ("estimate", "se", "ci_low", "ci_high", "profile_low",
                                                             "profile_high")} for r in rows.to_dict("records")}

        fits = []
        for (ab, model), rows in self.table.groupby(["antibody", "model"], sort=False):
            stat = self.fit_statistics[(self.fit_statistics["antibody"] == ab) &
                                       (self.fit_statistics["model"] == model)].iloc[0]
            fits.append({"antibody": ab, "model": model, "params": block(rows), "rss": num(stat["rss"]),
                         "df": int(stat["df"])})
        out: dict[str, Any] = {"quench_efficiency": None if self.quench is None else
                               {r["antibody"]: num(r["quench_efficiency"]) for r in self.quench.to_dict("records")},
                               "fits": fits, "comparison": None,
                               "auc": {r["antibody"]: num(r["auc"]) for r in self.auc.to_dict("records")}}
        if self.comparison_tests is not None:
            tests = {r["test"]: {k: num(r[k]) for k in ("f", "df1", "df2", "p", "rss_reduced", "rss_full")}
                     for r in self.comparison_tests.to_dict("records")}
            contrasts = {r["contrast"]: {k: num(r[k]) for k in ("estimate", "se", "ci_low", "ci_high")}
                         for r in self.comparison_contrasts.to_dict("records")}
            out["comparison"] = {"antibodies": list(self.spec.compare), "params": block(self.comparison_parameters),
                                 **tests, **contrasts}
        out["parameters"] = self.parameters()
        return out


def _compare(ts, ys, pair, y0_free: bool, level: float, time_unit: str):
    full = _joint(ts, ys, pair, y0_free, ())
    starts = [_start(t, y, y0_free) for t, y in zip(ts, ys)]
    x0 = []
    for name in full.names:
        par, lab = name.split("_", 1)
        s = starts[pair.index(lab)]
        x0.append({"Y0": s[0], "plateau": s[-2], "k": s[-1]}[par])
    fit_full = full.fit(np.array(x0))
    params = pd.DataFrame(_param_rows(full, fit_full, level))
    tests = []
    for test, share in (("k_equal", ("k",)), ("plateau_equal", ("plateau",)), ("all_equal", ("y0", "plateau", "k"))):
        red = _joint(ts, ys, pair, y0_free, share)
        x0 = [fit_full.x[full.names.index(n)] if n in full.names else
              np.mean([fit_full.x[full.names.index(f"{n}_{lab}")] for lab in pair]) for n in red.names]
        fit_red = red.fit(np.array(x0))
        tests.append({"test": test, **extra_sum_of_squares_test(fit_red.rss, fit_red.df, fit_full.rss, fit_full.df),
                      "converged": bool(fit_red.converged)})
    tests = pd.DataFrame(tests)
    i1, i2 = full.names.index(f"k_{pair[0]}"), full.names.index(f"k_{pair[1]}")
    k1, k2 = fit_full.x[i1], fit_full.x[i2]
    V = fit_full.vcov
    q = t_quantile(level, fit_full.df)
    d_se = math.sqrt(V[i1, i1] + V[i2, i2] - 2 * V[i1, i2])
    g = np.array([1 / k1, -1 / k2])
    lr_se = math.sqrt(g @ V[np.ix_([i1, i2], [i1, i2])] @ g)
    lr = math.log(k1 / k2)
    contrasts = pd.DataFrame([
        {"contrast": "k_diff", "estimate": k1 - k2, "se": d_se, "ci_low": k1 - k2 - q * d_se,
         "ci_high": k1 - k2 + q * d_se, "unit": f"1/{time_unit}"},
        {"contrast": "log_k_ratio", "estimate": lr, "se": lr_se, "ci_low": lr - q * lr_se, "ci_high": lr + q * lr_se,
         "unit": ""},
        {"contrast": "k_ratio", "estimate": k1 / k2, "se": k1 / k2 * lr_se, "ci_low": math.exp(lr - q * lr_se),
         "ci_high": math.exp(lr + q * lr_se), "unit": ""}])
    return params, tests, contrasts, fit_full


def fit_internalization(data: pd.DataFrame, options: InternalizationOptions | None = None, *, antibody: str = "adc",
                        time: str = "time_h", value: str = "pct_internalized", quench: pd.DataFrame | None = None,
                        **option_values) -> InternalizationResult:
    """One-phase fits (Y0 = 0 and Y0 free) of % internalized per antibody, and the comparison of two.  ``data``
    is long (antibody, time, value; replicates as separate rows).  ``quench`` (the QE table) is only recorded."""
    options = (options or InternalizationOptions()).replace(**option_values) if option_values else \
        (options or InternalizationOptions())
    ab = _labels(data, antibody, "internalization table")
    t_all = _numeric(data, time, "internalization table", antibody, min=0)
    y_all = _numeric(data, value, "internalization table", antibody)
    names = [str(a) for a in pd.unique(ab)]
    if not names:
        from adcbridge import validation
        raise validation.table_error(data, "the internalization table has no data rows (a header without rows).",
                                     table="internalization table")
    series = {}
    for name in names:
        m = ab == name
        t, y = t_all[m], y_all[m]
        if np.unique(t).size < 4 or not np.any(t > 0):
            raise ValueError(f"antibody {name!r}: {np.unique(t).size} distinct times in column {time!r} cannot "
                             f"determine a one-phase curve (Y0, plateau, k); at least 4 are needed")
        if np.ptp(y) == 0:
            raise ValueError(f"antibody {name!r}: column {value!r} is constant ({y[0]:g}); a one-phase curve "
                             f"cannot be fitted to it")
        series[name] = (t, y)
    level, unit = options.confidence, options.time_unit
    rows, stats_rows, auc_rows, issues, blocks = [], [], [], [], []
    pair = options.compare
    if pair is None and len(names) == 2:
        pair = (names[0], names[1])
    if pair is not None:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"compare: give two different antibodies, got {list(pair)}")
        unknown = [p for p in pair if p not in series]
        if unknown:
            raise ValueError(f"compare: antibody {unknown[0]!r} is not in column {antibody!r} ({names})")
    elif len(names) > 2:
        issues.append(Issue("no_comparison", f"{len(names)} antibodies; name the two to compare with compare=",
                            "info"))
    for name in names:
        t, y = series[name]
        for model, free in (("y0_fixed", False), ("y0_free", True)):
            fit, prow = _fit_one(t, y, free, level, name)
            if not fit.converged:
                issues.append(Issue("not_converged", f"antibody {name!r} ({model}): {fit.message}", "error"))
            issues += _fit_quality(fit, prow, y, f"antibody {name!r} ({model})", level, options.max_plateau_ratio)
            blocks.append((np.arange(len(rows), len(rows) + len(prow)), _one_fit_covariance(fit)))
            for r in prow:
                r.update(antibody=name, model=model,
                         unit={"Y0": "%", "plateau": "%", "k": f"1/{unit}", "half_time": unit}[r["parameter"]])
            rows += prow
            stats_rows.append({"antibody": name, "model": model, "n": fit.n, "df": fit.df, "rss": fit.rss,
                               "sy_x": math.sqrt(fit.sigma2), "converged": fit.converged})
        mean = pd.Series(y).groupby(t).mean()
        auc_rows.append({"antibody": name, "t_start": float(mean.index[0]), "t_end": float(mean.index[-1]),
                         "auc": float(np.trapezoid(mean.to_numpy(), mean.index.to_numpy())), "unit": f"%*{unit}"})
    table = pd.DataFrame(rows)[["antibody", "model", "parameter", "estimate", "se", "t", "p", "ci_low", "ci_high",
                                "profile_low", "profile_high", "unit"]]
    cparams = ctests = ccontrasts = None
    if pair is not None:
        cparams, ctests, ccontrasts, cfit = _compare([series[p][0] for p in pair], [series[p][1] for p in pair],
                                                     list(pair), options.compare_y0 == "free", level, unit)
        if not cfit.converged:
            issues.append(Issue("not_converged", f"joint fit of {pair}: {cfit.message}", "error"))
        blocks.append((np.arange(len(rows), len(rows) + cfit.p), cfit.vcov))
        for r in ctests.to_dict("records"):
            if not r["converged"]:
                issues.append(Issue("not_converged", f"reduced fit '{r['test']}' of {pair} did not converge; its F "
                                                     f"test is unreliable", "error"))
        shaky = sorted({i.message.split(" (")[0] for i in issues if i.code in ("non_identifiable", "not_determined",
                                                                                "plateau_extrapolated")
                        and any(f"antibody {p!r}" in i.message for p in pair)})
        if shaky:
            issues.append(Issue("comparison_unreliable", f"the comparison of {pair} rests on fits that are not "
                                                         f"determined ({'; '.join(shaky)}): the rate ratio and F tests "
                                                         f"are unreliable", "warning"))
        options = options.replace(compare=tuple(pair))
    return InternalizationResult(spec=options, table=table, issues=tuple(issues),
                                 provenance=make_provenance(options, data), fit_statistics=pd.DataFrame(stats_rows),
                                 percent=None, quench=quench, comparison_parameters=cparams, comparison_tests=ctests,
                                 comparison_contrasts=ccontrasts, auc=pd.DataFrame(auc_rows),
                                 observed=pd.DataFrame({"antibody": ab.astype(str), "time": t_all, "value": y_all}),
                                 parameter_vcov=covariance_entries(blocks))


def analyze_internalization(raw: pd.DataFrame, controls: pd.DataFrame | None = None,
                            options: InternalizationOptions | None = None, *, antibody: str = "adc",
                            time: str = "time_h", unquenched: str = "MFI_unquenched", quenched: str = "MFI_quenched",
                            unquenched_4c: str = "MFI_unquenched_4C", quenched_4c: str = "MFI_quenched_4C",
                            **option_values) -> InternalizationResult:
    """From raw MFI to fits: QE from the 4 C ``controls`` (or ``quench_efficiency``), % internalized per
    replicate, then :func:`fit_internalization`.  The per-replicate table is the result's ``percent``."""
    options = (options or InternalizationOptions()).replace(**option_values) if option_values else \
        (options or InternalizationOptions())
    if controls is None and options.quench_efficiency is None:
        raise ValueError("the quench efficiency is missing: give the 4 C controls or quench_efficiency")
    if controls is not None and options.quench_efficiency is not None:
        raise ValueError("give either the 4 C controls or quench_efficiency, not both")
    if controls is not None:
        qe = quench_efficiency(controls, background=options.background, antibody=antibody, unquenched=unquenched_4c,
                               quenched=quenched_4c)
    else:
        names = [str(a) for a in pd.unique(_labels(raw, antibody, "MFI table"))]
        qe = pd.DataFrame({"antibody": names, "quench_efficiency": options.quench_efficiency, "n": 0})
    pct = percent_internalized(raw, qe, background=options.background, antibody=antibody, time=time,
                               unquenched=unquenched, quenched=quenched)
    result = fit_internalization(pct, options, antibody=antibody, time=time, value="pct_internalized", quench=qe)
    percent = pct.copy()
    percent[antibody] = percent[antibody].astype(str)
    return InternalizationResult(spec=result.spec, table=result.table, issues=result.issues,
                                 provenance=make_provenance(result.spec, raw, controls), fit_statistics=
                                 result.fit_statistics, percent=percent, quench=qe,
                                 comparison_parameters=result.comparison_parameters,
                                 comparison_tests=result.comparison_tests,
                                 comparison_contrasts=result.comparison_contrasts, auc=result.auc,
                                 observed=result.observed, parameter_vcov=result.parameter_vcov)
