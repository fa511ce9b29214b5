"""The next-dose decision of a live BOIN12 trial.

The history is replayed cohort by cohort: each cohort is added at its dose and the elimination rules are applied
there (toxicity: that dose and every higher one; futility: that dose only), exactly when the simulator applies
them; the flags persist.  After the last cohort the whole decision of :mod:`.kernel` is taken.  When the trial
has treated its ``n_cohorts * cohort_size`` patients (or all of them at one dose) and did not stop, it ends and
the OBD is selected (:mod:`.selection`).

**Ties.**  The reference breaks exact ties between candidate doses at random (``runif() * 1e-15`` added to the
desirabilities; frequent with a start dose above 1, where the untried doses below and above share the prior
desirability).  A live decision must be deterministic and replayable, so its uniforms come from a generator
seeded with the SHA-256 digest of the history (:func:`~.kernel.tie_uniforms`): the same patients always give the
same decision, different trials break ties independently, and the record names the tied doses
(``tied_doses``).  The simulator draws its uniforms from its random stream, as the reference does.

Every patient needs an efficacy outcome (True/False): one without is refused and named.
"""

from __future__ import annotations

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..history import History, _row_error
from ..nextdose import NextDose, move
from .boundaries import boin12_tables, desirability, quasi_successes
from .kernel import Rule, choose, eliminate, tie_uniforms
from .selection import select_obd

__all__ = ["check_history", "decide", "record_rule"]


def check_history(design, history: History) -> History:
    """The checks every design shares, then an efficacy outcome for every patient."""
    history = history.check(design.n_doses, start_dose=design.first_dose, allow_skipping=False,
                            pending=False, backfill=False, design=design.spec_name)
    for k, p in enumerate(history.patients, start=1):
        if p.efficacy is None:
            raise _row_error(history, k, p, "efficacy", "the efficacy outcome is missing: boin12 decides on "
                                                        "toxicity and efficacy, so record the response "
                                                        "(1 or 0, true or false) of every patient")
    return history


def _cohorts(history: History) -> list[tuple[int, int, int, int]]:
    """(0-based dose, patients, DLTs, responses) of each cohort, in order."""
    out: list[list[int]] = []
    number = None
    for p in history.patients:
        if p.cohort != number:
            out.append([p.dose - 1, 0, 0, 0])
            number = p.cohort
        out[-1][1] += 1
        out[-1][2] += bool(p.dlt)
        out[-1][3] += bool(p.efficacy)
    return [tuple(c) for c in out]


def record_rule(rule: int, total: int, max_n: int) -> str:
    """The record's ``rule`` word of a kernel rule, with the end of the trial at N patients."""
    if rule not in Rule.stops and rule != Rule.DOSE_FULL and total >= max_n:
        return "max_sample_size"
    return Rule.names[rule]


def decide(design, history: History) -> NextDose:
    """The decision on a checked history (see the module docstring)."""
    J, cs, N = design.n_doses, design.cohort_size, design.max_sample_size
    cohorts = _cohorts(history)
    total = len(history.patients)
    t = boin12_tables(design, max(N, total))
    n = np.zeros((1, J), dtype=np.int64)
    yt, ye = n.copy(), n.copy()
    tox, fut = np.zeros((1, J), dtype=bool), np.zeros((1, J), dtype=bool)
    issues = []
    for k, (d, m, a, b) in enumerate(cohorts, start=1):
        if tox[0, d] or fut[0, d]:
            issues.append(Issue("treated_eliminated_dose", f"cohort {k} was treated at dose {d + 1}, which had been "
                                                           f"eliminated"))
        n[0, d] += m
        yt[0, d] += a
        ye[0, d] += b
        tox_hit, _ = eliminate(t, n, yt, ye, tox, fut, np.array([d]))
    cur = cohorts[-1][0]
    u11, u00 = design.utility
    raw = desirability(n, yt, ye, u11, u00, t.benchmark)
    if not np.all(np.isfinite(raw)):                  # never decide on (or print) a NaN desirability
        bad = [j + 1 for j in np.flatnonzero(~np.isfinite(raw[0]))]
        raise ValueError(f"boin12: the desirability of dose {', '.join(map(str, bad))} is undefined (utility "
                         f"{design.utility}, target {design.target:g}); check the design's utilities")
    flagged = tox | fut
    step = choose(t, n, yt, raw, flagged, tox_hit, np.array([cur]), tie_uniforms(history.digest()), N)
    code = int(step.rule[0])
    rule = record_rule(code, total, N)
    stop = code in Rule.stops
    select = not stop and (code == Rule.DOSE_FULL or total >= N)
    nxt = None if stop or select else int(step.next_dose[0]) + 1
    obd = mtd = None
    sel = None
    if select:
        sel = select_obd(design, n, yt, ye, flagged)
        obd, mtd = int(sel.obd[0]) + 1, int(sel.mtd[0]) + 1
    tied = [int(v) + 1 for v in step.tied[0] if v >= 0]
    reason = _reason(design, rule, cur, n[0], yt[0], ye[0], t, step, tied, obd)
    table = _table(design, n[0], yt[0], ye[0], step.desirability[0], tox[0], fut[0], sel)
    eliminated = tuple(int(j) + 1 for j in np.flatnonzero(flagged[0]))
    extra = {"obd": obd, "eliminated_toxicity": [int(j) + 1 for j in np.flatnonzero(tox[0])],
             "eliminated_futility": [int(j) + 1 for j in np.flatnonzero(fut[0] & ~tox[0])], "tied_doses": tied}
    return NextDose(spec=design, table=table, issues=tuple(issues),
                    provenance=make_provenance(design, n, yt, ye, cur),
                    next_dose=nxt, next_cohort_size=None if nxt is None else min(cs, N - total),
                    current_dose=cur + 1, decision="stop" if nxt is None else move(cur + 1, nxt), rule=rule,
                    reason=reason, eliminated=eliminated, select_mtd=select, mtd=mtd, design=design.spec_name,
                    extra=extra)


