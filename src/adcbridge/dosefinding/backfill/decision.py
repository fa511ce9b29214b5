"""The live BF-BOIN decision on a patient history (the kernel of :mod:`.rules` on a batch of one).

The decision depends on where the trial stands:

* the current escalation cohort has free places -> fill it at the current dose (``cohort_open``);
* it is full and some of its DLT outcomes are pending -> the escalation waits (``awaiting_outcomes``); a patient
  arriving now is backfilled at ``backfill_dose`` (one of ``backfill_open``: the highest or lowest, or drawn at
  random among them -- then ``backfill_dose`` is None and the draw is the site's), or referred away when no dose
  is open;
* it is full and assessed -> the cohort is evaluated with every outcome known now (escalation and backfill
  patients): next dose, or a stop -- for toxicity (no MTD), by ``n_earlystop`` or after the ``n_cohorts``-th
  cohort (MTD by BOIN's selection on the escalation patients and the backfill patients assessed before the last
  cohort's assessment ended, when the history has times).

Eliminated doses are those the earlier evaluations eliminated, each replayed with what was known at its time
(:mod:`.history`); an escalation cohort at another dose than the rules gave, and a backfill patient treated at a
dose the opening rule had closed when he arrived, at an open dose other than ``backfill_assign`` gives, or who
arrived after the current cohort was fully assessed (:func:`_backfill_deviations`), are ``dose_deviation``
warnings.
Record keys (``extra``): ``backfill_open`` (levels), ``backfill_dose`` (level or None),
``awaiting_outcomes``, ``cohorts_evaluated``, ``path`` (the evaluation path of :data:`~.rules.PATHS`, None
without an evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adcbridge.results import ColumnTable, Issue, make_provenance

from ..boin.selection import select_mtd_batch, selection_rule
from ..history import after_stop_error, side_of
from ..nextdose import NextDose, move
from .history import counted, counts_at, read_course
from .rules import (
    DECISION_WORDS,
    PATHS,
    evaluate,
    open_doses,
    pick_backfill,
    plus_next,
    tables_for,
)
from .texts import (
    backfill_after_assessment_text,
    backfill_assign_text,
    backfill_deviation_text,
    evaluation_reason,
)

__all__ = ["backfill_decision"]


def _past_evaluations(design, history, course, t):
    """Replay the evaluations of the completed cohorts before the current one: (lowest eliminated 0-based dose,
    issues).  A stop before the current cohort is an error naming the first patient after it."""
    J = design.n_doses
    pts = history.patients
    elim, issues = J, []
    for k in range(len(course.cohorts) - 1):
        first_next = course.cohorts[k + 1][1][0]
        at = pts[first_next].dose_time
        d = course.cohorts[k][0]

        c, N, Y, next_d, stop, early, el, path, dec = _evaluation(history, course, t, J, k, elim, strict=False)
        # an outcome assessed at the very time of the next dosing may or may not have been known: the replay finds
        # a stop or a deviation only when the other reading (strict) finds it too
        tie = at is not None and any(pts[i].assess_time == at for i in range(first_next))
        other = _evaluation(history, course, t, J, k, elim, strict=True) if tie else None
        elim = int(el[0])
        # without times, the backfill outcomes counted are those recorded now, which may have come after the
        # evaluation: what the replay finds then is a warning (the site may not have known), not a refusal
        unsure = at is None and bool(c.bf_n.sum())
        if (stop[0] or early[0]) and other is not None and not (other[4][0] or other[5][0]):
            continue
        if stop[0] or early[0]:
            why = "a toxicity stop" if stop[0] else "the early stop (n_earlystop)"
            if not unsure:
                raise after_stop_error(history, first_next, k + 2,
                                       f"escalation cohort {k + 1} ({PATHS[int(path[0])]}: {why})")
            this, after = pts[course.cohorts[k][1][0]].cohort, pts[first_next].cohort
            issues.append(Issue("course_uncertain", f"the evaluation of cohort {this}, replayed on the backfill "
                                                    f"outcomes recorded now, stops the trial ({PATHS[int(path[0])]}: "
                                                    f"{why}), and cohort {after} was enrolled after it; the history "
                                                    f"has no times, so whether "
                                                    f"those outcomes were known then cannot be told: give dose_time "
                                                    f"and assess_time (with --dlt-window) to check the course"))
            continue
        given = int(next_d[0])
        if given != course.cohorts[k + 1][0] and (other is None or int(other[3][0]) != course.cohorts[k + 1][0]):
            rows = course.cohorts[k + 1][1]
            q, lab = pts[rows[0]], design.dose_label
            why = evaluation_reason(design, int(path[0]), d, given, N[0], Y[0], dec[0], t)
            issues.append(Issue("dose_deviation", f"cohort {q.cohort} ({', '.join(pts[i].patient for i in rows)}) was "
                                                  f"treated at level {lab(q.dose)}, {side_of(q.dose, given + 1)} level "
                                                  f"{lab(given + 1)} that the rules gave after cohort "
                                                  f"{pts[course.cohorts[k][1][0]].cohort} ({PATHS[int(path[0])]}: "
                                                  f"{why})" + (" -- replayed on the backfill outcomes recorded "
                                                               "now (the history has no times)" if unsure else "")
                                                  + "; the decision goes on from the data as treated"))
    return elim, issues


def _evaluation(history, course, t, J: int, k: int, elim: int, *, strict: bool):
    """The evaluation of escalation cohort ``k`` (0-based) replayed when the next cohort's first patient arrived:
    the counts, the totals and :func:`~.rules.evaluate`'s results."""
    first_next, d = course.cohorts[k + 1][1][0], course.cohorts[k][0]
    c = counts_at(history, course, J, k + 1, first_next, history.patients[first_next].dose_time, strict)
    N, Y = (c.n_esc + c.bf_n)[None, :], (c.y_esc + c.bf_y)[None, :]
    return (c, N, Y) + tuple(evaluate(N, Y, np.array([d]), np.array([elim]), c.n_esc[:1], c.y_esc[:1], t))


