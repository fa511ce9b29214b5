"""Next-dose decision for a live BOIN trial.

The data are either the trial's cohorts in the compact grammar (``"1NNN 2NTN 3TTN"``; the current dose is the
dose of the last cohort) or per-dose counts with the current dose.  With cohorts, the trial is replayed cohort
by cohort so that elimination happens exactly when the rules say (the elimination check after every cohort at
that cohort's dose); with counts, a dose with n >= 3 and y >= X(n) is eliminated with every dose above it
(the same result, because an eliminated dose receives no more patients).

With **accelerated titration** the replay starts in the titration phase: one patient per dose from dose 1
(``titration``, next cohort of 1) until the first DLT or the top dose; that dose is then completed with
cohort_size - 1 patients (``titration_fill``); the rules below apply from that cohort on.  Counts cannot show
the phase: with counts the titration is taken as finished (and the result says so in ``issues``).

Then, at the current dose d, in this order:

1. ``eliminate`` -- dose 1 is eliminated: stop with no MTD;
2. ``extra_safety`` -- the lowest dose is overly toxic (extra safety rule, n_1 >= 3): stop with no MTD;
3. ``max_sample_size`` -- the maximum sample size is reached: stop and select the MTD;
4. ``eliminate`` -- the current dose is eliminated: go to the highest dose below the eliminated ones;
5. ``n_earlystop`` -- n_d >= n_earlystop and the decision would be to stay: stop and select the MTD;
6. ``escalate`` / ``deescalate`` / ``stay`` by the boundaries, escalation being blocked at the top dose or under
   an eliminated dose (``stay_top``, ``stay_eliminated_above``) and de-escalation at dose 1 (``stay_lowest``).

**Deliberate difference from the reference simulator:** BOIN 2.7.2's ``get.oc`` adds the last cohort and ends the
trial without checking it.  In a live trial the safety rules (1, 2) are applied to every cohort, the last one
included; this can only turn a completed trial into a safety stop, and the MTD selection (which re-checks
elimination) is unaffected.
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..nextdose import NextDose
from ..outcomes import Cohort, DoseCounts, parse_outcomes, validate_cohorts
from .boundaries import count_tables
from .design import BoinDesign

__all__ = ["NextDose", "next_dose"]


def _lowest_eliminated(n, y, X) -> int:
    """Lowest eliminated 0-based dose (J when none) from per-dose counts."""
    hit = [j for j in range(len(n)) if y[j] >= X[n[j]]]
    return min(hit) if hit else len(n)


def _replay(design: BoinDesign, cohorts: list[Cohort], X, history=None) -> tuple[int, str, list[Issue], dict]:
    """Replay the cohorts: (lowest eliminated 0-based dose, phase after the last cohort, issues, the DLTs and
    patients of each eliminated dose when it was eliminated).  A titration cohort out of the rules is an error
    naming the cohort (its first patient's row when ``history``, the cohorts' history, was read from a table)."""
    from ..history import History, cohort_error
    J, cs = design.n_doses, design.cohort_size
    phase = "titration" if design.uses_titration else "cohorts"
    elim, issues = J, []
    at_elim: dict[int, tuple[int, int]] = {}     # DLTs and patients of a dose when it was eliminated
    nn, yy = np.zeros(J, dtype=int), np.zeros(J, dtype=int)
    for k, c in enumerate(cohorts, start=1):
        j = c.dose - 1
        if phase == "titration":
            expected = int(nn.sum()) + 1
            if c.n != 1 or c.dose != expected:
                raise cohort_error(history or History.from_cohorts(cohorts), k,
                                   f"does not follow the accelerated titration: titration treats one patient at "
                                   f"dose {expected}, and it has {c.n} at dose {c.dose}")
            if c.n_dlt or c.dose == J:
                phase = "fill"
        elif phase == "fill":
            if c.n != cs - 1 or c.dose != cohorts[k - 2].dose:
                issues.append(Issue("titration_fill", f"cohort {k} ({c}) was expected to complete dose "
                                                      f"{cohorts[k - 2].dose} with {cs - 1} patient(s)"))
            phase = "cohorts"
        if j >= elim:
            issues.append(Issue("treated_eliminated_dose",
                                f"cohort {k} ({c}) was treated at dose {c.dose}, which had been eliminated"))
        nn[j] += c.n
        yy[j] += c.n_dlt
        if phase == "cohorts" and yy[j] >= X[nn[j]] and j < elim:
            elim = j
            at_elim[j] = (int(yy[j]), int(nn[j]))
    return elim, phase, issues, at_elim


def next_dose(design: BoinDesign, outcomes: str | list[Cohort] | None = None, *, n=None, dlt=None,
              current_dose: int | None = None, history=None) -> NextDose:
    """Decide the next dose of a live BOIN trial (see the module docstring).  ``history``: the patient history
    the cohorts (``outcomes``) were taken from, so that an error names its rows.

    >>> from adcbridge.dosefinding import boin
    >>> d = next_dose(boin(0.3, 5), "1NNN 2NTN")
    >>> d.decision, d.next_dose, d.rule
    ('stay', 2, 'stay')
    """
    J, cs = design.n_doses, design.cohort_size
    if current_dose is not None and (isinstance(current_dose, bool) or not isinstance(current_dose, (int, np.integer))):
        raise ValueError(f"The 'current_dose' argument must be a whole dose level. Got {current_dose!r}.")
    if outcomes is not None:
        if n is not None or dlt is not None:
            raise ValueError("Give either 'outcomes' or 'n' and 'dlt', not both.")
        first = 1 if design.uses_titration else design.start_dose
        cohorts = (parse_outcomes(outcomes, J, first) if isinstance(outcomes, str)
                   else validate_cohorts(outcomes, J, first))
        counts = DoseCounts.from_cohorts(cohorts, J)
        cur = cohorts[-1].dose - 1
        if current_dose is not None and current_dose != cur + 1:
            raise ValueError(f"The 'current_dose' argument ({current_dose}) differs from the dose of the last "
                             f"cohort ({cur + 1}).")
    else:
        if n is None or dlt is None or current_dose is None:
            raise ValueError("Give 'outcomes', or 'n', 'dlt' and 'current_dose'.")
        counts = DoseCounts.from_arrays(n, dlt)
        if counts.n_doses != J:
            raise ValueError(f"The 'n' argument has {counts.n_doses} doses but the design has n_doses = {J}.")
        if not 1 <= current_dose <= J:
            raise ValueError(f"The 'current_dose' argument must be a level in 1..{J}. Got {current_dose}.")
        cur = current_dose - 1
        if counts.n[cur] == 0:
            raise ValueError(f"The 'current_dose' argument ({current_dose}) has no treated patient.")
        cohorts = None

    n_arr, y_arr = counts.arrays()
    total = int(n_arr.sum())
    t = count_tables(design, max(total, design.max_sample_size + J + cs))
    E, D, X, S = t.escalate_le, t.deescalate_ge, t.eliminate_ge, t.stop_lowest_ge
    if cohorts is not None:
        elim, phase, issues, at_elim = _replay(design, cohorts, X, history)
    else:
        elim, phase, at_elim = _lowest_eliminated(n_arr, y_arr, X), "cohorts", {}
        issues = [Issue("titration_assumed_complete", "counts cannot show the titration phase; it is taken as "
                        "finished", "info")] if design.uses_titration else []
    eliminated = tuple(range(elim + 1, J + 1))
    nd, yd = int(n_arr[cur]), int(y_arr[cur])
    lab = design.dose_label
    rate = f"{yd}/{nd} DLTs at dose {lab(cur + 1)}"
    remaining = design.max_sample_size - total

    def result(next0, decision, rule, reason, select=False, size=None):
        if next0 is not None and size is None:
            size = min(cs, remaining)
        table = ColumnTable({"dose": np.arange(1, J + 1), "n": n_arr, "dlt": y_arr,
                              "eliminated": np.arange(J) >= elim})
        mtd = None
        if select:                          # the MTD the trial ends with (isotonic regression, select_mtd)
            from .selection import select_mtd
            mtd = select_mtd(design, n_arr, y_arr).mtd
        return NextDose(spec=design, table=table, issues=tuple(issues),
                        provenance=make_provenance(design, n_arr, y_arr, cur),
                        next_dose=None if next0 is None else next0 + 1, next_cohort_size=size,
                        current_dose=cur + 1, decision=decision, rule=rule, reason=reason, eliminated=eliminated,
                        select_mtd=select, mtd=mtd, design="boin")

    if phase == "titration":
        return result(cur + 1, "escalate", "titration",
                      f"no DLT at dose {lab(cur + 1)} during the accelerated titration: treat one patient at dose "
                      f"{lab(cur + 2)}", size=1)
    if phase == "fill":
        why = "a DLT" if yd else "no DLT up to the highest dose"
        return result(cur, "stay", "titration_fill",
                      f"{why} at dose {lab(cur + 1)} ends the accelerated titration: complete the cohort with "
                      f"{cs - 1} more patient(s) at this dose", size=cs - 1)
    if elim == 0:
        y0, n0 = at_elim.get(0, (int(y_arr[0]), int(n_arr[0])))
        return result(None, "stop", "eliminate",
                      f"{y0}/{n0} DLTs at dose {lab(1)}: Pr(DLT rate > {design.target:g}) > "
                      f"{design.cutoff_eli:g}, so every dose is eliminated: stop the trial, no MTD")
    if design.extrasafe and y_arr[0] >= S[n_arr[0]]:
        return result(None, "stop", "extra_safety",
                      f"{y_arr[0]}/{n_arr[0]} DLTs at the lowest dose: Pr(DLT rate > {design.target:g}) > "
                      f"{design.cutoff_eli - design.offset:g} (extra safety rule): stop the trial, no MTD")
    if remaining <= 0:
        return result(None, "stop", "max_sample_size",
                      f"the maximum sample size ({design.max_sample_size}) is reached: stop and select the MTD",
                      select=True)
    if cur >= elim:
        ye, ne = at_elim.get(elim, (int(y_arr[elim]), int(n_arr[elim])))
        when = f"{ye}/{ne} DLTs at dose {lab(elim + 1)}" + ("" if (ye, ne) == (int(y_arr[elim]), int(n_arr[elim]))
                                                          else " when it was eliminated")
        return result(elim - 1, "de-escalate", "eliminate",
                      f"{rate}: dose {elim + 1} and above are eliminated ({when}: Pr(DLT rate > {design.target:g}) "
                      f"> {design.cutoff_eli:g}); go to dose {lab(elim)}")
    low, high = yd <= E[nd], yd >= D[nd]
    at_top, next_elim = cur == J - 1, cur + 1 >= elim
    stay = (not low and not high) or (cur == 0 and high) or ((at_top or next_elim) and low)
    if nd >= design.n_earlystop and stay:
        return result(None, "stop", "n_earlystop",
                      f"{nd} patients at dose {cur + 1} (n_earlystop = {design.n_earlystop}) and the decision "
                      f"is to stay: stop and select the MTD", select=True)
    if low:
        if at_top:
            return result(cur, "stay", "stay_top", f"{rate} (<= {E[nd]}: escalate), but this is the highest dose")
        if next_elim:
            return result(cur, "stay", "stay_eliminated_above",
                          f"{rate} (<= {E[nd]}: escalate), but dose {cur + 2} is eliminated")
        return result(cur + 1, "escalate", "escalate",
                      f"{rate}: observed rate {yd / nd:.3f} <= lambda_e = {t.lambda_e:.4f}; escalate to dose "
                      f"{lab(cur + 2)}")
    if high:
        if cur == 0:
            return result(cur, "stay", "stay_lowest",
                          f"{rate} (>= {D[nd]}: de-escalate), but this is the lowest dose")
        return result(cur - 1, "de-escalate", "deescalate",
                      f"{rate}: observed rate {yd / nd:.3f} > lambda_d = {t.lambda_d:.4f}; de-escalate to dose "
                      f"{lab(cur)}")
    return result(cur, "stay", "stay",
                  f"{rate}: lambda_e = {t.lambda_e:.4f} < observed rate {yd / nd:.3f} <= lambda_d = "
                  f"{t.lambda_d:.4f}; stay at dose {lab(cur + 1)}")
