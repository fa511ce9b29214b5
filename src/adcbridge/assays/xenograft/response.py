"""Best-response categories per animal, the mRECIST-like classes of PDX studies (Gao et al., Nat Med 2015).

For each animal with baseline volume V0 and volume V_t on day t (days since baseline)::

    dVol_t            = 100 (V_t - V0) / V0                          (% change from baseline)
    best_response     = min dVol_t over t >= 10 days
    best_avg_response = min over t >= 10 of mean(dVol_s for the measurements s <= t, baseline included)

    mCR  best_response < -95 %  and  best_avg_response < -40 %
    mPR  best_response < -50 %  and  best_avg_response < -20 %
    mSD  best_response <  35 %  and  best_avg_response <  30 %
    mPD  otherwise

checked in that order.  An animal with no measurement on or after day 10 (``best_response_from_day``) is not
evaluable (category missing, reported as an issue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from adcbridge.results import Issue, Result, make_provenance

from .data import TumourVolumes
from .options import XenograftOptions

__all__ = ["BestResponseResult", "best_response", "CATEGORIES", "classify_response"]

CATEGORIES = ("mCR", "mPR", "mSD", "mPD")
_RULES = (("mCR", -95.0, -40.0), ("mPR", -50.0, -20.0), ("mSD", 35.0, 30.0))


def classify_response(best: float, best_avg: float) -> str | None:
    """The mRECIST-like class of a best response and best average response (in %)."""
    if not (np.isfinite(best) and np.isfinite(best_avg)):
        return None
    for name, b, a in _RULES:
        if best < b and best_avg < a:
            return name
    return "mPD"


@dataclass(frozen=True, eq=False)
class BestResponseResult(Result):
    """``table``: one row per animal: ``group, animal, best_response`` (%), ``best_response_day``,
    ``best_avg_response`` (%), ``category``.  ``counts``: animals per group and category (with ``n`` and
    ``percent`` of the evaluable animals)."""

    counts: pd.DataFrame | None = None

    result_type: ClassVar[str] = "BestResponseResult"

    def record_body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for g, rows in self.counts.groupby("group", sort=False):
            out[g] = {r["category"]: int(r["n"]) for r in rows.to_dict("records")}
        return {"counts": out}


def best_response(volumes: TumourVolumes, options: XenograftOptions | None = None, **option_values
                  ) -> BestResponseResult:
    """Best response, best average response and mRECIST-like class per animal (see the module docstring).

    >>> import pandas as pd
    >>> from adcbridge.assays.xenograft import tumour_volumes, best_response
    >>> df = pd.DataFrame({"group": "T", "animal": ["m1"] * 4, "day": [0, 7, 14, 21],
    ...                    "volume": [200.0, 120, 80, 60]})
    >>> best_response(tumour_volumes(df)).table[["best_response", "category"]].values.tolist()
    [[-70.0, 'mPR']]
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    start = options.best_response_from_day
    rows, issues = [], []
    for (g, a), s in volumes.table.groupby(["group", "animal"], sort=False):
        t = s["day"].to_numpy() - volumes.baseline_day
        v = s["volume"].to_numpy()
        dvol = 100 * (v - v[0]) / v[0]
        avg = np.cumsum(dvol) / np.arange(1, dvol.size + 1)
        late = t >= start
        if not late.any():
            issues.append(Issue("not_evaluable", f"animal {a!r} has no measurement on or after day {start:g} "
                                "since baseline: no best response", "info"))
            rows.append({"group": g, "animal": a, "best_response": np.nan, "best_response_day": np.nan,
                         "best_avg_response": np.nan, "category": None})
            continue
        k = int(np.argmin(np.where(late, dvol, np.inf)))
        best, best_avg = float(dvol[k]), float(np.min(avg[late]))
        rows.append({"group": g, "animal": a, "best_response": best, "best_response_day": float(s["day"].iloc[k]),
                     "best_avg_response": best_avg, "category": classify_response(best, best_avg)})
    table = pd.DataFrame(rows, columns=["group", "animal", "best_response", "best_response_day",
                                        "best_avg_response", "category"])
    counts = []
    for g in volumes.groups:
        cats = table.loc[table["group"] == g, "category"]
        n_eval = int(cats.notna().sum())
        for c in CATEGORIES:
            n = int((cats == c).sum())
            counts.append({"group": g, "category": c, "n": n, "n_evaluable": n_eval,
                           "percent": 100 * n / n_eval if n_eval else np.nan})
    return BestResponseResult(spec=options, table=table, issues=tuple(issues),
                              provenance=make_provenance(options, volumes.table), counts=pd.DataFrame(counts))
