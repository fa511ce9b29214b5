"""Frozen results of kinetics and steady-state affinity fits, with the command-line JSON contract."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from adcbridge.fitting import FitResult
from adcbridge.results import Result

__all__ = ["KineticsResult", "SteadyStateResult"]


def _num(v) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None      # JSON has no nan/inf: an undetermined value is null


def _row(table: pd.DataFrame, parameter: str, cycle=None) -> pd.Series:
    rows = table[table["parameter"] == parameter]
    if cycle is not None:
        rows = rows[rows["cycle"] == cycle]
    if rows.empty:
        raise KeyError(f"no parameter {parameter!r}" + (f" for cycle {cycle!r}" if cycle is not None else ""))
    if len(rows) > 1:
        raise KeyError(f"parameter {parameter!r} is estimated per cycle; name the cycle")
    return rows.iloc[0]


def _label(name, cycle, injection) -> str:
    """The name of a parameter in the ``vcov`` table: ``Rmax[cycle]``, ``RI[cycle:injection]``, ``drift``."""
    if cycle is None or (not isinstance(cycle, str) and pd.isna(cycle)):
        return name
    if injection is None or (not isinstance(injection, str) and pd.isna(injection)):
        return f"{name}[{cycle}]"
    return f"{name}[{cycle}:{int(injection)}]"


def _table_rows(table: pd.DataFrame, df: float, keys: tuple[str, ...]) -> pd.DataFrame:
    """The parameter rows of a kinetics or steady-state table: t intervals on ``df`` residual df, on the log
    scale where ``ci_scale`` says so (rate constants, KD)."""
    out = table[[*keys, "parameter", "estimate", "se"]].rename(columns={"parameter": "term"})
    out["df"] = float(df)
    out["scale"] = table["ci_scale"].to_numpy()
    out["unit"] = table["unit"].to_numpy()
    return out


@dataclass(frozen=True, eq=False)
class KineticsResult(Result, FitResult):
    """A global fit of a binding model to SPR/BLI sensorgrams.

    ``table`` has one row per parameter: ``parameter`` (ka, kd, KD, kt, Rmax, RI, drift), ``cycle`` and
    ``injection`` (for local parameters; missing for global ones), ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``ci_scale`` (``log`` for the rate constants and KD, whose intervals are exp(ln x -/+ t SE(ln x));
    ``linear`` for the others) and ``unit``.  ``fitted`` lists every sample with its fitted value and residual;
    ``vcov`` is the covariance of the natural-scale parameters (column ``parameter`` names the rows).
    ``chi2`` is RSS/(n - p) (BIAevaluation's Chi2, in response units squared); ``flags`` are the codes of the
    warnings in ``issues``.

    ``parameters(level)`` (see :class:`~adcbridge.fitting.FitResult`): ``cycle, injection, term`` and the
    intervals at any level -- ``log_wald_t`` for ka, kd, kt and KD (exp(ln x -/+ t SE(ln x)), as ``table``),
    ``wald_t`` for the others, t on ``df_residual``.  ``cov_params()`` comes from the stored ``vcov`` (KD's rows
    by the delta method, dKD = dkd/ka - KD dka/ka)."""

    model: str = "langmuir_1to1"
    n: int = 0
    n_parameters: int = 0
    df_residual: int = 0
    rss: float = math.nan
    chi2: float = math.nan
    residual_sd: float = math.nan
    corr_ka_kd: float = math.nan
    converged: bool = False
    flags: tuple[str, ...] = ()
    fitted: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None
    injections: pd.DataFrame | None = None

    result_type: ClassVar[str] = "KineticsResult"
    fit_keys: ClassVar[tuple[str, ...]] = ("cycle", "injection")

    def _parameter_rows(self) -> pd.DataFrame:
        return _table_rows(self.table, self.df_residual, self.fit_keys)

    def _covariance(self, rows: np.ndarray) -> np.ndarray:
        if self.vcov is None:
            return super()._covariance(rows)
        t = self.table
        names = [str(n) for n in self.vcov["parameter"]]
        V = self.vcov[names].to_numpy(dtype=float)
        # every row of the table as a combination of the vcov's parameters (KD = kd/ka by the delta method)
        pos = {n: i for i, n in enumerate(names)}
        combos: list[list[tuple[int, float]] | None] = []
        for name, cycle, injection in zip(t["parameter"], t["cycle"], t["injection"]):
            if name == "KD":
                ka, kd = self.estimate("ka"), self.estimate("kd")
                combos.append([(pos["ka"], -kd / ka ** 2), (pos["kd"], 1.0 / ka)])
            else:
                key = _label(name, cycle, injection)
                combos.append([(pos[key], 1.0)] if key in pos else None)
        out = np.full((rows.size, rows.size), np.nan)
        for a, ra in enumerate(rows):
            for b, rb in enumerate(rows):
                if combos[ra] is not None and combos[rb] is not None:
                    out[a, b] = sum(ca * cb * V[ia, ib] for ia, ca in combos[ra] for ib, cb in combos[rb])
        return out

    def estimate(self, parameter: str, cycle=None) -> float:
        """The estimate of one parameter (``cycle`` for a local one)."""
        return float(_row(self.table, parameter, cycle)["estimate"])

    @property
    def ka(self) -> float:
        return self.estimate("ka")

    @property
    def kd(self) -> float:
        return self.estimate("kd")

    @property
    def KD(self) -> float:
        return self.estimate("KD")

    def record_body(self) -> dict[str, Any]:
        """The JSON of ``adcbridge fit kinetics --format json``: ``ka``/``kd`` (and ``kt`` for the mass-transport
        model) as ``{"estimate", "se"}``, ``KD`` with its (log-scale) CI, ``rmax`` (a number, or one per cycle
        in cycle order for a local Rmax), ``chi2`` and ``flags``.  Non-finite values (the SE or CI of a parameter
        the data do not determine) are ``None`` (JSON null); the fit is then flagged ``non_identifiable``."""
        t = self.table

        def est_se(name):
            r = _row(t, name)
            return {"estimate": _num(r["estimate"]), "se": _num(r["se"])}

        kd_row = _row(t, "KD")
        rmax = t[t["parameter"] == "Rmax"]["estimate"].tolist()
        out: dict[str, Any] = {"ka": est_se("ka"), "kd": est_se("kd"),
                               "KD": {"estimate": _num(kd_row["estimate"]), "se": _num(kd_row["se"]),
                                      "ci_low": _num(kd_row["ci_low"]), "ci_high": _num(kd_row["ci_high"])}}
        if (t["parameter"] == "kt").any():
            out["kt"] = est_se("kt")
        out["rmax"] = _num(rmax[0]) if len(rmax) == 1 and pd.isna(t[t["parameter"] == "Rmax"]["cycle"].iloc[0]) \
            else [_num(v) for v in rmax]
        out["chi2"] = _num(self.chi2)
        out["flags"] = list(self.flags)
        return out


@dataclass(frozen=True, eq=False)
class SteadyStateResult(Result, FitResult):
    """Steady-state affinity: ``table`` has KD (M), Rmax and (optionally) offset with SE and CI (log scale for
    KD); ``points`` the report points with fitted values and residuals.

    ``parameters(level)``: ``term`` KD (``log_wald_t``), Rmax, offset (``wald_t``), t on ``df_residual``.  The fit
    stores standard errors only, so ``cov_params()`` has the squared SEs on its diagonal and NaN elsewhere."""

    n: int = 0
    df_residual: int = 0
    rss: float = math.nan
    chi2: float = math.nan
    converged: bool = False
    flags: tuple[str, ...] = ()
    points: pd.DataFrame | None = None

    result_type: ClassVar[str] = "SteadyStateResult"

    def _parameter_rows(self) -> pd.DataFrame:
        return _table_rows(self.table, self.df_residual, ())

    def estimate(self, parameter: str) -> float:
        return float(_row(self.table, parameter)["estimate"])

    @property
    def KD(self) -> float:
        return self.estimate("KD")

    def record_body(self) -> dict[str, Any]:
        """``{"KD": {"estimate", "se", "ci_low", "ci_high"}, "rmax": {"estimate", "se"}, "chi2", "flags"}``."""
        kd, rmax = _row(self.table, "KD"), _row(self.table, "Rmax")
        return {"KD": {"estimate": _num(kd["estimate"]), "se": _num(kd["se"]), "ci_low": _num(kd["ci_low"]),
                       "ci_high": _num(kd["ci_high"])},
                "rmax": {"estimate": _num(rmax["estimate"]), "se": _num(rmax["se"])},
                "chi2": _num(self.chi2), "flags": list(self.flags)}