def backfill_decision(design, history) -> NextDose:
    """The decision on ``history`` (checked by :func:`check_backfill_history`); see the module docstring."""
    J, cs = design.n_doses, design.cohort_size
    t = tables_for(design)
    pts = history.patients
    course = read_course(history)
    elim, issues = _past_evaluations(design, history, course, t)
    issues += _backfill_deviations(design, history, course, t)
    issues += _responses_missing(history)
    d, rows = course.cohorts[-1]
    n_cohorts = len(course.cohorts)
    cur = [pts[i] for i in rows]
    full = len(cur) >= cs
    known = all(not p.pending for p in cur)
    now = counts_at(history, course, J, n_cohorts - (0 if full and known else 1), len(pts), None)
    N, Y = now.n_esc + now.bf_n, now.y_esc + now.bf_y
    extra = {"backfill_open": [], "backfill_dose": None, "awaiting_outcomes": False,
             "cohorts_evaluated": n_cohorts - 1, "path": None}
    per_dose = [None] * J
    lab = design.dose_label

    # the per-dose table counts every patient as he stands now (n: outcome known, pending: not yet), whatever the
    # rules count at this point (while a cohort is open or pending, its known outcomes wait for the evaluation)
    def by_dose(keep) -> np.ndarray:
        return np.bincount([p.dose - 1 for p in pts if keep(p)], minlength=J)

    n_known, y_known = by_dose(lambda p: not p.pending), by_dose(lambda p: bool(p.dlt))

    def result(next0, rule, reason, *, size=None, select=False, mtd=None, elim_now=elim, decision=None):
        table = ColumnTable({
            "dose": np.arange(1, J + 1), "n": n_known, "dlt": y_known, "pending": by_dose(lambda p: p.pending),
            "p_hat": [float(y_known[j] / n_known[j]) if n_known[j] else None for j in range(J)],
            "n_escalation": by_dose(lambda p: not p.backfill), "n_backfill": by_dose(lambda p: p.backfill),
            "responses": by_dose(lambda p: bool(p.efficacy)),
            "backfill_open": [j + 1 in extra["backfill_open"] for j in range(J)],
            "decision": per_dose, "eliminated": np.arange(J) >= elim_now})
        return NextDose(spec=design, table=table, issues=tuple(issues), provenance=make_provenance(design, history),
                        design=design.spec_name, next_dose=None if next0 is None else next0 + 1,
                        next_cohort_size=size if next0 is not None else None, current_dose=d + 1,
                        decision=decision or move(d + 1, None if next0 is None else next0 + 1), rule=rule,
                        reason=reason, eliminated=tuple(range(elim_now + 1, J + 1)), select_mtd=select, mtd=mtd,
                        extra=extra)

    if elim == 0:                   # every dose eliminated by an earlier evaluation (its stop was uncertain)
        return result(None, "eliminated", "every dose was eliminated by an earlier evaluation (see the issues): "
                                          "stop the trial, no MTD", decision="stop")
    if d >= elim:                   # the cohort is at a dose an earlier evaluation eliminated (a deviation)
        issues.append(Issue("treated_eliminated_dose", f"cohort {cur[0].cohort} ({', '.join(p.patient for p in cur)}) "
                                                       f"was treated at level {lab(d + 1)}, which had been eliminated "
                                                       f"(levels {elim + 1} and above)"))
        if not full:
            return result(elim - 1, "eliminated", f"dose {lab(d + 1)} was eliminated by an earlier evaluation: no "
                                                  f"more patients there; the next cohort goes to dose {lab(elim)}",
                          size=cs)
    if not full:
        return result(d, "cohort_open", f"cohort {cur[0].cohort} at dose {lab(d + 1)} has {len(cur)} of {cs} "
                                        f"patients: enrol {cs - len(cur)} more at this dose", size=cs - len(cur))
    if not known:                   # the next cohort, once decided, is never above the eliminated doses
        return _awaiting(design, history, course, d, cur, t, extra, result, min(d, elim - 1))

    # evaluation of the full, assessed cohort
    next_d, stop, early, el, path, dec = evaluate(N[None, :], Y[None, :], np.array([d]), np.array([elim]),
                                                  now.n_esc[:1], now.y_esc[:1], t)
    p, el = int(path[0]), int(el[0])
    per_dose[:d + 1] = [DECISION_WORDS[int(v)] for v in dec[0, :d + 1]]
    extra.update(cohorts_evaluated=n_cohorts, path=PATHS[p])
    reason = evaluation_reason(design, p, d, int(next_d[0]), N, Y, dec[0], t)
    if stop[0]:
        return result(None, PATHS[p], reason + ": stop the trial, no MTD", elim_now=el)
    last = n_cohorts >= design.n_cohorts
    if early[0] or last:
        mtd = _final_mtd(design, history, course, J)
        rule = "n_earlystop" if early[0] else "n_cohorts"
        why = (f"{int(N[d])} patients at dose {lab(d + 1)} (n_earlystop = {design.n_earlystop}) and the decision "
               f"keeps the dose" if early[0] else f"the last escalation cohort (n_cohorts = {design.n_cohorts}) is "
                                                   f"evaluated")
        return result(None, rule, f"{reason}; {why}: stop and select the MTD", select=True, mtd=mtd, elim_now=el)
    if int(next_d[0]) >= el:        # the rules stay at (or escalate from) a dose eliminated before: go below it
        return result(el - 1, PATHS[p], f"{reason}; dose {lab(int(next_d[0]) + 1)} is eliminated: go to dose "
                                        f"{lab(el)}", size=cs, elim_now=el)
    return result(int(next_d[0]), PATHS[p], reason, size=cs, elim_now=el)


