"""Concentration-time profiles as padded arrays (one row per profile), built from a long table.

A profile is one subject x analyte (x any grouping columns).  Building checks the data and names the subject,
the row and the column of every problem, in the one message shape of :mod:`adcbridge.validation` (the file's
line number for a table read from a file, else the 1-based data row)::

    conc.csv: column 'CONC', line 14 (ID 'SD001'): expected a number >= 0, got '-3.1'


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

from adcbridge import validation

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


BLQ_TRUE = {"1", "1.0", "TRUE", "T", "Y", "YES", "BLQ", "BQL", "BLOQ", "<LLOQ", "<LOQ", "LLOQ", "ND", "NQ"}
BLQ_FALSE = {"0", "0.0", "FALSE", "F", "N", "NO", "", "NAN", "NONE", "NA", "ALQ"}


def _blq_flags(data: pd.DataFrame, column: str, key: list[str]) -> np.ndarray:
    """BLQ flag column -> bool; unknown values are errors naming the row (accepted: see BLQ_TRUE / BLQ_FALSE)."""
    text = data[column].astype(str).str.strip().str.upper()
    known = text.isin(BLQ_TRUE | BLQ_FALSE) | data[column].isna()
    validation.fail_first(data, column, ~known.to_numpy(), f"a BLQ code ({', '.join(sorted(BLQ_TRUE))}) or a "
                          f"'measurable' code ({', '.join(sorted(BLQ_FALSE - {''}))})", key=key)
    return text.isin(BLQ_TRUE).to_numpy()


def build_profiles(df: pd.DataFrame, *, subject: str, time: str, conc: str, analyte: str | None = None,
                   groups: list[str] | tuple[str, ...] = (), dose: str | None = None, blq: str | None = None,
                   lloq: str | None = None, route: str | None = None, duration: str | None = None,
                   default_route: str = "extravascular", default_duration: float = 0.0) -> Profiles:
    """Split a long table into profiles (see the module docstring).  Column arguments name columns of ``df``;
    ``route``/``duration`` may be columns, else ``default_route``/``default_duration`` apply to every profile."""
    needed = [subject, time, conc, *groups] + [c for c in (analyte, dose, blq, lloq, route, duration) if c]
    validation.require_columns(df, needed)
    if df.empty:
        raise validation.table_error(df, "the concentration table has no rows")
    key_cols = [*groups, subject] + ([analyte] if analyte else [])
    key_cols = list(dict.fromkeys(key_cols))
    data = df.reset_index(drop=True)           # positions as in df: errors are reported on df (its lines)
    t = validation.numeric_column(df, time, key=subject)
    c = validation.numeric_column(df, conc, min=0, allow_missing=True, key=subject)
    flag = np.zeros(len(data), dtype=bool)
    if blq:
        flag |= _blq_flags(df, blq, [subject])
    if lloq:
        limit = validation.numeric_column(df, lloq, min=0, allow_missing=True, key=subject)
        flag |= np.isfinite(limit) & np.isfinite(c) & (c < limit)
    flag |= c == 0
    validation.sorted_within(df, key_cols, time, t)
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

    def per_profile(column: str | None, default, parse=None):
        if column is None:
            return np.array([default] * P, dtype=object if isinstance(default, str) else float)
        validation.constant_within(df, key_cols, column, what="one value per profile")
        vals = data.groupby(pid)[column].first().reindex(range(P)).to_numpy()
        return np.array([parse(v) for v in vals], dtype=object) if parse else vals

    dose_arr = np.full(P, np.nan)
    if dose:
        d = validation.numeric_column(df, dose, min=0, allow_missing=True, key=subject)
        validation.constant_within(df, key_cols, dose, d, what="one dose per profile; for several doses use the "
                                                              "multiple-dose analysis")
        dose_arr = pd.Series(d).groupby(pid).first().reindex(range(P)).to_numpy(dtype=float)
    if route:
        unknown = data[route].astype(str).str.strip().str.lower().str.replace("_", "-").map(
            lambda v: v not in _ROUTE_ALIASES).to_numpy(dtype=bool)
        validation.fail_first(df, route, unknown, f"a route ({', '.join(ROUTES)}, or EV, oral, bolus, infusion, ...)",
                              key=subject)
    routes = per_profile(route, normalise_route(default_route), parse=normalise_route)
    if duration:
        validation.numeric_column(df, duration, min=0, allow_missing=True, key=subject)
    dur = per_profile(duration, float(default_duration))
    dur = np.asarray(pd.to_numeric(pd.Series(dur), errors="coerce"), dtype=float)
    dur = np.where(routes == "iv-infusion", dur, np.where(np.isfinite(dur), dur, 0.0))   # blank for non-infusions
    routes = routes.astype(object)
    inf_no_dur = np.flatnonzero((routes == "iv-infusion") & ~(dur > 0))
    if inf_no_dur.size and duration:
        pos = int(np.flatnonzero(pid == inf_no_dur[0])[0])
        raise validation.cell_error(df, duration, pos, "an infusion duration > 0 (the route is iv-infusion)",
                                    key=key_cols)
    if np.any(~np.isfinite(dur) | (dur < 0)):
        p = int(np.flatnonzero(~np.isfinite(dur) | (dur < 0))[0])
        raise ValueError(f"infusion duration must be >= 0 in the profile of "
                         f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())}")
    if inf_no_dur.size:
        p = int(inf_no_dur[0])
        raise ValueError(f"route iv-infusion needs an infusion duration > 0 (profile of "
                         f"{', '.join(f'{k}={v}' for k, v in keys.iloc[p].items())})")
    with np.errstate(invalid="ignore"):
        last = np.array([np.nanmax(t) if np.isfinite(t).any() else np.nan for t in np.asarray(T, dtype=float)])
    past = np.flatnonzero((routes == "iv-infusion") & (dur > last))
    if past.size:                          # a time past the data: MRT and the post-infusion phase are undefined
        p = int(past[0])
        where = ", ".join(f"{k}={v}" for k, v in keys.iloc[p].items())
        raise ValueError(f"the infusion duration {dur[p]:g} ends after the last sample ({last[p]:g}) of the profile "
                         f"of {where}: no sample follows the end of the infusion (MRT would come out negative); "
                         f"check the duration and its unit (the times' unit)")
    return Profiles(keys=keys, time=T, conc=C, blq=B, row=R, dose=dose_arr, route=routes, duration=dur)
