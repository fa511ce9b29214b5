"""Tumour volumes per animal over time: the validated long table (group, animal, day, volume) that every
xenograft analysis starts from, the humane-endpoint rule and the per-group summaries.

Every check names the animal, the column and (where there is one) the row, in the one message shape of
:mod:`adcbridge.validation`; nothing is analysed from data that failed a check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adcbridge import validation

__all__ = ["TumourVolumes", "tumour_volumes", "group_summary", "log_volume", "relative_volumes"]


@dataclass(frozen=True)
class TumourVolumes:
    """Validated tumour volumes.

    ``table`` has the columns ``group, animal, day, volume`` (str, str, float, float), sorted by group (in order
    of first appearance), animal (likewise) and day.  ``baseline`` has one row per animal (``group, animal, V0``)
    at ``baseline_day``.  ``dropped`` holds the measurements removed by the humane-endpoint rule, ``left_study``
    the animals whose follow-up ended at the humane endpoint before the end of the study."""

    table: pd.DataFrame
    groups: tuple[str, ...]
    baseline_day: float
    baseline: pd.DataFrame
    dropped: pd.DataFrame
    left_study: tuple[str, ...]
    humane_endpoint: float | None = None
    source_columns: tuple[str, str, str, str] = ("group", "animal", "day", "volume")

    def column(self, role: str) -> str:
        """The input table's name of ``role`` (``group``, ``animal``, ``day`` or ``volume``), for messages."""
        return self.source_columns[("group", "animal", "day", "volume").index(role)]

    @property
    def days(self) -> np.ndarray:
        return np.unique(self.table["day"].to_numpy())

    def group_of(self, animal: str) -> str:
        return str(self.baseline.loc[self.baseline["animal"] == animal, "group"].iloc[0])

    def ordered_groups(self, control: str | None) -> tuple[str, ...]:
        """The groups with ``control`` first (the order of every comparison table)."""
        if control is None:
            return self.groups
        require_control(self, control)
        return (control,) + tuple(g for g in self.groups if g != control)

    def at_day(self, day: float, carry_forward: bool = False) -> pd.DataFrame:
        """The rows of ``day`` (``group, animal, day, volume, V0``); with ``carry_forward``, animals whose
        measurements stopped earlier (and are otherwise absent at ``day``) contribute their last volume."""
        tab = self.table
        rows = tab[tab["day"] == day]
        if carry_forward:
            later = tab[tab["day"] <= day]
            last = later.groupby("animal", sort=False).tail(1)
            ended = set(tab.groupby("animal", sort=False)["day"].max().loc[lambda s: s < day].index)
            extra = last[last["animal"].isin(ended)].assign(day=day)
            rows = pd.concat([rows, extra])
            order = {a: i for i, a in enumerate(self.baseline["animal"])}
            rows = rows.sort_values("animal", key=lambda s: s.map(order), kind="stable")
        v0 = dict(zip(self.baseline["animal"], self.baseline["V0"]))
        return rows.assign(V0=rows["animal"].map(v0).astype(float)).reset_index(drop=True)


def require_control(volumes: TumourVolumes, control: str | None) -> str:
    """``control`` if it is one of the groups; a ValueError naming the group column otherwise."""
    if control is None:
        raise ValueError(f"this analysis compares groups with a control: name the control group with control= "
                         f"(groups: {list(volumes.groups)})")
    if control not in volumes.groups:
        raise ValueError(f"control group {control!r} is not in column {volumes.column('group')!r} (groups: "
                         f"{list(volumes.groups)})")
    return control


TABLE = "the tumour volume table"


def _labels(data: pd.DataFrame, column: str, what: str) -> pd.Series:
    return validation.label_column(data, column, what=what, table=TABLE).astype(str).reset_index(drop=True)