@dataclass
class Opening:
    """The backfill opening rule for one arriving patient: the rule's inputs (per 0-based dose) and its result."""

    d: int                  # the current dose (0-based), whose cohort is full and pending
    N: np.ndarray           # totals counted (escalation + assessed backfill)
    Y: np.ndarray
    Nplus: np.ndarray       # totals pooled with the next dose (:func:`~.rules.plus_next`)
    Yplus: np.ndarray
    seen: np.ndarray        # a response seen
    recruited: np.ndarray   # escalation + backfill patients already treated
    opened: np.ndarray      # open for backfill
    safe: np.ndarray        # below d and safe (after the monotone closure)
    under_cap: np.ndarray


def _opening(design, history, course, t, k: int, before_row: int, at: float | None, strict: bool = False) -> Opening:
    """Which doses are open for backfill (:func:`~.rules.open_doses`, the design's rule) for a patient arriving
    while the ``k``-th escalation cohort (0-based) is full and pending, after the rows before ``before_row``, at
    time ``at``: outcomes count when assessed before ``at``, responses one DLT window after dosing
    (:func:`response_known`); ``at`` None (now, or a history without times) counts every outcome known on those
    rows."""
    J = design.n_doses
    pts = history.patients
    d, rows = course.cohorts[k]
    cur = [pts[i] for i in rows]
    c = counts_at(history, course, J, k, before_row, at, strict)
    N, Y = c.n_esc + c.bf_n, c.y_esc + c.bf_y
    n_cur = c.n_esc[d] + sum(counted(p, at, strict) for p in cur)
    y_cur = c.y_esc[d] + sum(bool(p.dlt) for p in cur if counted(p, at, strict))
    Np, Yp = plus_next(N[None, :], Y[None, :], np.array([d]), n_cur, y_cur)
    seen = np.zeros(J, dtype=bool)
    for p in pts[:before_row]:
        if p.efficacy and not p.backfill and response_known(p, at, design.dlt_window, strict):   # BF-6
            seen[p.dose - 1] = True
    recruited = c.n_esc + np.bincount([pts[i].dose - 1 for i in course.backfill if i < before_row], minlength=J)
    opened, safe, under_cap = open_doses(N[None, :], Y[None, :], Np, Yp, seen[None, :], recruited[None, :],
                                         np.array([d]), t)
    return Opening(d, N, Y, Np[0], Yp[0], seen, recruited, opened[0], safe[0], under_cap[0])


