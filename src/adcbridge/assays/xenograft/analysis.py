"""The whole xenograft efficacy analysis in one call (what ``adcbridge fit xenograft`` runs): validated volumes,
group summaries, TGI / T/C / % regression under the named definitions, cross-sectional tests on the evaluation
days, mixed-model growth rates, time to endpoint and best-response classes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from adcbridge.results import Issue, Result, make_provenance

from .cross_section import DayComparisonResult, compare_day
from .data import group_summary, tumour_volumes
from .growth import GrowthRateResult, fit_growth_rates
from .options import XenograftOptions
from .response import BestResponseResult, best_response
from .survival import TimeToEndpointResult, time_to_endpoint
from .tgi import GrowthInhibitionResult, growth_inhibition

__all__ = ["XenograftResult", "analyze_xenograft"]


@dataclass(frozen=True, eq=False)
class XenograftResult(Result):
    """A complete xenograft efficacy analysis.

    ``table`` is the TGI table (one row per treated group x evaluation day x definition; see
    :class:`GrowthInhibitionResult`).  ``volumes``: the validated long table (``group, animal, day, volume``)
    after the humane-endpoint rule; ``dropped``: the measurements that rule removed; ``left_study``: animals whose
    follow-up ended at the humane endpoint.  The parts are full results of their own: ``growth_inhibition``,
    ``day_comparison``, ``growth_rates``, ``time_to_endpoint``, ``best_response``."""

    volumes: pd.DataFrame | None = None
    dropped: pd.DataFrame | None = None
    left_study: tuple[str, ...] = ()
    group_summary: pd.DataFrame | None = None
    growth_inhibition: GrowthInhibitionResult | None = None
    day_comparison: DayComparisonResult | None = None
    growth_rates: GrowthRateResult | None = None
    time_to_endpoint: TimeToEndpointResult | None = None
    best_response: BestResponseResult | None = None

    result_type: ClassVar[str] = "XenograftResult"

    def record_body(self) -> dict[str, Any]:
        """The JSON of ``adcbridge fit xenograft --format json`` (strict JSON: missing numbers are null)."""
        o = self.spec
        summary = [{k: _num(v) for k, v in r.items()} for r in self.group_summary.to_dict("records")]
        return {
            "control": o.control, "groups": list(dict.fromkeys(self.volumes["group"])),
            "baseline_day": _num(self.volumes["day"].min()), "days": [float(d) for d in o.days],
            "tgi_definitions": list(o.tgi), "dropout": o.dropout, "humane_endpoint": o.humane_endpoint,
            "n_animals": {g: int(n) for g, n in self.volumes.groupby("group", sort=False)["animal"].nunique().items()},
            "left_study": list(self.left_study),
            "group_summary": summary,
            "tgi": self.growth_inhibition.record_body()["tgi"],
            "day_tests": self.day_comparison.record_body()["tests"],
            "growth_rates": self.growth_rates.record_body(),
            "time_to_endpoint": self.time_to_endpoint.record_body(),
            "best_response": self.best_response.record_body()["counts"],
        }


def _num(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(v) else None
    return v


def analyze_xenograft(data: pd.DataFrame, options: XenograftOptions | None = None, *, group: str = "group",
                      animal: str = "animal", day: str = "day", volume: str = "volume", **option_values
                      ) -> XenograftResult:
    """Run every xenograft analysis on a long table of tumour volumes.

    ``control``, ``tgi`` (definition names or ``"all"``) and ``days`` (evaluation days) are required options;
    see :class:`XenograftOptions` for the others.  Column names are given by ``group``, ``animal``, ``day`` and
    ``volume``.

    >>> import numpy as np, pandas as pd
    >>> from adcbridge.assays.xenograft import analyze_xenograft
    >>> rng = np.random.default_rng(2)
    >>> rows = [(g, f"{g}{i}", d, 150 * np.exp(r * d + 0.1 * rng.standard_normal()))
    ...         for g, r in (("Vehicle", 0.12), ("ADC", 0.02)) for i in range(6) for d in (0, 7, 14, 21)]
    >>> df = pd.DataFrame(rows, columns=["group", "animal", "day", "volume"])
    >>> r = analyze_xenograft(df, control="Vehicle", tgi="delta_v", days=[21])
    >>> sorted(r.record_body())[:3]
    ['baseline_day', 'best_response', 'control']
    """
    options = (options or XenograftOptions()).replace(**option_values) if option_values else \
        (options or XenograftOptions())
    if options.control is None:
        raise ValueError(f"name the control group with control= (column {group!r}); adcbridge does not guess it")
    if not options.tgi:
        raise ValueError("choose the TGI definition(s) by name with tgi= (or 'all'); adcbridge never picks one "
                         "silently")
    if not options.days:
        raise ValueError("name the evaluation day(s) with days= (e.g. days=[21])")
    vols = tumour_volumes(data, group=group, animal=animal, day=day, volume=volume,
                          baseline_day=options.baseline_day, humane_endpoint=options.humane_endpoint)
    issues: list[Issue] = []
    if len(vols.dropped):
        issues.append(Issue("humane_endpoint", f"{len(vols.dropped)} measurement(s) after a volume above the humane "
                            f"endpoint ({options.humane_endpoint:g}) were dropped", "info"))
    if vols.left_study:
        issues.append(Issue("dropouts", f"{len(vols.left_study)} animal(s) left the study at the humane endpoint: "
                            f"{', '.join(vols.left_study)}", "info"))
    rates = fit_growth_rates(vols, options)
    slopes = dict(zip(rates.table["group"], rates.table["slope"]))
    tgi = growth_inhibition(vols, options, rates=slopes)
    tests = compare_day(vols, options)
    tte = time_to_endpoint(vols, options, growth_rates=rates)
    resp = best_response(vols, options)
    for part in (tgi, tests, rates, tte, resp):
        issues += list(part.issues)
    return XenograftResult(spec=options, table=tgi.table, issues=tuple(dict.fromkeys(issues)),
                           provenance=make_provenance(options, data), volumes=vols.table, dropped=vols.dropped,
                           left_study=vols.left_study,
                           group_summary=group_summary(vols, carry_forward=options.dropout == "carry_forward"),
                           growth_inhibition=tgi, day_comparison=tests, growth_rates=rates, time_to_endpoint=tte,
                           best_response=resp)
