"""A BF-BOIN history read as the design sees it: escalation cohorts, backfill patients, what was known when.

:func:`check_backfill_history` applies the design's own checks (after the shared ones of
:meth:`History.check`), naming the patient row; :func:`read_course` turns a checked history into the arrays the
decision kernel takes.

Times: a patient's ``dose_time`` is his arrival, ``assess_time`` the end of his DLT assessment (the DLT, or the
end of the window).  The evaluation of escalation cohort k happened when the first patient of cohort k + 1
arrived; the backfill patients counted in it are those assessed before that time.  Without times, a backfill
patient enrolled before cohort k + 1 counts in the evaluation of cohort k when his outcome is known.  Whether a
backfill patient's dose was open when he arrived is judged the same way: with the outcomes (and responses) assessed
before his ``dose_time``, or, without times, those known on the rows before his.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..history import History, _row_error, cohort_size_error

__all__ = ["Course", "check_backfill_history", "read_course"]


@dataclass
class Course:
    """The escalation cohorts (0-based dose, row numbers) and the backfill rows of a history, in order."""

    cohorts: list[tuple[int, list[int]]]
    backfill: list[int]

    @property
    def current(self) -> int:
        return self.cohorts[-1][0]


def _course(history: History) -> Course:
    cohorts: list[tuple[int, list[int]]] = []
    backfill: list[int] = []
    number = None
    for i, p in enumerate(history.patients):
        if p.backfill:
            backfill.append(i)
        elif p.cohort == number:
            cohorts[-1][1].append(i)
        else:
            cohorts.append((p.dose - 1, [i]))
            number = p.cohort
    return Course(cohorts, backfill)


def check_backfill_history(design, history: History) -> History:
    """The design's own checks: the first patient is an escalation patient; escalation cohorts have at most
    ``cohort_size`` patients and the next one starts only when the previous one is full and assessed; a backfill
    patient is enrolled while the current cohort is full, below its dose, in a cohort of backfill patients; at
    most ``n_cohorts`` escalation cohorts.  With times, the rows' dosing times do not go back (a patient's arrival
    is his ``dose_time``, so a backfill patient on a row after the current cohort arrived after it), an
    escalation cohort starts at or after the last assessment of the one before."""
    pts = history.patients
    c, name = design.cohort_size, design.spec_name
    if pts[0].backfill:
        raise _row_error(history, 1, pts[0], "backfill", f"the first patient of a {name} trial is in the first "
                                                         f"escalation cohort, not a backfill patient")
    cohort_of: dict[int, bool] = {}
    current, size, n_cohorts = None, 0, 0
    history.check_enrolment_times(name)
    for k, p in enumerate(pts, start=1):
        if cohort_of.setdefault(p.cohort, p.backfill) != p.backfill:
            raise _row_error(history, k, p, "backfill", f"cohort {p.cohort} mixes escalation and backfill "
                                                        f"patients; give backfill patients their own cohort numbers")
        if p.backfill:
            if size < c:
                raise _row_error(history, k, p, "backfill", f"a backfill patient is enrolled only while the current "
                                                            f"cohort (level {current.dose}) is full; it has {size} "
                                                            f"of {c} patients")
            if p.dose >= current.dose:
                raise _row_error(history, k, p, "dose", f"backfill is below the current dose: level {p.dose} is not "
                                                        f"below level {current.dose}")
            continue
        if current is not None and p.cohort == current.cohort:
            size += 1
            if size > c:
                raise cohort_size_error(design, history, k)
            continue
        if current is not None:
            if size < c:
                raise _row_error(history, k, p, "cohort", f"cohort {p.cohort} starts while cohort {current.cohort} "
                                                          f"has {size} of {c} patients")
            previous = [q for q in pts[:k - 1] if q.cohort == current.cohort]
            waiting = [q for q in previous if q.pending]
            if waiting:
                raise _row_error(history, k, p, "cohort", f"cohort {p.cohort} starts while patient "
                                                          f"{waiting[0].patient} of cohort {current.cohort} is "
                                                          f"pending: the next cohort waits for every outcome")
            assessed = [q for q in previous if q.assess_time is not None]
            last = max(assessed, key=lambda q: q.assess_time) if assessed else None
            if p.dose_time is not None and last is not None and p.dose_time < last.assess_time:
                raise _row_error(history, k, p, "dose_time", f"cohort {p.cohort} starts {history._at(p.dose_time)}, "
                                                             f"before patient {last.patient} of cohort "
                                                             f"{current.cohort} was assessed "
                                                             f"({history._at(last.assess_time)}): the next cohort "
                                                             f"waits for every outcome")
        current, size, n_cohorts = p, 1, n_cohorts + 1
        if n_cohorts > design.n_cohorts:
            raise _row_error(history, k, p, "cohort", f"escalation cohort {n_cohorts} exceeds n_cohorts = "
                                                      f"{design.n_cohorts}")
    return history


def counted(p, at: float | None, strict: bool = False) -> bool:
    """Whether patient ``p``'s outcome counts in a decision taken at time ``at`` (None: now): assessed by then,
    ``assess_time <= at`` (``strict``: before then, ``<``, as the simulator, SPEC BF-7).  The two differ only on
    ties -- an outcome assessed on the very day (time) of a dosing -- which continuous simulated times never have;
    the replay of a past decision (:mod:`.decision`) warns only when both readings find a deviation."""
    if p.pending:
        return False
    if at is None or p.assess_time is None:
        return True
    return p.assess_time < at if strict else p.assess_time <= at


@dataclass
class Counts:
    """Per-dose arrays (0-based doses) of a history at one time."""

    n_esc: np.ndarray
    y_esc: np.ndarray
    bf_n: np.ndarray
    bf_y: np.ndarray


def counts_at(history: History, course: Course, J: int, n_cohorts: int, before_row: int, at: float | None,
              strict: bool = False) -> Counts:
    """Escalation counts of the first ``n_cohorts`` cohorts and backfill counts (rows before ``before_row``,
    outcomes counted at time ``at``, :func:`counted`)."""
    pts = history.patients
    n_esc, y_esc, bf_n, bf_y = (np.zeros(J, dtype=np.int64) for _ in range(4))
    for dose, rows in course.cohorts[:n_cohorts]:
        n_esc[dose] += len(rows)
        y_esc[dose] += sum(bool(pts[i].dlt) for i in rows)
    for i in course.backfill:
        p = pts[i]
        if i < before_row and counted(p, at, strict):
            bf_n[p.dose - 1] += 1
            bf_y[p.dose - 1] += bool(p.dlt)
    return Counts(n_esc, y_esc, bf_n, bf_y)


def read_course(history: History) -> Course:
    """The escalation cohorts and backfill rows of a (checked) history."""
    return _course(history)
