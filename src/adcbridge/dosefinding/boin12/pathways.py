"""BOIN12's dose-transition pathways: every course of the first cohorts and the decision after each.

A cohort's outcome is a pair (number of DLTs, number of responses), (cohort size + 1)^2 outcomes per cohort;
within a cohort the first patients are given the DLTs and the first patients the responses (the decision uses
the counts only; the tie-breaking draw of :mod:`.decision` is seeded from this canonical history).  The number of
pathways is bounded by :data:`~adcbridge.dosefinding.paths.MAX_PATHS`.
"""

from __future__ import annotations

import pandas as pd

from ..history import History, Patient
from ..paths import MAX_PATHS

__all__ = ["boin12_pathways"]


def boin12_pathways(design, n_cohorts: int = 3) -> pd.DataFrame:
    """One row per pathway: for cohort k, ``cohort_k`` (``"2: 1/3 DLT, 2/3 resp"``) and ``dose_after_k`` (empty
    after a stop), then the final ``decision``, ``rule`` and ``obd`` (when the trial ended with a selection)."""
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, int) or n_cohorts < 1:
        raise ValueError(f"The 'n_cohorts' argument must be a positive integer. Got {n_cohorts!r}.")
    c = design.cohort_size
    if (c + 1) ** (2 * n_cohorts) > MAX_PATHS:
        raise ValueError(f"The 'n_cohorts' argument ({n_cohorts}) gives more than {MAX_PATHS} pathways "
                         f"((cohort size + 1)^2 = {(c + 1) ** 2} outcomes per cohort).")
    rows: list[dict] = []

    def walk(patients: list[Patient], dose: int, size: int, row: dict, k: int) -> None:
        for dlt in range(size + 1):
            for resp in range(size + 1):
                added = [Patient(f"P{len(patients) + i + 1}", k, dose, i < dlt, efficacy=i < resp)
                         for i in range(size)]
                path = patients + added
                decision = design.decide(History(tuple(path)))
                r = dict(row)
                r[f"cohort_{k}"] = f"{dose}: {dlt}/{size} DLT, {resp}/{size} resp"
                r[f"dose_after_{k}"] = decision.next_dose
                if decision.next_dose is None or k == n_cohorts:
                    r["decision"], r["rule"] = decision.decision, decision.rule
                    r["obd"] = (decision.extra or {}).get("obd")
                    rows.append(r)
                else:
                    walk(path, decision.next_dose, decision.next_cohort_size, r, k + 1)

    walk([], design.start_dose, c, {}, 1)
    cols = [x for k in range(1, n_cohorts + 1) for x in (f"cohort_{k}", f"dose_after_{k}")]
    out = pd.DataFrame(rows).reindex(columns=cols + ["decision", "rule", "obd"])
    for col in [f"dose_after_{k}" for k in range(1, n_cohorts + 1)] + ["obd"]:
        out[col] = out[col].astype("Int64")
    return out
