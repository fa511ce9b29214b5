"""The live CRM decision (the rules of :mod:`.design`'s policy, with their explanation).

The posterior given all patients; the recommendation is the dose whose plug-in estimate is closest to the target
(the lower on ties); the next dose is limited by coherence and no skipping (:func:`.design.allowed_dose`, the
function the policy uses); the trial stops for safety when Pr(p_1 > target | data) > stop_cutoff with at least
stop_min_n patients at dose 1, and at the maximum sample size with the recommendation as MTD.
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..nextdose import NextDose, move
from ..outcomes import DoseCounts
from .design import CrmDesign, allowed_dose, recommend

__all__ = ["decide"]


def decide(design: CrmDesign, history) -> NextDose:
    cohorts = history.cohorts()
    model = design.working_model()
    counts = DoseCounts.from_cohorts(cohorts, design.n_doses)
    n, y = counts.arrays()
    post, rec = recommend(model, n[None, :], y[None, :])
    rec0 = int(rec[0])
    last = cohorts[-1]
    cur = last.dose - 1
    table = ColumnTable({"dose": np.arange(1, design.n_doses + 1), "n": n, "dlt": y,
                         "pending": np.zeros(design.n_doses, dtype=np.int64), "p_hat": post.p_hat[0],
                         "skeleton": model.skeleton})
    p_low = float(model.prob_lowest_too_toxic(post, n[None, :], y[None, :], design.stop_cutoff or 0.9)[0])
    posterior = {"beta_mean": float(post.mean[0]), "beta_sd": float(np.sqrt(post.var[0])),
                 "p_lowest_above_target": p_low}
    common = dict(spec=design, table=table, provenance=make_provenance(design, [str(c) for c in cohorts]),
                  current_dose=cur + 1, model_recommendation=rec0 + 1, posterior=posterior, design="crm")
    if design.stop_cutoff is not None and n[0] >= design.stop_min_n and p_low > design.stop_cutoff:
        return NextDose(**common, next_dose=None, decision="stop", rule="safety_stop",
                        reason=f"Pr(DLT rate at dose 1 > {design.target:g}) = {p_low:.3f} > {design.stop_cutoff:g}: "
                               f"stop the trial, no MTD")
    if n.sum() >= design.max_sample_size:
        issues = () if n[rec0] else (Issue(
            "untried_mtd", f"the MTD, dose {rec0 + 1}, was given to no patient: it is the model's estimate closest "
                           f"to the target (dfcrm's selection), beyond the doses tried (up to dose "
                           f"{int(np.flatnonzero(n).max()) + 1})", "warning"),)
        return NextDose(**common, next_dose=None, decision="stop", rule="max_sample_size", select_mtd=True,
                        mtd=rec0 + 1, reason=f"the maximum sample size is reached; the MTD is dose {rec0 + 1}",
                        issues=issues)
    nxt = int(allowed_dose(design, np.array([rec0]), np.array([cur]), np.array([last.n_dlt]),
                           np.array([last.n]))[0])
    common["next_cohort_size"] = int(min(design.cohort_size, design.max_sample_size - n.sum()))
    why = f"posterior mean of beta {post.mean[0]:.4f}; estimate closest to the target at dose {rec0 + 1}"
    rule = "recommended"
    if nxt < rec0:
        toxic = last.n_dlt >= design.target * last.n
        rule = "no_escalation_after_toxic_cohort" if toxic else "no_skipping"
        why += ("; no escalation right after a cohort with DLT rate >= target" if toxic
                else "; escalation limited to one level above the current dose")
    return NextDose(**common, next_dose=nxt + 1, decision=move(cur, nxt), rule=rule, reason=why)
