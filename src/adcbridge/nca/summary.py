"""Descriptive statistics of NCA parameters as PK reports show them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["describe"]


def _stats(x: pd.Series) -> pd.Series:
    v = x.dropna().to_numpy(dtype=float)
    n = v.size
    mean = v.mean() if n else np.nan
    sd = v.std(ddof=1) if n > 1 else np.nan
    pos = v[v > 0]
    if pos.size == n and n:
        logs = np.log(pos)
        gmean = float(np.exp(logs.mean()))
        sdl = logs.std(ddof=1) if n > 1 else np.nan
        gcv = 100 * np.sqrt(np.expm1(sdl ** 2)) if n > 1 else np.nan
    else:
        gmean = gcv = np.nan
    return pd.Series({
        "N": n, "mean": mean, "SD": sd, "CV%": 100 * sd / mean if n > 1 and mean != 0 else np.nan,
        "geometric_mean": gmean, "geometric_CV%": gcv,
        "median": np.median(v) if n else np.nan, "min": v.min() if n else np.nan, "max": v.max() if n else np.nan,
    })


def describe(long: pd.DataFrame, by: list[str], value: str = "PPSTRESN") -> pd.DataFrame:
    """N, mean, SD, CV%, geometric mean, geometric CV% (sqrt(exp(s^2) - 1) of the log values; only when every
    value is > 0), median, min and max of ``value`` per group of ``by`` columns (missing values left out)."""
    missing = [c for c in by if c not in long.columns]
    if missing:
        raise ValueError(f"cannot summarise by {missing}: the table has {list(long.columns)}")
    out = long.groupby(by, sort=False, dropna=False)[value].apply(_stats).unstack()
    out["N"] = out["N"].astype(int)
    return out.reset_index()