def response_known(p, at: float | None, window: float, strict: bool = False) -> bool:
    """Whether patient ``p``'s response counts at time ``at`` (None: now): a response is assessed at the end of
    the DLT window, one window after dosing (as in bfboin's simulation, even for a patient whose DLT came
    earlier), so it counts from ``dose_time + window`` on (on that day too, as outcomes do: :func:`.history.counted`);
    without a ``dose_time``, from the patient's ``assess_time``, or on the rows before when the history has no
    times.  Only escalation patients' responses open a dose (SPEC BF-6; the caller leaves backfill patients out)."""
    if at is None:
        return True
    known = p.dose_time + window if p.dose_time is not None else p.assess_time
    if known is None:
        return True
    return known < at if strict else known <= at


def _backfill_deviations(design, history, course, t) -> list[Issue]:
    """A ``dose_deviation`` warning for each backfill patient (the decision goes on from the data as treated):

    * who arrived (``dose_time``) after every patient of the current escalation cohort had been assessed
      (``assess_time``): the cohort's evaluation was due, and an arriving patient belongs to the next escalation
      cohort (or, after the last one, to no cohort: backfill ends with the escalation);
    * treated at a dose the opening rule had closed when he arrived (at his ``dose_time``; without times, on the
      rows before his);
    * treated at an open dose other than the one ``backfill_assign`` gives (the highest or the lowest open dose;
      with ``random`` any open dose is the rule's)."""
    pts = history.patients
    starts = [rows[0] for _, rows in course.cohorts]
    issues = []
    for i in course.backfill:
        p = pts[i]
        k = sum(s < i for s in starts) - 1
        assessed = _assessed_before(history, course.cohorts[k][1], p.dose_time)
        if assessed is not None:
            issues.append(Issue("dose_deviation", backfill_after_assessment_text(
                design, history, i, k, pts[course.cohorts[k][1][0]].cohort, assessed)))
            continue
        op = _opening(design, history, course, t, k, i, p.dose_time)
        # an outcome or response of the very time of his arrival may or may not have been known: a deviation only
        # when both readings find it (the warning quotes the reading that counts them)
        ops = (op, _opening(design, history, course, t, k, i, p.dose_time, strict=True)) \
            if p.dose_time is not None else (op,)
        if not any(o.opened[p.dose - 1] for o in ops):
            issues.append(Issue("dose_deviation", backfill_deviation_text(design, history, i, op)))
            continue
        assign = design.backfill_assign
        if assign != "random":
            picks = [int(pick_backfill(o.opened[None, :], assign)[0]) for o in ops]
            if all(j != p.dose - 1 for j in picks) and op.opened.any():
                issues.append(Issue("dose_deviation", backfill_assign_text(design, history, i, op, picks[0])))
    return issues


def _responses_missing(history) -> list[Issue]:
    """A warning naming the escalation patients whose DLT window ended without a DLT and whose response is not
    recorded (``efficacy`` empty), at doses where no escalation patient's response is recorded: each is read as no
    response, which keeps backfill closed there (at a dose with a recorded response they change nothing)."""
    from ..history import patients_text
    pts = history.patients
    if all(p.efficacy is None for p in pts) and any(not p.backfill and p.dlt is False for p in pts):
        # no efficacy column (or the outcome notation, which has none), once a window has ended without a DLT
        return [Issue("response_missing", "no patient has a recorded response (efficacy), so no dose opens for "
                                          "backfill: give the responses in an efficacy column of a patient history "
                                          "(the outcome notation, '1NNN', cannot carry them)")]
    responded = {p.dose for p in pts if not p.backfill and p.efficacy}
    missing = [(k, p) for k, p in enumerate(pts, start=1)
               if not p.backfill and p.dlt is False and p.efficacy is None and p.dose not in responded]
    if not missing:
        return []
    levels = ", ".join(str(d) for d in sorted({p.dose for _, p in missing}))
    who = patients_text(history, missing)
    return [Issue("response_missing", f"{len(missing)} escalation patient(s) completed the DLT window without a "
                                      f"recorded response (efficacy empty): {who}; each is read as no response, "
                                      f"which keeps backfill closed at level(s) {levels} (no response recorded "
                                      f"there): record the responses (efficacy 0 or 1)")]


