"""BF-BOIN in words: the reason of an evaluation, and the protocol paragraphs."""

from __future__ import annotations

import numpy as np

from ..protocol import _pct
from .rules import (
    DE,
    DECISION_WORDS,
    ESC,
    P_DE,
    P_ELIM,
    P_ELIM_LOWEST,
    P_ESC,
    P_ESC_BLOCKED,
    P_EXTRA,
    P_POOL_DE,
    P_POOL_ELIM_LOWEST,
    P_POOL_ESC,
    P_POOL_ESC_BLOCKED,
    P_POOL_EXTRA,
    P_POOL_STAY,
    P_STAY,
    P_STAY_LOWEST,
    P_STAY_LOWEST_SAFE,
)

__all__ = ["backfill_text", "evaluation_reason"]


def evaluation_reason(design, path: int, d: int, next_d: int, N, Y, dec, t) -> str:
    """The evaluation of the cohort at 0-based dose ``d`` in words."""
    lab = design.dose_label
    at = f"{int(Y[d])}/{int(N[d])} DLTs at dose {lab(d + 1)} (escalation and assessed backfill patients)"
    lower = ", ".join(f"{j + 1}: {DECISION_WORDS[int(dec[j])]}" for j in range(d))
    conflict = f"; the lower doses disagree ({lower}), so the data are pooled" if path >= P_POOL_ESC else ""
    texts = {
        P_ESC: f"{at}: escalate to dose {lab(next_d + 1)}",
        P_ESC_BLOCKED: f"{at}: escalate, but this is the highest dose or the next is eliminated: stay",
        P_STAY: f"{at}: stay at dose {lab(d + 1)}",
        P_DE: f"{at}: de-escalate to dose {lab(next_d + 1)}",
        P_STAY_LOWEST: f"{at}: de-escalate, but this is the lowest dose: stay",
        P_STAY_LOWEST_SAFE: f"{at}: de-escalate, but this is the lowest dose and the extra safety rule does not "
                            f"stop the trial: stay",
        P_EXTRA: f"{at}: the lowest dose is overly toxic (Pr(DLT rate > {design.target:g}) > "
                 f"{design.cutoff_eli - design.offset:g}, extra safety rule)",
        P_ELIM_LOWEST: f"{at}: Pr(DLT rate > {design.target:g}) > {design.cutoff_eli:g}, the lowest dose is "
                       f"eliminated",
        P_ELIM: f"{at}: Pr(DLT rate > {design.target:g}) > {design.cutoff_eli:g}; dose {lab(d + 1)} and above are "
                f"eliminated, de-escalate to dose {lab(next_d + 1)}",
        P_POOL_ESC: f"{at}{conflict}: the pooled rate calls for escalation to dose {lab(next_d + 1)}",
        P_POOL_ESC_BLOCKED: f"{at}{conflict}: the pooled rate calls for escalation, but this is the highest dose "
                            f"or the next is eliminated: stay",
        P_POOL_DE: f"{at}{conflict}: the pooled rate calls for de-escalation "
                   + _pooled_deescalation(design, d, next_d, N, Y, dec, t),
        P_POOL_ELIM_LOWEST: f"{at}{conflict}: the pooled rate calls for de-escalation below the lowest dose, which "
                            f"is eliminated (Pr(DLT rate > {design.target:g}) > {design.cutoff_eli:g})",
        P_POOL_EXTRA: f"{at}{conflict}: the pooled rate calls for de-escalation below the lowest dose, which is "
                      f"overly toxic (extra safety rule on its escalation patients)",
        P_POOL_STAY: f"{at}{conflict}: the pooled rate keeps the dose: stay",
    }
    return texts[path]


