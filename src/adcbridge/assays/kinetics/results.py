"""Frozen results of kinetics and steady-state affinity fits, with the command-line JSON contract."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

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


@dataclass(frozen=True, eq=False)
class KineticsResult(Result):
    """A global fit of a binding model to SPR/BLI sensorgrams.

    ``table`` has one row per parameter: ``parameter`` (ka, kd, KD, kt, Rmax, RI, drift), ``cycle`` and
    ``injection`` (for local parameters; missing for global ones), ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``ci_scale`` (``log`` for the rate constants and KD, whose intervals are exp(ln x -/+ t SE(ln x));
    ``linear`` for the others) and ``unit``.  ``fitted`` lists every sample with its fitted value and residual;
    ``vcov`` is the covariance of the natural-scale parameters (column ``parameter`` names the rows).
    ``chi2`` is RSS/(n - p) (BIAevaluation's Chi2, in response units squared); ``flags`` are the codes of the
    warnings in ``issues``."""

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
class SteadyStateResult(Result):
    """Steady-state affinity: ``table`` has KD (M), Rmax and (optionally) offset with SE and CI (log scale for
    KD); ``points`` the report points with fitted values and residuals."""

    n: int = 0
    df_residual: int = 0
    rss: float = math.nan
    chi2: float = math.nan
    converged: bool = False
    flags: tuple[str, ...] = ()
    points: pd.DataFrame | None = None

    result_type: ClassVar[str] = "SteadyStateResult"

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
