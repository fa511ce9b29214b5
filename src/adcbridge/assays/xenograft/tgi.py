"""Tumour growth inhibition on an evaluation day, under each common definition -- by name, never by default.

With T and C the treated and control groups, subscripts t (evaluation day) and 0 (baseline day), bars group
means over the animals measured that day, V_t/V_0 an animal's relative tumour volume (RTV)::

    delta_v          TGI  = 100 [1 - (T_t - T_0) / (C_t - C_0)]                  (> 100 %: regression)
    delta_v_median   TGI  = the same with group medians
    tc_mean          T/C  = 100 T_t / C_t
    tgi_tc_mean      TGI  = 100 - T/C(mean)
    tc_median        T/C  = 100 median(T_t) / median(C_t)
    tc_geomean       T/C  = 100 geomean(T_t) / geomean(C_t)
    tc_rtv           T/C  = 100 mean(V_t/V_0 | T) / mean(V_t/V_0 | C)          (EORTC/Bissery; DRAP "RCV")
    tgi_auc          TGI  = 100 [1 - AUC_T / AUC_C], trapezoid AUC of the mean curve from day 0 to t
    nci_tc           T/C  = 100 (T_t - T_0)/(C_t - C_0) if T_t >= T_0, else 100 (T_t - T_0)/T_0 (NCI)
    regression       %    = 100 (T_t - T_0) / T_0 when T_t < T_0 (mean tumour volume below baseline), else missing
    tgi_rate         TGI  = 100 (1 - g_T / g_C), g the group slope of ln V per day (mixed model, growth.py)

T_0 and C_0 are the baseline means of all animals of the group; the day-t statistics use the animals measured
on day t.  After humane-endpoint dropouts these are survivor-biased (the largest control tumours have left):
the result then carries an issue, and ``dropout="carry_forward"`` carries the last volume forward instead.
The same data give different numbers under different definitions (44-59 % for one group of the reference
study), so every row of the table names its definition and kind (TGI, T/C or regression).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from adcbridge.results import Issue, Result, make_provenance

from .data import TumourVolumes, group_summary, require_control
from .options import TGI_DEFINITIONS, XenograftOptions

__all__ = ["GrowthInhibitionResult", "growth_inhibition", "TGI_DEFINITIONS"]


@dataclass(frozen=True, eq=False)
class GrowthInhibitionResult(Result):
    """TGI, T/C and % regression per treated group and evaluation day.

    ``table``: one row per group x day x definition: ``group, day, definition, kind`` (TGI, T/C, regression),
    ``value`` (%), ``n_treated, n_control, formula``.  ``components``: per group and day, the numbers the
    definitions are made of (``n_T, n_C, mean_T, mean_C, mean_T0, mean_C0, median_T, median_C, ...``).
    ``group_summary``: n, mean, SD, SEM, median and geometric mean per group and day."""

    components: pd.DataFrame | None = None
    group_summary: pd.DataFrame | None = None

    result_type: ClassVar[str] = "GrowthInhibitionResult"

    def value(self, group: str, day: float, definition: str) -> float:
        t = self.table
        row = t[(t["group"] == group) & (t["day"] == day) & (t["definition"] == definition)]
        if row.empty:
            raise KeyError(f"no {definition!r} for group {group!r} on day {day:g}")
        return float(row["value"].iloc[0])

    def wide(self) -> pd.DataFrame:
        """One row per group and day, one column per definition."""
        return self.table.pivot_table(index=["group", "day"], columns="definition", values="value", sort=False,
                                      dropna=False).reset_index()

    def record_body(self) -> dict[str, Any]:
        out = []
        for (g, d), rows in self.table.groupby(["group", "day"], sort=False):
            out.append({"group": g, "day": float(d), "n_treated": int(rows["n_treated"].iloc[0]),
                        "n_control": int(rows["n_control"].iloc[0]),
                        "values": {r["definition"]: {"kind": r["kind"], "value": _num(r["value"])}
                                   for r in rows.to_dict("records")}})
        return {"tgi": out}


def _num(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _auc_to(summary: pd.DataFrame, group: str, day: float, baseline_day: float) -> float:
    s = summary[(summary["group"] == group) & (summary["day"] <= day) & (summary["day"] >= baseline_day)]
    return float(np.trapezoid(s["mean"].to_numpy(), s["day"].to_numpy()))


def _geomean(x: np.ndarray) -> float:
    return 0.0 if np.any(x <= 0) else float(np.exp(np.mean(np.log(x))))


def growth_inhibition(volumes: TumourVolumes, options: XenograftOptions | None = None, *,
                      rates: dict[str, float] | None = None, **option_values) -> GrowthInhibitionResult:
    """TGI / T/C / % regression for every treated group on each of ``options.days`` under the definitions named
    in ``options.tgi`` (required; ``"all"`` for every one).  ``tgi_rate`` needs the group slopes: pass ``rates``
    (group -> slope of ln V per day), or they are taken from :func:`~adcbridge.assays.xenograft.fit_growth_rates`.

    >>> import pandas as pd
    >>> from adcbridge.assays.xenograft import tumour_volumes, growth_inhibition
    >>> df = pd.DataFrame({"group": ["C"] * 4 + ["T"] * 4, "animal": ["c1", "c1", "c2", "c2", "t1", "t1", "t2",
    ...                    "t2"], "day": [0, 21] * 4, "volume": [100, 1100, 100, 1100, 100, 300, 100, 500]})
    >>> r = growth_inhibition(tumour_volumes(df), control="C", tgi="delta_v", days=[21])
    >>> r.value("T", 21, "delta_v")
    70.0
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    if not options.tgi:
        raise ValueError(f"choose the TGI definition(s) by name with tgi= (one or more of {list(TGI_DEFINITIONS)}, "
                         f"or 'all'); adcbridge never picks one silently")
    control = require_control(volumes, options.control)
    if not options.days:
        raise ValueError("name the evaluation day(s) with days= (e.g. days=[21])")
    carry = options.dropout == "carry_forward"
    summary = group_summary(volumes, carry_forward=carry)
    if "tgi_rate" in options.tgi and rates is None:
        from .growth import fit_growth_rates
        gr = fit_growth_rates(volumes, options)
        rates = dict(zip(gr.table["group"], gr.table["slope"]))
    base = volumes.baseline
    v0 = {g: base.loc[base["group"] == g, "V0"].to_numpy() for g in volumes.groups}
    rows, comps, issues = [], [], []
    for day in options.days:
        if not (volumes.table["day"] == day).any():
            raise ValueError(f"column {volumes.column('day')!r}: no animal was measured on evaluation day {day:g} "
                             f"(days: {[float(d) for d in volumes.days]})")
        at = volumes.at_day(day, carry)
        c = at[at["group"] == control]
        if c.empty:
            raise ValueError(f"day {day:g}: the control group {control!r} has no animal on this day (column "
                             f"{volumes.column('day')!r})")
        n_c0 = v0[control].size
        if len(c) < n_c0:
            issues.append(Issue("survivor_bias", f"day {day:g}: {len(c)} of {n_c0} control animals remain; "
                                f"day-{day:g} means are of the survivors (dropout={options.dropout!r})", "warning"))
        for g in volumes.ordered_groups(control)[1:]:
            t = at[at["group"] == g]
            if t.empty:
                issues.append(Issue("no_animals", f"group {g!r} has no animal on day {day:g}", "warning"))
                continue
            if len(t) < v0[g].size:
                issues.append(Issue("survivor_bias", f"day {day:g}: {len(t)} of {v0[g].size} animals of group "
                                    f"{g!r} remain", "warning"))
            T, C = t["volume"].to_numpy(), c["volume"].to_numpy()
            T0, C0 = float(np.mean(v0[g])), float(np.mean(v0[control]))
            mT, mC = float(np.mean(T)), float(np.mean(C))
            medT0, medC0 = float(np.median(v0[g])), float(np.median(v0[control]))
            rtv_T, rtv_C = float(np.mean(T / t["V0"].to_numpy())), float(np.mean(C / c["V0"].to_numpy()))
            auc_T = _auc_to(summary, g, day, volumes.baseline_day)
            auc_C = _auc_to(summary, control, day, volumes.baseline_day)
            dC = mC - C0
            vals = {
                "delta_v": 100 * (1 - (mT - T0) / dC) if dC != 0 else np.nan,
                "delta_v_median": 100 * (1 - (np.median(T) - medT0) / (np.median(C) - medC0))
                if np.median(C) != medC0 else np.nan,
                "tc_mean": 100 * mT / mC,
                "tgi_tc_mean": 100 - 100 * mT / mC,
                "tc_median": 100 * np.median(T) / np.median(C),
                "tc_geomean": 100 * _geomean(T) / _geomean(C),
                "tc_rtv": 100 * rtv_T / rtv_C,
                "tgi_auc": 100 * (1 - auc_T / auc_C) if auc_C > 0 else np.nan,
                "nci_tc": (100 * (mT - T0) / dC if dC != 0 else np.nan) if mT >= T0 else 100 * (mT - T0) / T0,
                "regression": 100 * (mT - T0) / T0 if mT < T0 else np.nan,
                "tgi_rate": 100 * (1 - rates[g] / rates[control]) if rates else np.nan,
            }
            if dC <= 0:
                issues.append(Issue("control_not_growing", f"day {day:g}: the control mean did not grow from "
                                    f"baseline; delta-V based values are undefined or meaningless", "warning"))
            for name in options.tgi:
                kind, formula = TGI_DEFINITIONS[name]
                rows.append({"group": g, "day": float(day), "definition": name, "kind": kind,
                             "value": float(vals[name]), "n_treated": len(t), "n_control": len(c),
                             "formula": formula})
            comps.append({"group": g, "day": float(day), "n_T": len(t), "n_C": len(c), "mean_T": mT,
                          "mean_C": mC, "mean_T0": T0, "mean_C0": C0, "median_T": float(np.median(T)),
                          "median_C": float(np.median(C)), "median_T0": medT0, "median_C0": medC0,
                          "geomean_T": _geomean(T), "geomean_C": _geomean(C), "mean_rtv_T": rtv_T,
                          "mean_rtv_C": rtv_C, "auc_T": auc_T, "auc_C": auc_C})
    table = pd.DataFrame(rows, columns=["group", "day", "definition", "kind", "value", "n_treated", "n_control",
                                        "formula"])
    return GrowthInhibitionResult(spec=options, table=table, issues=tuple(dict.fromkeys(issues)),
                                  provenance=make_provenance(options, volumes.table), components=pd.DataFrame(comps),
                                  group_summary=summary)