def tumour_volumes(data: pd.DataFrame, *, group: str = "group", animal: str = "animal", day: str = "day",
                   volume: str = "volume", baseline_day: float | None = None,
                   humane_endpoint: float | None = None) -> TumourVolumes:
    """Validate a long table of tumour volumes (one row per animal and measurement day).

    Checks, each a ValueError naming the column, animal and row: the columns exist; group and animal labels are
    present; day and volume are finite numbers; no volume is negative; each animal belongs to one group; each
    animal's days are strictly increasing in the order given (a repeated day or a day before the previous one is
    an error, not silently re-sorted); every animal has a volume at the baseline day (default: the first day of
    the study).  With ``humane_endpoint``, measurements after an animal's first volume above it are dropped.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": "A", "animal": ["m1"] * 3, "day": [0, 7, 14], "volume": [100.0, 200, 400]})
    >>> tumour_volumes(df).baseline["V0"].tolist()
    [100.0]
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"tumour volumes must be a pandas DataFrame, got {type(data).__name__}")
    validation.require_columns(data, [group, animal, day, volume], table=TABLE)
    if len(data) == 0:
        raise validation.table_error(data, "the tumour volume table is empty")
    grp = _labels(data, group, "a group label")
    ani = _labels(data, animal, "an animal label")
    d = validation.numeric_column(data, day, table=TABLE, key=animal)
    v = validation.numeric_column(data, volume, min=0, table=TABLE, key=animal)
    validation.constant_within(data, animal, group, grp.to_numpy(), what="one group per animal", table=TABLE)
    validation.sorted_within(data, animal, day, d, table=TABLE)
    table = pd.DataFrame({"group": grp, "animal": ani, "day": d, "volume": v, "_row": np.arange(len(data))})
    groups = tuple(pd.unique(grp))
    animals = tuple(pd.unique(ani))
    table["_g"] = table["group"].map({g: i for i, g in enumerate(groups)})
    table["_a"] = table["animal"].map({a: i for i, a in enumerate(animals)})
    table = table.sort_values(["_g", "_a", "day"], kind="stable").drop(columns=["_g", "_a"]).reset_index(drop=True)
    base_day = float(table["day"].min()) if baseline_day is None else float(baseline_day)
    first = table.groupby("animal", sort=False).head(1)
    late = first[first["day"] != base_day]
    if len(late):
        raise validation.cell_error(data, day, int(late["_row"].iloc[0]), f"the baseline day {base_day:g} as the "
                                    f"animal's first day (every animal needs V0)", key=animal, table=TABLE)
    zero = first[first["volume"] <= 0]
    if len(zero):
        raise validation.cell_error(data, volume, int(zero["_row"].iloc[0]), "a baseline volume > 0 (relative "
                                    "volumes need V0 > 0)", key=animal, table=TABLE)
    table = table.drop(columns="_row")
    first = first.drop(columns="_row")
    dropped = table.iloc[0:0]
    left: tuple[str, ...] = ()
    if humane_endpoint is not None:
        above = (table["volume"] > humane_endpoint).astype(int)
        after = (above.groupby(table["animal"], sort=False).cumsum() - above) > 0   # an earlier volume was above
        dropped = table[after].reset_index(drop=True)
        table = table[~after].reset_index(drop=True)
        end = table["day"].max()
        last = table.groupby("animal", sort=False).tail(1)
        left = tuple(last.loc[(last["volume"] > humane_endpoint) & (last["day"] < end), "animal"])
    baseline = first[["group", "animal"]].assign(V0=first["volume"].to_numpy()).reset_index(drop=True)
    return TumourVolumes(table=table, groups=groups, baseline_day=base_day, baseline=baseline, dropped=dropped,
                         left_study=left, humane_endpoint=humane_endpoint,
                         source_columns=(group, animal, day, volume))


def log_volume(volumes: np.ndarray, floor: float | None, animals=None, days=None, column: str = "volume"
               ) -> np.ndarray:
    """ln V, with volumes below ``floor`` raised to it; without a floor a zero volume is a ValueError naming the
    ``column``, animal and day."""
    v = np.asarray(volumes, dtype=float)
    if floor is not None:
        return np.log(np.maximum(v, floor))
    zero = np.flatnonzero(v <= 0)
    if zero.size:
        i = int(zero[0])
        where = "" if animals is None else f" (animal {animals[i]!r}, day {days[i]:g})"
        raise ValueError(f"column {column!r}: a volume of 0{where} has no logarithm; set a volume floor "
                         f"(volume_floor=, --volume-floor; e.g. the smallest measurable volume) to analyse log "
                         f"volumes")
    return np.log(v)


def _geomean(x: np.ndarray) -> float:
    return 0.0 if np.any(x <= 0) else float(np.exp(np.mean(np.log(x))))


def group_summary(volumes: TumourVolumes, *, carry_forward: bool = False) -> pd.DataFrame:
    """n, mean, SD, SEM, median and geometric mean of the volume per group and day (the animals measured that
    day; with ``carry_forward`` also those carried forward).  SD and SEM are missing when n = 1."""
    rows = []
    for day in volumes.days:
        at = volumes.at_day(day, carry_forward)
        for g in volumes.groups:
            x = at.loc[at["group"] == g, "volume"].to_numpy()
            if x.size == 0:
                continue
            sd = float(np.std(x, ddof=1)) if x.size > 1 else np.nan
            rows.append({"group": g, "day": float(day), "n": int(x.size), "mean": float(np.mean(x)), "sd": sd,
                         "sem": sd / np.sqrt(x.size), "median": float(np.median(x)), "geomean": _geomean(x)})
    out = pd.DataFrame(rows)
    order = {g: i for i, g in enumerate(volumes.groups)}
    return out.sort_values(["group", "day"], key=lambda s: s.map(order) if s.name == "group" else s,
                           kind="stable").reset_index(drop=True)


def relative_volumes(volumes: TumourVolumes, floor: float | None = None) -> pd.DataFrame:
    """The measurements after the baseline day with ``V0``, ``rtv`` = V / V0 and ``log_rtv`` = ln(V / V0) (the
    response of SynergyLMM's exponential model)."""
    tab = volumes.table
    sub = tab[tab["day"] > volumes.baseline_day].reset_index(drop=True)
    v0 = sub["animal"].map(dict(zip(volumes.baseline["animal"], volumes.baseline["V0"]))).to_numpy(dtype=float)
    logv = log_volume(sub["volume"].to_numpy(), floor, sub["animal"].to_numpy(), sub["day"].to_numpy(),
                      volumes.column("volume"))
    return sub.assign(V0=v0, rtv=sub["volume"].to_numpy() / v0, log_rtv=logv - np.log(v0))
