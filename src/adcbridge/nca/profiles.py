"""Concentration-time profiles as padded arrays (one row per profile), built from a long table.

A profile is one subject x analyte (x any grouping columns).  Building checks the data and names the subject,
the row (1-based data row of the table) and the column of every problem:

* required columns present; times and concentrations numeric (concentrations may be missing: NaN);
* no negative concentration, no missing time;
* times strictly increasing within a profile (duplicate or unsorted times are errors -- a profile must be
  given in time order);
* one dose, route and infusion duration per profile; doses > 0.

Below-the-limit (BLQ) samples are marked by a BLQ flag column, by concentration 0, or by concentration < LLOQ
when an LLOQ column is given.  Their handling is decided later (:mod:`.blq`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Profiles", "build_profiles", "ROUTES"]

ROUTES = ("extravascular", "iv-bolus", "iv-infusion")
_ROUTE_ALIASES = {
    "ev": "extravascular", "extravascular": "extravascular", "oral": "extravascular", "sc": "extravascular",
    "po": "extravascular", "iv-bolus": "iv-bolus", "bolus": "iv-bolus", "iv bolus": "iv-bolus",
    "iv-infusion": "iv-infusion", "infusion": "iv-infusion", "iv infusion": "iv-infusion", "inf": "iv-infusion",
}


def normalise_route(value: str) -> str:
    """One of :data:`ROUTES` from common spellings ('IV infusion', 'bolus', 'EV', 'oral', ...)."""
    key = str(value).strip().lower().replace("_", "-")
    if key not in _ROUTE_ALIASES:
        raise ValueError(f"unknown route {value!r}: use one of {', '.join(ROUTES)}")
    return _ROUTE_ALIASES[key]


@dataclass(frozen=True)
class Profiles:
    """Padded profile arrays (P profiles x M samples; NaN beyond a profile's samples).

    ``keys`` has one row per profile (grouping columns, subject, analyte); ``time``/``conc`` hold the samples in
    time order (``conc`` NaN where missing); ``blq`` marks BLQ samples; ``row`` the 1-based data row of each
    sample; ``dose`` (NaN when none), ``route`` and ``duration`` are per profile.
    """

    keys: pd.DataFrame
    time: np.ndarray
    conc: np.ndarray
    blq: np.ndarray
    row: np.ndarray
    dose: np.ndarray
    route: np.ndarray
    duration: np.ndarray

    @property
    def n_profiles(self) -> int:
        return self.time.shape[0]

    def label(self, p: int) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.keys.iloc[p].items())


def _numeric(df: pd.DataFrame, column: str, allow_missing: bool) -> np.ndarray:
    raw = df[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=float)
        if not allow_missing and np.isnan(values).any():
            i = int(np.flatnonzero(np.isnan(values))[0])
            raise ValueError(f"row {i + 1}, column '{column}': missing value")
        return values
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & (raw.notna() if allow_missing else True)
    if allow_missing:
        bad &= raw.astype(str).str.strip().ne("") & raw.astype(str).str.upper().ne("NA")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"row {i + 1}, column '{column}': not a number ({raw.iloc[i]!r})")
    return values.to_numpy(dtype=float)


BLQ_TRUE = {"1", "1.0", "TRUE", "T", "Y", "YES", "BLQ", "BQL", "BLOQ", "<LLOQ", "<LOQ", "LLOQ", "ND", "NQ"}
BLQ_FALSE = {"0", "0.0", "FALSE", "F", "N", "NO", "", "NAN", "NONE", "NA", "ALQ"}


def _blq_flags(data: pd.DataFrame, column: str) -> np.ndarray:
    """BLQ flag column -> bool; unknown values are errors naming the row (accepted: see BLQ_TRUE / BLQ_FALSE)."""
    text = data[column].astype(str).str.strip().str.upper()
    known = text.isin(BLQ_TRUE | BLQ_FALSE) | data[column].isna()
    if not known.all():
        i = int(np.flatnonzero(~known.to_numpy())[0])
        raise ValueError(f"row {i + 1}, column '{column}': BLQ flag {data[column].iloc[i]!r} is neither a BLQ code "
                         f"({', '.join(sorted(BLQ_TRUE))}) nor a 'measurable' code ({', '.join(sorted(BLQ_FALSE - {''}))})")
    return text.isin(BLQ_TRUE).to_numpy()


def build_profiles(df: pd.DataFrame, *, subject: str, time: str, conc: str, analyte: str | None = None,
                   groups: list[str] | tuple[str, ...] = (), dose: str | None = None, blq: str | None = None,
                   lloq: str | None = None, route: str | None = None, duration: str | None = None,
                   default_route: str = "extravascular", default_duration: float = 0.0) -> Profiles:
    """Split a long table into profiles (see the module docstring).  Column arguments name columns of ``df``;
    ``route``/``duration`` may be columns, else ``default_route``/``default_duration`` apply to every profile."""
    if df.empty:
        raise ValueError("the concentration table has no rows")
    needed = [subject, time, conc, *groups] + [c for c in (analyte, dose, blq, lloq, route, duration) if c]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the table has {list(df.columns)}")
    data = df.reset_index(drop=True)
    t = _numeric(data, time, allow_missing=False)
    c = _numeric(data, conc, allow_missing=True)
    neg = np.flatnonzero(c < 0)
    if neg.size:
        i = int(neg[0])
        raise ValueError(f"row {i + 1}, column '{conc}': negative concentration {c[i]:g} "
                         f"(subject {data[subject].iloc[i]})")
    flag = np.zeros(len(data), dtype=bool)
    if blq:
        flag |= _blq_flags(data, blq)
    if lloq:
        limit = _numeric(data, lloq, allow_missing=True)
        flag |= np.isfinite(limit) & np.isfinite(c) & (c < limit)
    flag |= c == 0
    key_cols = [*groups, subject] + ([analyte] if analyte else [])
    key_cols = list(dict.fromkeys(key_cols))
    grouped = data.groupby(key_cols, sort=False, dropna=False)
    pid = grouped.ngroup().to_numpy()
    P = int(pid.max()) + 1
    order = np.lexsort((np.arange(len(data)), pid))            # stable by profile, original order within
    pos = np.empty(len(data), dtype=np.int64)
    counts = np.bincount(pid, minlength=P)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos[order] = np.arange(len(data)) - np.repeat(starts, counts)
    M = int(counts.max())
    T = np.full((P, M), np.nan)
    C = np.full((P, M), np.nan)
    B = np.zeros((P, M), dtype=bool)
    R = np.full((P, M), -1, dtype=np.int64)
    T[pid, pos], C[pid, pos], B[pid, pos], R[pid, pos] = t, c, flag, np.arange(len(data)) + 1
    keys = grouped.size().reset_index()[key_cols]
    diffs = np.diff(T, axis=1)
    bad = np.argwhere(diffs <= 0)
    if bad.size:
        p, j = bad[0]
        what = "duplicate time" if diffs[p, j] == 0 else "time earlier than the previous sample (unsorted)"
        raise ValueError(f"row {R[p, j + 1]}, column '{time}': {what} {T[p, j + 1]:g} in the profile of "
                         f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())}")

    def per_profile(column: str | None, default, parse=None):
        if column is None:
            return np.array([default] * P, dtype=object if isinstance(default, str) else float)
        first = data.groupby(pid)[column].agg(["first", "nunique"])
        multi = np.flatnonzero(first["nunique"].to_numpy() > 1)
        if multi.size:
            raise ValueError(f"column '{column}': more than one value in the profile of "
                             f"{', '.join(f'{k}={v}' for k, v in keys.iloc[int(multi[0])].items())}")
        vals = first["first"].to_numpy()
        return np.array([parse(v) for v in vals], dtype=object) if parse else vals

    dose_arr = np.full(P, np.nan)
    if dose:
        d = _numeric(data, dose, allow_missing=True)
        dd = pd.Series(d).groupby(pid)
        if (dd.nunique() > 1).any():
            p = int(np.flatnonzero((dd.nunique() > 1).to_numpy())[0])
            raise ValueError(f"column '{dose}': more than one dose in the profile of "
                             f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())} (use the multiple-dose "
                             f"analysis)")
        dose_arr = dd.first().to_numpy(dtype=float)
        negative = np.flatnonzero(dose_arr < 0)
        if negative.size:
            i = int(np.flatnonzero((pid == negative[0]) & (d < 0))[0])
            raise ValueError(f"row {i + 1}, column '{dose}': dose must be >= 0 (got {d[i]:g}; 0 marks a control)")
    try:
        routes = per_profile(route, normalise_route(default_route), parse=normalise_route)
    except ValueError as exc:
        if route is None:
            raise
        bad = data[route].astype(str).str.strip().str.lower().str.replace("_", "-").map(
            lambda v: v not in _ROUTE_ALIASES)
        i = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
        raise ValueError(f"row {i + 1}, column '{route}': {exc}") from None
    dur = per_profile(duration, float(default_duration))
    dur = np.asarray(pd.to_numeric(pd.Series(dur), errors="coerce"), dtype=float)
    dur = np.where(routes == "iv-infusion", dur, np.where(np.isfinite(dur), dur, 0.0))   # blank for non-infusions
    if np.any(~np.isfinite(dur) | (dur < 0)):
        p = int(np.flatnonzero(~np.isfinite(dur) | (dur < 0))[0])
        raise ValueError(f"column '{duration or 'duration'}': infusion duration must be >= 0 in the profile of "
                         f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())}")
    routes = routes.astype(object)
    inf_no_dur = np.flatnonzero((routes == "iv-infusion") & (dur <= 0))
    if inf_no_dur.size:
        p = int(inf_no_dur[0])
        raise ValueError(f"route iv-infusion needs an infusion duration > 0 (profile of "
                         f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())})")
    return Profiles(keys=keys, time=T, conc=C, blq=B, row=R, dose=dose_arr, route=routes, duration=dur)