def _assessed_before(history, rows: list[int], at: float | None) -> float | None:
    """When the last patient of the escalation cohort on ``rows`` was assessed, if every one of them had been
    assessed before time ``at`` (None: no such time, or ``at`` None)."""
    pts = [history.patients[r] for r in rows]
    if at is None or any(q.pending or q.assess_time is None for q in pts):
        return None
    last = max(q.assess_time for q in pts)
    return last if last < at else None


def _awaiting(design, history, course, d, cur, t, extra, result, next0: int):
    """The cohort is full and pending: which doses are open for backfill for a patient arriving now; ``next0`` is
    the record's next dose meanwhile (the current one, or below the eliminated doses)."""
    lab = design.dose_label
    pts = history.patients
    op = _opening(design, history, course, t, len(course.cohorts) - 1, len(pts), _latest_time(history))
    seen, opened = op.seen, op.opened[None, :]
    levels = [int(j) + 1 for j in np.flatnonzero(op.opened)]
    assign = design.backfill_assign
    k = -1 if assign == "random" else int(pick_backfill(opened, assign)[0])
    extra.update(backfill_open=levels, backfill_dose=None if k < 0 else k + 1, awaiting_outcomes=True)
    pending = sum(p.pending for p in cur)
    head = (f"cohort {cur[0].cohort} at dose {lab(d + 1)} is full and {pending} of its patients are pending: the "
            f"next escalation decision waits for their outcomes")
    if not levels:
        why = "no lower dose" if d == 0 else "no lower dose has shown a response" if not seen[:d].any() else \
            _closed_why(design, op)
        tail = f"; backfill is closed ({why}): a patient arriving now is referred away"
    elif k >= 0:
        tail = (f"; backfill is open at dose(s) {', '.join(map(str, levels))}: a patient arriving now is "
                f"backfilled at dose {lab(k + 1)} (the {assign} open dose)")
    else:
        tail = (f"; backfill is open at dose(s) {', '.join(map(str, levels))}: a patient arriving now is "
                f"backfilled at one of them drawn at random")
    return result(next0, "awaiting_outcomes", head + tail, size=0, decision="stay")


def _closed_why(design, op: Opening) -> str:
    """Why no lower dose with a response is open: not safe, or past the cap (n_cap patients before the new one)."""
    responding = np.flatnonzero(op.seen[:op.d])
    unsafe = [int(j) + 1 for j in responding if not op.safe[j]]
    full = [int(j) + 1 for j in responding if op.safe[j] and not op.under_cap[j]]
    parts = []
    if unsafe:
        parts.append(f"not safe at level(s) {', '.join(map(str, unsafe))}")
    if full:
        parts.append(f"level(s) {', '.join(map(str, full))} already hold more than n_cap = {design.n_cap} patients "
                     f"(escalation and backfill)")
    return "no lower dose with a response is open: " + "; ".join(parts)


def _latest_time(history) -> float | None:
    """The time of the live decision in a history with times: its latest recorded time (a dosing or an
    assessment), so that a response counts as in the replay of a later enrolment (one DLT window after dosing);
    None without times (every recorded outcome and response counts)."""
    times = [v for p in history.patients for v in (p.dose_time, p.assess_time) if v is not None]
    return max(times) if times else None


def _final_mtd(design, history, course, J) -> int | None:
    """BOIN's MTD on the escalation patients and the backfill patients assessed before the end of the last
    cohort's assessment (all assessed backfill patients when the history has no times)."""
    pts = history.patients
    last = [pts[i] for i in course.cohorts[-1][1]]
    ends = [p.assess_time for p in last]
    at = max(ends) if all(e is not None for e in ends) else None
    c = counts_at(history, course, J, len(course.cohorts), len(pts), at)
    rule = selection_rule(design, design.max_patients_per_dose)
    mtd = int(select_mtd_batch((c.n_esc + c.bf_n)[None, :], (c.y_esc + c.bf_y)[None, :], rule)[0])
    return None if mtd < 0 else mtd + 1

