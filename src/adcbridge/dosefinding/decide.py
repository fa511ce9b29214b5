"""Next-dose decisions for every design behind one function, :func:`next_dose`.

* BOIN: :func:`adcbridge.dosefinding.boin.next_dose` (boundaries, elimination, extra safety, n_earlystop).
* 3+3: the cohorts are replayed through the design's rules; each cohort must be of 3 patients at the dose the
  rules called for (otherwise the error names the cohort), and the decision is the rules' next step.
* CRM: the posterior given all data; the recommendation closest to the target, then no skipping, no escalation
  after a cohort with a DLT rate >= target, and the safety stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from adcbridge.results import ColumnTable, make_provenance

from .boin.design import BoinDesign
from .nextdose import NextDose
from .outcomes import Cohort, DoseCounts, parse_outcomes, validate_cohorts

if TYPE_CHECKING:          # imported where used: a BOIN decision needs neither CRM nor 3+3 (fast start-up)
    from .crm.design import CrmDesign
    from .threeplusthree import ThreePlusThreeDesign

__all__ = ["next_dose"]


def _move(cur: int, nxt: int | None) -> str:
    if nxt is None:
        return "stop"
    return "escalate" if nxt > cur else "de-escalate" if nxt < cur else "stay"


def _cohorts(design, outcomes) -> list[Cohort]:
    if isinstance(outcomes, str):
        return parse_outcomes(outcomes, design.n_doses, design.start_dose)
    return validate_cohorts(outcomes, design.n_doses, design.start_dose)


def _three_plus_three(design: ThreePlusThreeDesign, cohorts: list[Cohort]) -> NextDose:
    from .engine import EndReason
    from .threeplusthree import ThreePlusThreePolicy
    pol = ThreePlusThreePolicy(design)
    s = pol.initial(1)
    for k, c in enumerate(cohorts, start=1):
        if not s.active[0]:
            raise ValueError(f"The 'outcomes' argument continues after the 3+3 trial ended (cohort {k}, {c}).")
        expected = int(s.dose[0]) + 1
        if c.dose != expected or c.n != 3:
            raise ValueError(f"The 'outcomes' argument does not follow the 3+3 rules at cohort {k} ({c}): "
                             f"expected 3 patients at dose {expected}.")
        pol.record(s, np.array([c.dose - 1], dtype=np.int32), np.array([3], dtype=np.int32),
                   np.array([c.n_dlt], dtype=np.int32), np.array([True]))
    cur = cohorts[-1].dose
    counts = DoseCounts.from_cohorts(cohorts, design.n_doses)
    table = ColumnTable({"dose": np.arange(1, design.n_doses + 1), "n": counts.n, "dlt": counts.dlt})
    prov = make_provenance(design, [str(c) for c in cohorts])
    if not s.active[0]:
        mtd = int(s.aux["mtd"][0])
        if s.end[0] == EndReason.SAFETY_STOP:
            return NextDose(spec=design, table=table, provenance=prov, next_dose=None, current_dose=cur,
                            decision="stop", rule="mtd_exceeded_at_lowest",
                            reason=f"dose {cur} exceeds the MTD (>= 2 DLTs) and no treated lower dose is "
                                   f"left: stop the trial, no MTD")
        return NextDose(spec=design, table=table, provenance=prov, next_dose=None, current_dose=cur,
                        decision="stop", rule="mtd_found", select_mtd=True,
                        reason=f"the MTD is dose {mtd + 1}: stop the trial")
    nxt = int(s.dose[0]) + 1
    n_c, y_c = counts.n[cur - 1], counts.dlt[cur - 1]
    if nxt > cur:
        rule, why = "escalate", f"{y_c}/{n_c} DLTs at dose {cur}: escalate to dose {nxt}"
    elif nxt < cur:
        rule, why = "deescalate", (f"{y_c}/{n_c} DLTs at dose {cur} exceeds the MTD: treat 3 more patients at "
                                   f"dose {nxt}")
    else:
        rule, why = "expand", f"{y_c}/{n_c} DLTs at dose {cur}: treat 3 more patients at dose {cur}"
    return NextDose(spec=design, table=table, provenance=prov, next_dose=nxt, next_cohort_size=3, current_dose=cur,
                    decision=_move(cur, nxt), rule=rule, reason=why)


def _crm(design: CrmDesign, cohorts: list[Cohort]) -> NextDose:
    from .crm.design import recommend
    model = design.working_model()
    counts = DoseCounts.from_cohorts(cohorts, design.n_doses)
    n, y = counts.arrays()
    post, rec = recommend(model, n[None, :], y[None, :])
    rec0 = int(rec[0])
    last = cohorts[-1]
    cur = last.dose - 1
    toxic = last.n_dlt >= design.target * last.n
    cap = cur if toxic else cur + 1
    table = ColumnTable({"dose": np.arange(1, design.n_doses + 1), "n": n, "dlt": y,
                          "skeleton": model.skeleton, "p_hat": post.p_hat[0]})
    prov = make_provenance(design, [str(c) for c in cohorts])
    common = dict(spec=design, table=table, provenance=prov, current_dose=cur + 1)
    p_low = float(model.posterior(n[None, :], y[None, :], fine=True).p_lowest_above_target[0])
    if design.stop_cutoff is not None and n[0] >= design.stop_min_n and p_low > design.stop_cutoff:
        return NextDose(**common, next_dose=None, decision="stop", rule="safety_stop",
                        reason=f"Pr(DLT rate at dose 1 > {design.target:g}) = {p_low:.3f} > {design.stop_cutoff:g}: "
                               f"stop the trial, no MTD")
    if n.sum() >= design.max_sample_size:
        return NextDose(**common, next_dose=None, decision="stop", rule="max_sample_size", select_mtd=True,
                        reason=f"the maximum sample size is reached; the MTD is dose {rec0 + 1}")
    nxt = min(rec0, cap)
    common["next_cohort_size"] = int(min(design.cohort_size, design.max_sample_size - n.sum()))
    why = f"posterior mean of beta {post.mean[0]:.4f}; estimate closest to the target at dose {rec0 + 1}"
    rule = "recommended"
    if nxt < rec0:
        rule = "no_escalation_after_toxic_cohort" if toxic else "no_skipping"
        why += ("; no escalation right after a cohort with DLT rate >= target" if toxic
                else "; escalation limited to one level above the current dose")
    return NextDose(**common, next_dose=nxt + 1, decision=_move(cur, nxt), rule=rule, reason=why)


def next_dose(design, outcomes=None, **kwargs) -> NextDose:
    """Next-dose decision of any design from the trial so far (compact grammar or list of cohorts).

    BOIN also accepts per-dose counts: ``next_dose(design, n=[...], dlt=[...], current_dose=k)``.
    """
    if isinstance(design, BoinDesign):
        from .boin.decision import next_dose as boin_next_dose
        return boin_next_dose(design, outcomes, **kwargs)
    from .crm.design import CrmDesign
    from .threeplusthree import ThreePlusThreeDesign
    if kwargs:
        raise ValueError(f"{type(design).__name__} decisions need the cohorts ('outcomes'); got {sorted(kwargs)}")
    if outcomes is None:
        raise ValueError("The 'outcomes' argument is required.")
    cohorts = _cohorts(design, outcomes)
    if isinstance(design, ThreePlusThreeDesign):
        return _three_plus_three(design, cohorts)
    if isinstance(design, CrmDesign):
        return _crm(design, cohorts)
    raise TypeError(f"not a dose-finding design: {type(design).__name__}")
