"""Cross-sectional comparisons of tumour volume on an evaluation day (what Prism users run on the last day with a
full control group): one-way ANOVA of ln V with Dunnett's many-to-one contrasts, Kruskal-Wallis, pairwise
Wilcoxon rank-sum tests with Holm's adjustment and Welch t tests of ln V against the control.

Every estimate is **treated minus control** on the ln V scale (so a negative t means a smaller tumour);
``ratio`` = exp(estimate) is the ratio of geometric means.  Only the animals measured on the day enter (or, with
``dropout="carry_forward"``, those carried forward): a test on a day after control dropouts compares survivors.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from adcbridge.results import Issue, Result, make_provenance, table_records

from .data import TumourVolumes, log_volume, require_control
from .multiplicity import dunnett_adjusted_p, holm
from .options import XenograftOptions

__all__ = ["DayComparisonResult", "compare_day"]

COLUMNS = ["day", "test", "comparison", "estimate", "se", "ratio", "statistic", "df", "df2", "p", "p_adjusted",
           "adjustment"]


@dataclass(frozen=True, eq=False)
class DayComparisonResult(Result):
    """Cross-sectional tests per evaluation day.  ``table`` has one row per day x test x comparison with the
    columns ``day, test, comparison, estimate, se, ratio, statistic, df, df2, p, p_adjusted, adjustment``.  Tests:
    ``anova`` (F of ln V ~ group; df, df2), ``dunnett`` (treated - control on ln V, pooled SE, t on the residual
    df, single-step adjusted p), ``kruskal_wallis`` (H, df), ``wilcoxon`` (every pair, exact p without ties,
    Holm over all pairs of the day), ``welch`` (treated vs control, Welch-Satterthwaite df)."""

    result_type: ClassVar[str] = "DayComparisonResult"

    def get(self, day: float, test: str, comparison: str | None = None) -> pd.Series:
        t = self.table
        m = (t["day"] == day) & (t["test"] == test)
        if comparison is not None:
            m &= t["comparison"] == comparison
        if not m.any():
            raise KeyError(f"no {test!r} {comparison or ''} on day {day:g}")
        return t[m].iloc[0]

    def record_body(self) -> dict[str, Any]:
        return {"tests": _records(self.table)}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return table_records(df)


def _row(day, test, comparison, **kw) -> dict:
    r = dict.fromkeys(COLUMNS, np.nan)
    r.update(day=float(day), test=test, comparison=comparison, adjustment="none")
    r.update(kw)
    return r


def _one_day(volumes: TumourVolumes, day: float, control: str, options: XenograftOptions):
    at = volumes.at_day(day, options.dropout == "carry_forward")
    groups = [g for g in volumes.ordered_groups(control) if (at["group"] == g).any()]
    issues = []
    if control not in groups:
        raise ValueError(f"day {day:g}: the control group {control!r} has no animal on this day (column "
                         f"{volumes.column('day')!r})")
    logv = log_volume(at["volume"].to_numpy(), options.volume_floor, at["animal"].to_numpy(), at["day"].to_numpy(),
                      volumes.column("volume"))
    x = {g: logv[(at["group"] == g).to_numpy()] for g in groups}
    raw = {g: at.loc[at["group"] == g, "volume"].to_numpy() for g in groups}
    n = np.array([x[g].size for g in groups])
    rows = []
    df_res = int(n.sum() - len(groups))
    if len(groups) < 2:
        issues.append(Issue("one_group", f"day {day:g}: only one group has animals; no comparison", "warning"))
        return rows, issues
    s2 = sum(float(np.sum((x[g] - x[g].mean()) ** 2)) for g in groups) / df_res if df_res > 0 else 0.0
    if df_res > 0 and s2 <= 0:
        issues.append(Issue("zero_variance", f"day {day:g}: ln V does not vary within groups; no ANOVA, Dunnett or "
                            "Welch tests", "warning"))
    if df_res > 0 and s2 > 0:
        f, p = stats.f_oneway(*[x[g] for g in groups])
        rows.append(_row(day, "anova", "all groups", statistic=float(f), df=float(len(groups) - 1),
                         df2=float(df_res), p=float(p)))
        treated = groups[1:]
        est = np.array([x[g].mean() - x[control].mean() for g in treated])
        se = np.sqrt(s2 * (1 / n[1:] + 1 / n[0]))
        tval = est / se
        padj = dunnett_adjusted_p(tval, 1.0 / n[0], 1.0 / n[1:], df_res)
        for g, e, s, t, pa in zip(treated, est, se, tval, padj):
            rows.append(_row(day, "dunnett", f"{g} - {control}", estimate=float(e), se=float(s),
                             ratio=float(np.exp(e)), statistic=float(t), df=float(df_res),
                             p=float(2 * stats.t.sf(abs(t), df_res)), p_adjusted=float(pa), adjustment="single-step"))
    elif df_res <= 0:
        issues.append(Issue("no_residual_df", f"day {day:g}: one animal per group; no ANOVA", "warning"))
    h = stats.kruskal(*[raw[g] for g in groups]) if np.ptp(np.concatenate(list(raw.values()))) > 0 else None
    if h is not None:
        rows.append(_row(day, "kruskal_wallis", "all groups", statistic=float(h.statistic),
                         df=float(len(groups) - 1), p=float(h.pvalue)))
    pairs, pw = [], []
    for a, b in combinations(groups, 2):
        u = stats.mannwhitneyu(raw[b], raw[a], alternative="two-sided", method="auto")
        pairs.append((a, b, float(u.statistic)))
        pw.append(float(u.pvalue))
    for (a, b, w), p, pa in zip(pairs, pw, holm(np.array(pw))):
        rows.append(_row(day, "wilcoxon", f"{b} - {a}", statistic=w, p=p, p_adjusted=float(pa), adjustment="holm"))
    for g in groups[1:]:
        if x[g].size < 2 or x[control].size < 2 or x[g].var() + x[control].var() <= 0:
            continue
        w = stats.ttest_ind(x[g], x[control], equal_var=False)
        e = x[g].mean() - x[control].mean()
        se = np.sqrt(x[g].var(ddof=1) / x[g].size + x[control].var(ddof=1) / x[control].size)
        rows.append(_row(day, "welch", f"{g} - {control}", estimate=float(e), se=float(se), ratio=float(np.exp(e)),
                         statistic=float(w.statistic), df=float(w.df), p=float(w.pvalue)))
    return rows, issues


def compare_day(volumes: TumourVolumes, options: XenograftOptions | None = None, **option_values
                ) -> DayComparisonResult:
    """Cross-sectional tests on each of ``options.days`` (see the module docstring).

    >>> from adcbridge.assays.xenograft import tumour_volumes, compare_day
    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": ["C"] * 6 + ["T"] * 6, "animal": [f"m{i}" for i in range(4) for _ in range(3)],
    ...                    "day": [0, 7, 14] * 4, "volume": [100, 200, 400, 110, 220, 420, 100, 120, 150,
    ...                                                       105, 115, 140]})
    >>> r = compare_day(tumour_volumes(df), control="C", days=[14])
    >>> round(float(r.get(14, "dunnett", "T - C")["ratio"]), 4)
    0.3536
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    control = require_control(volumes, options.control)
    if not options.days:
        raise ValueError("name the evaluation day(s) with days= (e.g. days=[21]); the tests are cross-sectional")
    rows, issues = [], []
    for day in options.days:
        if not (volumes.table["day"] == day).any():
            raise ValueError(f"column {volumes.column('day')!r}: no animal was measured on evaluation day {day:g} "
                             f"(days: {[float(d) for d in volumes.days]})")
        r, i = _one_day(volumes, day, control, options)
        rows += r
        issues += i
    table = pd.DataFrame(rows, columns=COLUMNS)
    return DayComparisonResult(spec=options, table=table, issues=tuple(issues),
                               provenance=make_provenance(options, volumes.table))
