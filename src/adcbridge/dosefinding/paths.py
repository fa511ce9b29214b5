"""Dose-transition pathways: every possible course of the first cohorts of a trial and the decision after each.

For protocol tables (Yap et al. 2017): starting at the start dose, each cohort's number of DLTs (0..cohort
size) is enumerated -- outcomes within a cohort are exchangeable, so only the count matters -- and the design's
live decision rule (:func:`adcbridge.dosefinding.decide.next_dose`) gives the next dose.  A pathway ends early
when the trial stops.
"""

from __future__ import annotations

import pandas as pd

from .decide import next_dose
from .outcomes import Cohort

__all__ = ["dose_transition_pathways"]

MAX_PATHS = 100_000


def dose_transition_pathways(design, n_cohorts: int = 3) -> pd.DataFrame:
    """One row per pathway: for cohort k, ``cohort_k`` (e.g. ``"2: 1/3"``) and ``dose_after_k`` (the decided next
    dose, empty after a stop), then the final ``decision`` and ``rule``.  Cohort sizes follow the design (single
    patients during an accelerated titration, then the cohort that completes the dose)."""
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, int) or n_cohorts < 1:
        raise ValueError(f"The 'n_cohorts' argument must be a positive integer. Got {n_cohorts!r}.")
    if (design.cohort_size + 1) ** n_cohorts > MAX_PATHS:
        raise ValueError(f"The 'n_cohorts' argument ({n_cohorts}) gives more than {MAX_PATHS} pathways.")
    rows: list[dict] = []
    first_size = 1 if getattr(design, "uses_titration", False) else design.cohort_size

    def walk(cohorts: list[Cohort], dose: int, size: int, row: dict) -> None:
        k = len(cohorts) + 1
        for dlt in range(size + 1):
            c = Cohort(dose, tuple([True] * dlt + [False] * (size - dlt)))
            path = cohorts + [c]
            decision = next_dose(design, path)
            r = dict(row)
            r[f"cohort_{k}"] = f"{dose}: {dlt}/{size}"
            r[f"dose_after_{k}"] = decision.next_dose
            if decision.next_dose is None or k == n_cohorts:
                r["decision"], r["rule"] = decision.decision, decision.rule
                rows.append(r)
            else:
                walk(path, decision.next_dose, decision.next_cohort_size, r)

    walk([], 1 if first_size == 1 and design.cohort_size > 1 else design.start_dose, first_size, {})
    cols = [c for k in range(1, n_cohorts + 1) for c in (f"cohort_{k}", f"dose_after_{k}")] + ["decision", "rule"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for k in range(1, n_cohorts + 1):
        out[f"dose_after_{k}"] = out[f"dose_after_{k}"].astype("Int64")
    return out