def _pooled_deescalation(design, d: int, next_d: int, N, Y, dec, t) -> str:
    """Where a pooled de-escalation goes, and why (the rule of :func:`~.rules.evaluate`): to the highest dose k
    whose data pooled from b* (the highest disagreeing lower dose) up to k are below the de-escalation boundary;
    when no such pool is, to the dose below b*, or -- b* being the lowest dose -- to the lowest dose, kept because
    it is neither eliminated nor stopped by the extra safety rule."""
    lab = design.dose_label
    escalating = int(dec[d]) == ESC
    bad = [j for j in range(d) if (int(dec[j]) != ESC if escalating else int(dec[j]) >= DE)]
    b = max(bad) if bad else 0
    n_pool = y_pool = 0
    for k in range(b, d + 1):
        n_pool, y_pool = n_pool + int(N[k]), y_pool + int(Y[k])
        if k == next_d and y_pool < t.D[n_pool]:
            pooled = f"levels {b + 1}-{k + 1}" if k > b else f"dose {lab(b + 1)} alone"
            return (f"to dose {lab(next_d + 1)}, the highest dose whose data pooled from dose {lab(b + 1)} up are "
                    f"below the de-escalation boundary ({pooled}: {y_pool}/{n_pool} DLTs)")
    span = f"levels {b + 1}-{d + 1}"
    if next_d < b:
        return (f"to dose {lab(next_d + 1)}, below the pooled doses: no pool of {span} from dose {lab(b + 1)} up is "
                f"below the de-escalation boundary")
    return (f"below the lowest dose: no pool of {span} from the lowest dose up is below the de-escalation boundary "
            f"(dose {lab(1)} alone: {int(Y[0])}/{int(N[0])} DLTs); dose {lab(1)} is not eliminated"
            + (" nor stopped by the extra safety rule" if design.extrasafe else "")
            + f", so the trial goes to dose {lab(next_d + 1)}, the lowest dose")


def backfill_text(d) -> str:
    """The protocol paragraphs of a BF-BOIN design."""
    from ..protocol import boin_text
    assign = {"highest": "the highest open dose", "lowest": "the lowest open dose",
              "random": "an open dose drawn at random"}[d.backfill_assign]
    parts = [
        boin_text(d).split("\n\n")[0],
        f"Backfill (BF-BOIN; Zhao, Yuan, Korn and Freidlin, 2024). While the current cohort is full and its DLT "
        f"outcomes (window {d.dlt_window:g}) are pending, newly arriving patients are backfilled at a dose below "
        f"the current one that has shown at least one response in the escalation cohorts, has been cleared for "
        f"safety (its observed DLT count is below the de-escalation boundary, alone or pooled with the next "
        f"higher dose, and the same holds for every lower dose) and has treated no more than {d.n_cap} patients "
        f"so far (escalation and backfill); they "
        f"receive {assign}. Otherwise they are not enrolled.",
        "Every decision counts the DLT outcomes of the escalation and the backfill patients known at the time. "
        "After each cohort the BOIN decision (the boundaries of the decision table) is taken "
        "at the current dose and at every lower dose; when a lower dose disagrees with the current one, the data "
        "from the highest disagreeing dose up to the current one are pooled and the decision is taken on the "
        "pooled rate." + (" With 1 DLT in the first 3 patients at the current dose, the dose is kept (3+3 "
                           "option)." if d.three_plus_three else ""),
        f"A dose whose posterior probability of a DLT rate above {_pct(d.target)} exceeds {d.cutoff_eli:g} is "
        f"eliminated with all higher doses; the trial stops without an MTD when the lowest dose is eliminated"
        + (f" or, under the extra safety rule, when that probability exceeds {d.cutoff_eli - d.offset:g} at the "
           f"lowest dose" if d.extrasafe else "")
        + f". The dose escalation ends after {d.n_cohorts} cohorts"
        + (f", or earlier when {d.n_earlystop} patients have been treated at the current dose and the decision "
           f"keeps it" if d.n_earlystop < d.n_cohorts * d.cohort_size + d.n_cap + 1 else "")
        + "; backfill ends with it. The MTD is selected by isotonic regression of the DLT rates of all evaluable "
          "patients (escalation and backfill), as in BOIN" + (", among doses whose estimate does not exceed the "
                                                             "de-escalation boundary" if d.bound_mtd else "") + ".",
    ]
    return "\n\n".join(parts)


