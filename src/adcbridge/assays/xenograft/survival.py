"""Time to endpoint: the day each tumour reaches a target volume (4 x V0 by default, or an absolute volume),
Kaplan-Meier curves per group (statsmodels ``SurvfuncRight``), the log-rank test (statsmodels ``survdiff``),
tumour growth delay and gross log10 cell kill.

* **Event time**: the first measurement at or above the target, interpolated log-linearly with the
  measurement before it: t = t1 + (ln target - ln V1) / (ln V2 - ln V1) (t2 - t1) (linearly if V1 = 0).  A
  tumour that never reaches the target is censored at its last measurement -- also one that left the study at
  the humane endpoint below the target (then censoring is informative; with a 4 x V0 target and a 2000 mm3
  endpoint this needs V0 > 500 mm3).  Times are days since the baseline day.
* **Median** (R ``survival``'s rule): the first time the Kaplan-Meier curve is below 0.5; where it equals 0.5
  over an interval, the midpoint of that interval (to the next drop, or to the last follow-up time).  Missing
  when the curve never reaches 0.5.
* **TGD** = median_T - median_C (days).  **Gross log10 cell kill** = TGD / (3.32 Td), Td the control doubling
  time (days): ``doubling_time`` if given, else ln 2 over the control slope of the mixed model (growth.py).
  Both need uncensored medians; otherwise they are missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from adcbridge.results import Issue, Result, make_provenance

from .data import TumourVolumes, require_control
from .options import XenograftOptions

__all__ = ["TimeToEndpointResult", "time_to_endpoint", "km_median", "endpoint_times"]


@dataclass(frozen=True, eq=False)
class TimeToEndpointResult(Result):
    """Time to the endpoint volume.

    ``table``: one row per group: ``group, n, events, median`` (days; missing if not reached), ``tgd``
    (days), ``log10_cell_kill``.  ``animals``: ``group, animal, target, time, event`` (1 reached, 0 censored).
    ``km``: the Kaplan-Meier curve per group (``time, n_risk, events, survival, se`` Greenwood).  ``logrank``:
    ``statistic, df, p``.  ``doubling_time`` and its ``doubling_time_source``."""

    animals: pd.DataFrame | None = None
    km: pd.DataFrame | None = None
    logrank: pd.DataFrame | None = None
    doubling_time: float | None = None
    doubling_time_source: str = ""

    result_type: ClassVar[str] = "TimeToEndpointResult"

    def median(self, group: str) -> float:
        return float(self.table.set_index("group").loc[group, "median"])

    def record_body(self) -> dict[str, Any]:
        def num(v):
            return None if v is None or not np.isfinite(v) else float(v)
        lr = self.logrank.iloc[0] if self.logrank is not None and len(self.logrank) else None
        return {"target": self.spec.target[0], "target_value": self.spec.target[1],
                "groups": [{"group": r["group"], "n": int(r["n"]), "events": int(r["events"]),
                            "median": num(r["median"]), "tgd": num(r["tgd"]),
                            "log10_cell_kill": num(r["log10_cell_kill"])} for r in self.table.to_dict("records")],
                "logrank": None if lr is None else {"statistic": num(lr["statistic"]), "df": int(lr["df"]),
                                                    "p": num(lr["p"])},
                "doubling_time": None if self.doubling_time is None else num(self.doubling_time),
                "doubling_time_source": self.doubling_time_source}


def endpoint_times(volumes: TumourVolumes, options: XenograftOptions) -> pd.DataFrame:
    """Per animal: the target volume, the (interpolated) time it was reached or the censoring time, and the
    event indicator."""
    kind, value = options.target
    rows = []
    for (g, a), s in volumes.table.groupby(["group", "animal"], sort=False):
        t = s["day"].to_numpy() - volumes.baseline_day
        v = s["volume"].to_numpy()
        target = value * v[0] if kind == "fold" else value
        hit = np.flatnonzero(v >= target)
        if hit.size == 0:
            rows.append({"group": g, "animal": a, "target": target, "time": float(t[-1]), "event": 0})
            continue
        k = int(hit[0])
        if k == 0:
            time = float(t[0])
        elif v[k - 1] > 0:
            time = t[k - 1] + (math.log(target) - math.log(v[k - 1])) / (math.log(v[k]) - math.log(v[k - 1])) \
                * (t[k] - t[k - 1])
        else:
            time = t[k - 1] + (target - v[k - 1]) / (v[k] - v[k - 1]) * (t[k] - t[k - 1])
        rows.append({"group": g, "animal": a, "target": float(target), "time": float(time), "event": 1})
    return pd.DataFrame(rows, columns=["group", "animal", "target", "time", "event"])


def km_median(time: np.ndarray, surv: np.ndarray, last_time: float, tol: float = 1.4901161193847656e-08) -> float:
    """Median of a Kaplan-Meier curve given at its event ``time``s (R ``survival``'s midpoint rule)."""
    below = np.flatnonzero(surv < 0.5 - tol)
    flat = np.flatnonzero(np.abs(surv - 0.5) <= tol)
    if flat.size:
        i = int(flat[0])
        nxt = time[i + 1] if i + 1 < time.size else last_time
        return float((time[i] + nxt) / 2)
    return float(time[below[0]]) if below.size else float("nan")


def time_to_endpoint(volumes: TumourVolumes, options: XenograftOptions | None = None, *,
                     doubling_time: float | None = None, growth_rates=None, **option_values) -> TimeToEndpointResult:
    """Time to the endpoint volume per animal, Kaplan-Meier medians, log-rank test, TGD and log10 cell kill
    (see the module docstring).  The control doubling time is ``doubling_time`` (days), else
    ``options.doubling_time``, else taken from ``growth_rates`` (a :class:`GrowthRateResult`) or a new mixed-model
    fit.

    >>> import pandas as pd
    >>> from adcbridge.assays.xenograft import tumour_volumes, time_to_endpoint
    >>> df = pd.DataFrame({"group": "C", "animal": ["m1"] * 3, "day": [0, 7, 14], "volume": [100.0, 200, 800]})
    >>> r = time_to_endpoint(tumour_volumes(df), control="C", doubling_time=7.0)
    >>> r.animals["time"].round(6).tolist()
    [10.5]
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    control = require_control(volumes, options.control)
    groups = volumes.ordered_groups(control)
    issues: list[Issue] = []
    animals = endpoint_times(volumes, options)
    km_rows, grp_rows = [], []
    for g in groups:
        s = animals[animals["group"] == g]
        if s.empty:
            continue
        sf = SurvfuncRight(s["time"].to_numpy(), s["event"].to_numpy())
        for tt, nr, ne, sp, se in zip(sf.surv_times, sf.n_risk, sf.n_events, sf.surv_prob, sf.surv_prob_se):
            km_rows.append({"group": g, "time": float(tt), "n_risk": int(nr), "events": int(ne),
                            "survival": float(sp), "se": float(se)})
        med = km_median(np.asarray(sf.surv_times, float), np.asarray(sf.surv_prob, float), float(s["time"].max()))
        grp_rows.append({"group": g, "n": len(s), "events": int(s["event"].sum()), "median": med})
    table = pd.DataFrame(grp_rows)
    td = doubling_time if doubling_time is not None else options.doubling_time
    source = "given"
    if td is None:
        if growth_rates is None:
            from .growth import fit_growth_rates
            growth_rates = fit_growth_rates(volumes, options)
        td = float(growth_rates.table.set_index("group").loc[control, "doubling_time"])
        source = "mixed model: ln 2 / control slope of ln V"
    med_c = float(table.set_index("group").loc[control, "median"])
    table["tgd"] = table["median"] - med_c
    table["log10_cell_kill"] = table["tgd"] / (3.32 * td) if td and td > 0 else np.nan
    if not np.isfinite(med_c):
        issues.append(Issue("control_median_not_reached", f"the control group {control!r} has no Kaplan-Meier "
                            "median: TGD and log cell kill are missing", "warning"))
    for r in table.to_dict("records"):
        if not np.isfinite(r["median"]) and r["group"] != control:
            issues.append(Issue("median_not_reached", f"group {r['group']!r}: median time to endpoint not reached "
                                f"({r['events']} of {r['n']} events); no TGD or log cell kill", "info"))
    if td is not None and td <= 0:
        issues.append(Issue("control_not_growing", "the control doubling time is not positive; no log cell kill",
                            "warning"))
    present = animals[animals["group"].isin(table["group"])]
    if table.shape[0] > 1 and present["event"].sum() > 0:
        chisq, p = survdiff(present["time"].to_numpy(), present["event"].to_numpy(), present["group"].to_numpy())
        logrank = pd.DataFrame([{"statistic": float(chisq), "df": int(table.shape[0] - 1), "p": float(p)}])
    else:
        logrank = pd.DataFrame(columns=["statistic", "df", "p"])
    return TimeToEndpointResult(spec=options, table=table, issues=tuple(issues),
                                provenance=make_provenance(options, volumes.table), animals=animals,
                                km=pd.DataFrame(km_rows), logrank=logrank, doubling_time=float(td),
                                doubling_time_source=source)
