"""The frozen result of a dose-response fit: parameters, both variance-covariance flavours, EDs, potency,
parallelism, Prism's terms and the CLI JSON contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from adcbridge.fitting import FitResult
from adcbridge.results import Result

from .compare import NestedModelTest, nested_f_test
from .inference import compare_parameters, effective_doses, relative_potency
from .layout import LeastSquaresProblem, ParameterLayout
from .models import PARAMETERS, get_model

__all__ = ["DoseResponseFit"]


# ------------------------------------------------------------------------------------------------ the result
@dataclass(frozen=True, eq=False)
class DoseResponseFit(Result, FitResult):
    """A fitted dose-response model.

    ``table``: one row per estimated parameter -- ``term`` (drc's name, ``b:(Intercept)`` or ``e:<curve>``),
    ``parameter``, ``curve`` (None when shared), ``estimate``, ``se``, ``t``, ``p``, ``ci_low``, ``ci_high``,
    ``unit``.  ``ed_table``: the spec's ED levels (see :func:`~.inference.effective_doses`).  ``statistics``:
    n, npar, rss, df_residual, residual_se, logLik, AIC, BIC (drc's definitions; the variance counts as a
    parameter in AIC/BIC).  ``parallelism``: the F-test of the parallel model against separate curves (two or
    more curves and ``spec.test_parallelism``), else None.  ``observations``: curve, x, y, fitted, residual.
    ``start``: the self-starter values of the parameter vector.

    ``parameters(level)`` (see :class:`~adcbridge.fitting.FitResult`): ``curve`` (None for a shared or fixed
    parameter), ``term`` (b, c, d, e, f), Wald-t intervals on ``df_residual`` (``wald_t``), extra columns
    ``label`` (drc's name), ``p_value`` (H0: parameter = 0) and ``fixed`` (a parameter held at a value: one row, no
    SE).  ``cov_params()`` is the spec's ``se`` flavour of :meth:`vcov` (NaN for fixed parameters).
    """

    curves: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    estimates: np.ndarray | None = None
    vcov_drc: np.ndarray | None = None
    vcov_jacobian: np.ndarray | None = None
    index: np.ndarray | None = None
    statistics: dict[str, float] | None = None
    start: np.ndarray | None = None
    observations: pd.DataFrame | None = None
    ed_table: pd.DataFrame | None = None
    parallelism: NestedModelTest | None = None
    converged: bool = True

    result_type: ClassVar[str] = "DoseResponseFit"
    fit_keys: ClassVar[tuple[str, ...]] = ("curve",)

    # ----------------------------------------------------------------------------------- parameter table
    def _parameter_rows(self) -> pd.DataFrame:
        t = self.table
        rows = pd.DataFrame({"curve": t["curve"].astype(object), "term": t["parameter"].astype(object),
                             "estimate": t["estimate"].astype(float), "se": t["se"].astype(float),
                             "df": float(self.df_residual), "scale": "linear", "unit": t["unit"].astype(object),
                             "label": t["term"].astype(object), "p_value": t["p"].astype(float), "fixed": False})
        fixed = self.layout.fixed_values
        units = {"b": "1", "c": self.spec.y_unit, "d": self.spec.y_unit, "e": self.spec.x_unit, "f": "1"}
        extra = [{"curve": None, "term": p, "estimate": float(fixed[j]), "se": np.nan, "df": np.nan,
                  "scale": "fixed", "unit": units[p], "label": None, "p_value": np.nan, "fixed": True}
                 for j, p in enumerate(PARAMETERS)
                 if p in self.spec.fixed or (p != "f" and np.isfinite(fixed[j]))]
        if extra:
            rows = pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)
        return rows.astype({"curve": object, "unit": object, "label": object, "fixed": bool})

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        V = np.asarray(self.vcov(), dtype=float)
        n = V.shape[0]                         # the estimated parameters come first, in the order of vcov
        out = np.full((rows.size, rows.size), np.nan)
        inside = rows < n
        out[np.ix_(inside, inside)] = V[np.ix_(rows[inside], rows[inside])]
        return out

    # ------------------------------------------------------------------------------------- basic access
    @property
    def dose_response_model(self):
        return get_model(self.spec.model)

    @property
    def layout(self) -> ParameterLayout:
        return ParameterLayout(self.dose_response_model, self.curves, self.spec.shared_parameters,
                               dict(self.spec.fixed))

    @property
    def rss(self) -> float:
        return float(self.statistics["rss"])

    @property
    def df_residual(self) -> int:
        return int(self.statistics["df_residual"])

    def description(self) -> str:
        shared = self.spec.shared_parameters
        what = "separate curves" if len(self.curves) > 1 and not shared else (
            f"common {','.join(shared)}" if shared and len(self.curves) > 1 else "one curve")
        fixed = "".join(f", {p}={v:g}" for p, v in self.spec.fixed.items())
        return f"{self.spec.model} {what}{fixed}"

    def vcov(self, kind: str | None = None) -> np.ndarray:
        """The variance-covariance matrix: ``"drc"`` or ``"jacobian"`` (default: the spec's ``se``)."""
        kind = self.spec.se if kind is None else kind
        if kind == "drc":
            return self.vcov_drc
        if kind == "jacobian":
            return self.vcov_jacobian
        raise ValueError(f"vcov kind must be 'drc' or 'jacobian', got {kind!r}")

    def standard_errors(self, kind: str | None = None) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov(kind)))

    def curve_parameters_array(self) -> np.ndarray:
        """(K, 5) parameters b, c, d, e, f of every curve (fixed ones included)."""
        return self.layout.full(self.estimates)

    def curve_parameters(self) -> pd.DataFrame:
        """One row per curve: ``curve``, ``b``, ``c``, ``d``, ``e``, ``f`` (fixed values included)."""
        frame = pd.DataFrame(self.curve_parameters_array(), columns=list(PARAMETERS))
        frame.insert(0, "curve", list(self.curves))
        return frame

    def predict(self, x, curve: str | None = None) -> np.ndarray:
        """Fitted mean response at doses ``x`` for ``curve`` (required when there are several curves)."""
        if curve is None:
            if len(self.curves) > 1:
                raise ValueError(f"name the curve to predict; the fit has curves {list(self.curves)}")
            k = 0
        elif str(curve) in self.curves:
            k = self.curves.index(str(curve))
        else:
            raise ValueError(f"no curve {curve!r}; the fit has curves {list(self.curves)}")
        return self.dose_response_model.predict(np.asarray(x, dtype=float), self.curve_parameters_array()[k])

    def predict_interval(self, x, curve: str | None = None, *, confidence: float | None = None,
                         vcov: str | None = None) -> pd.DataFrame:
        """Fitted mean with a delta-method confidence interval (drc ``predict(..., interval="confidence")``):
        columns ``x``, ``prediction``, ``se``, ``lower``, ``upper``."""
        x = np.asarray(x, dtype=float)
        k = 0 if curve is None else list(self.curves).index(str(curve)) if str(curve) in self.curves else -1
        if k < 0 or (curve is None and len(self.curves) > 1):
            raise ValueError(f"name one of the curves {list(self.curves)}")
        pred, j5 = self.dose_response_model.evaluate(x, self.curve_parameters_array()[k], jacobian=True)
        G = np.zeros((x.size, len(self.estimates)))
        for j in range(5):
            pos = self.index[k, j]
            if pos >= 0:
                G[:, pos] += j5[..., j].reshape(-1)
        se = np.sqrt(np.einsum("ip,pq,iq->i", G, self.vcov(vcov), G))
        level = self.spec.confidence if confidence is None else confidence
        tq = stats.t.ppf(0.5 + level / 2, self.df_residual)
        pred = np.broadcast_to(pred, x.shape).reshape(-1)
        return pd.DataFrame({"x": x.reshape(-1), "prediction": pred, "se": se, "lower": pred - tq * se,
                             "upper": pred + tq * se})

    def lack_of_fit(self) -> NestedModelTest:
        """F-test of the fitted curve(s) against the one-way ANOVA model with a mean per (curve, dose) cell
        (drc ``modelFit``); needs replicates (more observations than cells)."""
        obs = self.observations
        cells = obs.groupby(["curve", "x"], sort=False)["y"]
        rss_anova = float(((obs["y"] - cells.transform("mean")) ** 2).sum())
        df_anova = len(obs) - cells.ngroups
        if df_anova <= 0:
            raise ValueError("the lack-of-fit test needs replicate observations (no residual df in the ANOVA model)")
        return nested_f_test(self.rss, self.df_residual, rss_anova, df_anova, reduced=self.description(),
                             full="one-way ANOVA on (curve, dose)")

    # ---------------------------------------------------------------------------------------- inference
    def ed(self, levels=None, *, type: str = "relative", curves=None, confidence=None, vcov=None) -> pd.DataFrame:
        """Effective doses (default: the spec's levels); see :func:`~.inference.effective_doses`."""
        levels = self.spec.ed_levels if levels is None else levels
        return effective_doses(self, levels, type=type, curves=curves, confidence=confidence, vcov=vcov)

    def relative_potency(self, levels=(50, 50), *, pairs=None, confidence=None, vcov=None) -> pd.DataFrame:
        """See :func:`~.inference.relative_potency`."""
        return relative_potency(self, levels, pairs=pairs, confidence=confidence, vcov=vcov)

    def compare_parameters(self, parameter: str = "e", operator: str = "/", *, pairs=None, confidence=None,
                           vcov=None) -> pd.DataFrame:
        """See :func:`~.inference.compare_parameters`."""
        return compare_parameters(self, parameter, operator, pairs=pairs, confidence=confidence, vcov=vcov)

    def prism_terms(self, vcov: str | None = None) -> pd.DataFrame:
        """Prism's terms per curve: Bottom (= c), Top (= d), LogEC50 (log10 of the relative ED50), HillSlope
        (= -b; for the Weibull models it is minus their shape b, not a Hill slope) and S (= f, LL.5 only),
        with delta-method SEs.  Prism: Y = Bottom + (Top - Bottom)/(1 + 10^((LogEC50 - X) HillSlope))^S."""
        V = self.vcov(vcov)
        ed50 = self.ed([50], vcov=vcov)
        rows = []
        for k, label in enumerate(self.curves):
            theta = self.curve_parameters_array()[k]
            terms = self.dose_response_model.prism_terms(theta)

            def se_of(j, k=k):
                pos = self.index[k, j]
                return float(np.sqrt(V[pos, pos])) if pos >= 0 else np.nan
            ses = {"Bottom": se_of(1), "Top": se_of(2), "HillSlope": se_of(0),
                   "LogEC50": float(ed50["se"].iloc[k] / (ed50["estimate"].iloc[k] * np.log(10))), "S": se_of(4)}
            for name, value in terms.items():
                rows.append({"curve": label, "term": name, "estimate": value, "se": ses[name]})
        return pd.DataFrame(rows, columns=["curve", "term", "estimate", "se"])

    def fit_statistics(self) -> pd.DataFrame:
        """One row: n, npar, rss, df_residual, residual_se, logLik, AIC, BIC."""
        return pd.DataFrame([self.statistics])

    def covariance_at(self, estimates, kind: str = "drc") -> np.ndarray:
        """The variance-covariance matrix evaluated at other parameter values (same layout and data), e.g. at
        the point where another program stopped, to compare standard errors computed the same way."""
        problem = _problem_of(self)
        return problem.covariances(np.asarray(estimates, dtype=float))[0 if kind == "drc" else 1]

    # ------------------------------------------------------------------------------------- CLI contract
    def record_body(self) -> dict[str, Any]:
        """The JSON contract of ``adcbridge fit dose-response``: ``{"model", "se_method", "curves": [{"curve",
        "params": {p: {"estimate", "se", "term"}}, "ed": {"50": {"estimate", "se", "ci_low", "ci_high",
        "interval", "ci_low_log", "ci_high_log"}}}], "rss", "df_residual", "parallelism": {...} | null,
        "relative_potency": [{"curve1", "curve2", "estimate", "se", "p", "delta"|"fieller"|"log": {"ci_low",
        "ci_high"}}]}`` (ED50 ratios of every curve pair, drc's EDcomp; empty for one curve) in drc's
        b, c, d, e[, f] parameterisation (fixed parameters have ``"se": null, "fixed": true``); ``"parameters"``
        is the parameter table (:meth:`parameters`) as a list of rows."""
        se = self.standard_errors()
        params = self.curve_parameters_array()
        fixed = self.layout.fixed_values
        interval = self.spec.ed_interval
        curves = []
        for k, label in enumerate(self.curves):
            entry: dict[str, Any] = {}
            for j, p in enumerate(PARAMETERS):
                pos = self.index[k, j]
                if pos >= 0:
                    entry[p] = {"estimate": _num(params[k, j]), "se": _num(se[pos]), "term": self.terms[pos]}
                elif p in self.spec.fixed or (p != "f" and np.isfinite(fixed[j])):
                    entry[p] = {"estimate": _num(params[k, j]), "se": None, "fixed": True}
            eds = {}
            for row in self.ed_table[self.ed_table["curve"] == label].itertuples():
                lo, hi = (row.ci_low, row.ci_high) if interval == "delta" else (row.ci_low_log, row.ci_high_log)
                eds[f"{row.level:g}"] = {"estimate": _num(row.estimate), "se": _num(row.se), "ci_low": _num(lo),
                                         "ci_high": _num(hi), "interval": interval,
                                         "ci_low_log": _num(row.ci_low_log), "ci_high_log": _num(row.ci_high_log)}
            curves.append({"curve": label, "params": entry, "ed": eds})
        par = None
        if self.parallelism is not None:
            par = {k: (_num(v) if isinstance(v, float) else v) for k, v in self.parallelism.to_dict().items()}
        potency = []
        if len(self.curves) > 1:
            rp = self.relative_potency()
            for (c1, c2), rows in rp.groupby(["curve1", "curve2"], sort=False):
                first = rows.iloc[0]
                potency.append({"curve1": c1, "curve2": c2, "estimate": _num(first["estimate"]),
                                "se": _num(first["se"]), "p": _num(first["p"]),
                                **{r["interval"]: {"ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"])}
                                   for r in rows.to_dict("records")}})
        return {"model": self.spec.model, "se_method": self.spec.se, "curves": curves, "rss": _num(self.rss),
                "df_residual": self.df_residual, "parallelism": par, "relative_potency": potency,
                "parameters": self.parameters()}


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None



def _problem_of(fit: DoseResponseFit) -> LeastSquaresProblem:
    obs = fit.observations
    codes = pd.Categorical(obs["curve"].astype(str), categories=list(fit.curves)).codes.astype(np.intp)
    return LeastSquaresProblem(fit.layout, obs["x"].to_numpy(float), obs["y"].to_numpy(float), codes)