def _table(design, n, yt, ye, R, tox, fut, sel) -> ColumnTable:
    J = design.n_doses
    u11, u00 = design.utility
    x = quasi_successes(n, yt, ye, u11, u00)
    treated = n > 0
    cols = {
        "dose": np.arange(1, J + 1), "n": n, "dlt": yt, "pending": np.zeros(J, dtype=np.int64),
        "p_hat": [float(yt[j] / n[j]) if treated[j] else None for j in range(J)],
        "responses": ye,
        "q_hat": [float(ye[j] / n[j]) if treated[j] else None for j in range(J)],
        "utility": [float(100 * x[j] / n[j]) if treated[j] else None for j in range(J)],
        "desirability": R.astype(float),
        "eliminated": [("toxicity" if tox[j] else "futility" if fut[j] else None) for j in range(J)],
    }
    if sel is not None:
        cols.update({"p_est": sel.p_est[0], "q_est": sel.q_est[0], "utility_est": sel.utility[0]})
    return ColumnTable(cols)


def _reason(design, rule, cur, n, yt, ye, t, step, tied, obd) -> str:
    lab = design.dose_label
    nd, d1 = int(n[cur]), cur + 1
    seen = f"{int(yt[cur])}/{nd} DLTs and {int(ye[cur])}/{nd} responses at dose {lab(d1)}"
    nxt = int(step.next_dose[0]) + 1
    if rule == "toxicity_stop":
        return (f"{seen}: Pr(DLT rate > {design.target:g}) > {design.cutoff_eli:g}, so the lowest dose and every "
                f"dose above it are eliminated: stop the trial, no OBD")
    if rule == "all_eliminated":
        return f"{seen}: every dose is eliminated (toxicity or futility): stop the trial, no OBD"
    if rule == "stop_no_lower":
        return (f"{seen} (>= {int(t.deescalate_ge[nd])}: de-escalate), but no lower dose is open and dose {d1} is "
                f"eliminated: stop the trial, no OBD")
    if rule == "chosen_eliminated":
        return (f"{seen}: dose {d1}, eliminated for futility, has the highest desirability among the admissible "
                f"doses: stop the trial, no OBD")
    if rule in ("dose_full", "max_sample_size"):
        what = (f"all {design.max_sample_size} patients are at dose {lab(d1)}" if rule == "dose_full" else
                f"the maximum sample size ({design.max_sample_size}) is reached")
        return f"{seen}; {what}: stop and select the OBD: dose {lab(obd)}"
    if rule == "deescalate":
        return f"{seen} (>= {int(t.deescalate_ge[nd])}: de-escalate): go to dose {lab(nxt)}, the next open lower dose"
    if rule == "stay_no_lower":
        return f"{seen} (>= {int(t.deescalate_ge[nd])}: de-escalate), but no lower dose is open: stay"
    cands = [int(v) + 1 for v in step.candidates[0] if v >= 0]
    R = step.desirability[0]
    listed = ", ".join(f"{j}: {R[j - 1]:.4f}" for j in cands)
    text = f"{seen}; desirability of the admissible doses ({listed})"
    if tied:
        text += (f"; doses {', '.join(map(str, tied))} tie exactly, broken by a draw seeded from the history's "
                 f"digest")
    if rule == "exploration":
        return (text + f"; dose {lab(nxt)} is untried with {nd} >= 9 patients at dose {d1} and DLTs below the "
                       f"de-escalation count: explore dose {lab(nxt)}")
    return text + f": go to dose {lab(nxt)}"