def backfill_deviation_text(design, history, row: int, op) -> str:
    """The ``dose_deviation`` warning about the backfill patient of 0-based ``row``, treated at a dose the opening
    rule had closed when he arrived (``op``: the rule's :class:`~.decision.Opening` at his arrival): every part
    of the rule his dose failed."""
    from ..history import _row_place
    from .rules import safe_alone_or_pooled, tables_for
    p = history.patients[row]
    k, d = p.dose - 1, op.d

    def lev(j: int) -> str:
        return f"level {design.dose_label(j + 1)}"
    why = []
    if k >= d:
        why.append(f"{lev(k)} is not below the current dose ({lev(d)})")
    else:
        if not op.seen[k]:
            why.append(f"no response had been seen at {lev(k)}")
        if not op.safe[k]:
            alone = safe_alone_or_pooled(op.N, op.Y, op.Nplus, op.Yplus, tables_for(design))
            j = k if not alone[k] else min(j for j in range(k) if not alone[j])
            why.append(f"{lev(j)} was not safe ({int(op.Y[j])}/{int(op.N[j])} DLTs, and {int(op.Yplus[j])}/"
                       f"{int(op.Nplus[j])} pooled with {lev(j + 1)}: at or above the de-escalation boundary)"
                       + ("" if j == k else ", which closes every dose above it"))
        if not op.under_cap[k]:
            why.append(f"{lev(k)} had reached the cap ({int(op.recruited[k])} patients, escalation and backfill; "
                       f"n_cap = {design.n_cap} admits one more only while it has at most {design.n_cap})")
    when = (f" {history._at(p.dose_time)}, when that dose was" if p.dose_time is not None
            else ", which was (on the rows before his)")
    return (f"backfill patient {p.patient} ({_row_place(history, row + 1)}) was treated at {lev(k)}{when} not open "
            f"for backfill: {'; '.join(why)}; the decision goes on from the data as treated")


def backfill_assign_text(design, history, row: int, op, j: int) -> str:
    """The ``dose_deviation`` warning about the backfill patient of 0-based ``row``, treated at an open dose other
    than the 0-based ``j`` that ``backfill_assign`` gives among the open doses of ``op``."""
    from ..history import _row_place
    p = history.patients[row]
    lab = design.dose_label
    levels = ", ".join(lab(int(k) + 1) for k in np.flatnonzero(op.opened))
    when = f" {history._at(p.dose_time)}" if p.dose_time is not None else ""
    return (f"backfill patient {p.patient} ({_row_place(history, row + 1)}) was treated at level {lab(p.dose)}, "
            f"but the {design.backfill_assign} dose open for backfill when he arrived{when} was level {lab(j + 1)} "
            f"(open: level(s) {levels}; backfill_assign = {design.backfill_assign}); the decision goes on from the "
            f"data as treated")


def backfill_after_assessment_text(design, history, row: int, k: int, cohort: int, assessed: float) -> str:
    """The ``dose_deviation`` warning about the backfill patient of 0-based ``row``, who arrived after every patient
    of the ``k``-th (0-based) escalation cohort, numbered ``cohort`` in the history, had been assessed (the last
    ``assessed``)."""
    from ..history import _row_place
    p = history.patients[row]
    due = ("a patient arriving then went to the next escalation cohort, or to none had it stopped the trial"
           if k + 1 < design.n_cohorts else "it was the last escalation cohort, so the escalation and backfill had "
                                            "ended")
    return (f"backfill patient {p.patient} ({_row_place(history, row + 1)}) arrived {history._at(p.dose_time)}, "
            f"after cohort {cohort} had been fully assessed {history._at(assessed)}: backfill is open only while the "
            f"current cohort's outcomes are pending; its evaluation was due, and {due}; the decision goes on from "
            f"the data as treated")
