"""What the simulator decided, as histories: the conformance cases of the combination design (the live decision
must agree at every logged decision point), and the dose-transition pathways of the first cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..history import History, Patient
from .kernel import RULES
from .simulate import TITRATION_STEP, run_trials

__all__ = ["MAX_CASES", "conformance_cases", "conformance_scenario", "pathways"]

MAX_CASES = 80     # logged decisions yielded (each is replayed cohort by cohort by the live decision)


def conformance_scenario(design) -> np.ndarray:
    """True DLT probabilities rising with both agents, from about 0.1 to 0.55, so that trials escalate,
    de-escalate, stop and tie."""
    J, K = design.grid
    a, b = np.meshgrid(np.arange(J), np.arange(K), indexing="ij")
    return np.clip(0.08 + 0.45 * (a / max(J - 1, 1) + b / max(K - 1, 1)) / 2, 0, 1)


def _history(design, cohorts) -> History:
    """Cohorts (cell, DLTs[, size]) as a history (size: the design's cohort size unless given)."""
    patients, k = [], 0
    for c_no, (cell, dlt, *size) in enumerate(cohorts, start=1):
        a, b = divmod(int(cell), design.grid[1])
        for i in range(size[0] if size else design.cohort_size):
            k += 1
            patients.append(Patient(f"P{k}", c_no, None, bool(i < dlt), dose_a=a + 1, dose_b=b + 1))
    return History(tuple(patients))


def _pair(cell, K):
    return [int(cell) // K + 1, int(cell) % K + 1]


def conformance_cases(design, n_trials: int = 40, seed: int = 1):
    """(history, expected) at the simulator's decision points (at most :data:`MAX_CASES`): ``next_dose`` (None
    for a stop), the ``decision`` of the one-MTD design, and the selected ``mtd`` when the trial stops."""
    J, K = design.grid
    runs = run_trials(design, conformance_scenario(design), n_trials, seed, log=True)
    count = titration_cases = 0
    for run in runs:
        cohorts: dict[int, list] = {}
        for live, cur, dlt, nxt, code, size in run.log:
            for t, c, d, x, k in zip(live, cur, dlt, nxt, code):
                cohorts.setdefault(int(t), []).append((int(c), int(d), int(size)))
                expected = {"next_dose": _pair(x, K) if x >= 0 else None}
                if k < 0:                                                   # a step of the titration
                    titration_cases += 1
                    if titration_cases > MAX_CASES // 4:                   # leave room for the rules
                        continue
                    expected["decision"] = "escalate" if k == TITRATION_STEP else "stay"
                elif not design.mtd_contour:
                    expected["decision"] = RULES[int(k)][0]
                if x < 0:
                    sel = run.selected[t]
                    if design.mtd_contour:
                        picks = [[i + 1, int(np.flatnonzero(sel[i])[0]) + 1] for i in range(J) if sel[i].any()]
                        expected["mtd"] = picks or None
                    else:
                        expected["mtd"] = _pair(np.flatnonzero(sel.ravel())[0], K) if sel.any() else None
                yield _history(design, cohorts[int(t)]), expected
                count += 1
                if count >= MAX_CASES:
                    return


def pathways(design, n_cohorts: int = 3) -> pd.DataFrame:
    """One row per pathway of the first ``n_cohorts`` cohorts (every DLT count of each, from the start
    combination, through the live decision): ``cohort_k`` (``"(a, b): y/m"``), ``dose_after_k`` (``"(a, b)"``,
    empty after a stop), then the final ``decision`` and ``rule``."""
    from ..decide import next_dose
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, int) or n_cohorts < 1:
        raise ValueError(f"The 'n_cohorts' argument must be a positive integer. Got {n_cohorts!r}.")
    cs = design.cohort_size
    if (cs + 1) ** n_cohorts > 100_000:
        raise ValueError(f"The 'n_cohorts' argument ({n_cohorts}) gives more than 100000 pathways.")
    K = design.grid[1]
    start = (design.start_dose[0] - 1) * K + design.start_dose[1] - 1
    rows = []

    def walk(cohorts, cell, size, row):
        k = len(cohorts) + 1
        for dlt in range(size + 1):
            path = cohorts + [(cell, dlt, size)]
            d = next_dose(design, _history(design, path))
            r = dict(row)
            a, b = _pair(cell, K)
            r[f"cohort_{k}"] = f"({a}, {b}): {dlt}/{size}"
            r[f"dose_after_{k}"] = None if d.next_dose is None else f"({d.next_dose[0]}, {d.next_dose[1]})"
            if d.next_dose is None or k == n_cohorts:
                r["decision"], r["rule"] = d.decision, d.rule
                rows.append(r)
            else:
                walk(path, (d.next_dose[0] - 1) * K + d.next_dose[1] - 1, d.next_cohort_size or cs, r)

    walk([], start, 1 if design.uses_titration else cs, {})
    cols = [c for k in range(1, n_cohorts + 1) for c in (f"cohort_{k}", f"dose_after_{k}")] + ["decision", "rule"]
    return pd.DataFrame(rows).reindex(columns=cols)
