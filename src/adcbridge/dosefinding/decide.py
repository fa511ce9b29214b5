"""Next-dose decisions for every registered design behind one function, :func:`next_dose`.

The trial so far is a patient-level :class:`~.history.History`, or its shorthand: the outcome grammar
(``"1NNN 2NTN"``) or a list of :class:`~.outcomes.Cohort`.  :func:`next_dose` checks the history against the
design (dose levels, no untried dose skipped unless the design allows it, pending and backfill patients only for
designs that use them; each error names the patient row and column), asks the design for its decision
(:meth:`~.design.DoseFindingDesign.decide`) and returns it with the design's name and the history it decided on,
so that :meth:`~.nextdose.NextDose.replay` decides again.

A history column the design does not use -- ``efficacy`` for BOIN, ``dose_time``/``assess_time`` for a design
without time, ``followup`` for a design without follow-up (the designs declare ``uses_efficacy``, ``uses_times``,
``uses_followup``) -- is refused when a patient has a value in it, never silently ignored: a
:class:`~adcbridge.validation.TableError` (a ValueError) naming the row and the column
(:meth:`~.design.DoseFindingDesign.refuse_unused_columns`).  The command line and the conduct app decide through
this function, so the rule is the same everywhere.  Replaying a stored decision
(:meth:`~.nextdose.NextDose.replay_record`) decides on its history as it was recorded.

BOIN also decides from per-dose counts: ``next_dose(design, n=[...], dlt=[...], current_dose=k)``.
"""

from __future__ import annotations

import dataclasses

from .design import DoseFindingDesign
from .history import History, after_stop_error, cohort_rows, cohort_size_error, short_cohort_issue, side_of
from .nextdose import NextDose
from .outcomes import parse_outcomes, validate_cohorts
from .registry import design_names

__all__ = ["next_dose", "as_history", "check_design"]


def check_design(design) -> DoseFindingDesign:
    """``design`` if it is a registered dose-finding design, else a ValueError naming the registered ones."""
    if not isinstance(design, DoseFindingDesign):
        raise ValueError(f"The 'design' argument must be a dose-finding design ({', '.join(design_names())}). "
                         f"Got {type(design).__name__}.")
    return design


def as_history(design: DoseFindingDesign, outcomes) -> History:
    """The trial so far as a :class:`History`: a history as given, the outcome grammar or a list of cohorts."""
    if outcomes is None:
        raise ValueError("The 'outcomes' argument is required: the trial so far, as cohorts (\"1NNN 2NTN\") or a "
                         "patient history.")
    if isinstance(outcomes, History):
        return outcomes
    if design.outcomes_cannot:
        raise ValueError(f"The 'outcomes' argument gives one dose level and the DLTs of each cohort, which cannot "
                         f"describe a {design.spec_name} trial ({design.outcomes_cannot}): give a patient history "
                         f"instead.")
    check = not design.allows_skipping
    if isinstance(outcomes, str):
        return History.from_cohorts(parse_outcomes(outcomes, design.n_doses, design.first_dose, check))
    return History.from_cohorts(validate_cohorts(outcomes, design.n_doses, design.first_dose, check))


def next_dose(design, outcomes=None, *, current_dose: int | None = None, **counts) -> NextDose:
    """Next-dose decision of any registered design from the trial so far (see the module docstring).

    ``current_dose``, with a history, must be the dose of its last cohort (a check); BOIN's per-dose counts are
    ``n``, ``dlt`` and ``current_dose``.  A history column the design does not use is refused (a
    :class:`~adcbridge.validation.TableError` naming the row and the column).
    """
    return _next_dose(design, outcomes, current_dose, counts)


def _next_dose(design, outcomes, current_dose: int | None, counts: dict, *, replay: bool = False) -> NextDose:
    """:func:`next_dose`; ``replay`` decides on a stored decision's history as it was recorded (a record made
    before the unused columns were refused keeps replaying)."""
    design = check_design(design)
    if counts or (outcomes is None and current_dose is not None):
        if outcomes is not None:
            raise ValueError("Give either 'outcomes' or 'n' and 'dlt', not both.")
        decide_counts = getattr(design, "decide_counts", None)
        if decide_counts is None:
            raise ValueError(f"{design.spec_name} decides on the patients' history ('outcomes'), not on per-dose "
                             f"counts; got {sorted(counts) + (['current_dose'] if current_dose else [])}.")
        unknown = sorted(set(counts) - {"n", "dlt"})
        if unknown:
            raise ValueError(f"next_dose() got unexpected arguments {unknown}; per-dose counts are 'n', 'dlt' "
                             f"and 'current_dose'.")
        decision = decide_counts(counts.get("n"), counts.get("dlt"), current_dose)
        rows = decision.__dict__["_table"].records()
        return _with(decision, design=design.spec_name,
                     counts={"n": [r["n"] for r in rows], "dlt": [r["dlt"] for r in rows],
                             "current_dose": decision.current_dose})
    history = as_history(design, outcomes)
    if not replay:
        design.refuse_unused_columns(history)
    history = design.check_history(history)
    window_notes = design.outcome_window_issues(history) if replay else design.check_outcome_windows(history)
    if current_dose is not None:
        if isinstance(current_dose, bool) or not isinstance(current_dose, int):
            raise ValueError(f"The 'current_dose' argument must be a whole dose level. Got {current_dose!r}.")
        if current_dose != history.current_dose:
            raise ValueError(f"The 'current_dose' argument ({current_dose}) differs from the dose of the last "
                             f"cohort ({history.current_dose}).")
    deviations, expected = _check_course(design, history) if design.checks_course else ((), None)
    decision = design.decide(history)
    notes = _partial_last_cohort(design, history, decision, expected)
    return _with(decision, design=design.spec_name, history=history,
                 issues=window_notes + deviations + tuple(decision.issues) + notes)


def _check_course(design: DoseFindingDesign, history: History) -> tuple:
    """Refuse a history that goes on after the design had stopped the trial, or whose cohorts are larger than
    the design's: the decision after each earlier cohort is taken on the history up to it (the same rules), and
    a patient enrolled after a stop is named with the rule that stopped the trial.  A cohort treated at another
    dose than the rules gave after the cohort before it (a clinician's choice, or a data-entry error) is not an
    error -- the decision goes on from the data as treated -- but each one is returned as a ``dose_deviation``
    warning naming the cohort, its patients, the dose given and the rules' dose with their reason.  Designs that
    report their own deviations (``reports_deviations``: the waterfall's ``off_protocol``) return none here.  An
    earlier cohort smaller than the rules gave (a patient not evaluable and not replaced) is an info issue
    (``short_cohort``): the decision after it was taken on fewer patients.  The size the rules gave a cohort is
    the decision before it's ``next_cohort_size`` (accelerated titration's cohorts of one and its fill, a protocol
    rule's last cohort up to ``stop_at_n``), the first cohort's 1 with titration, else ``cohort_size``.

    Returns the issues and the size the rules gave the last cohort (None without a cohort size)."""
    from adcbridge.results import Issue
    size = getattr(design, "cohort_size", None)
    cohorts = cohort_rows(history)
    issues, short = [], []
    expected = 1 if getattr(design, "uses_titration", False) else size

    def lab(level) -> str:
        return design.dose_label(level) if isinstance(level, tuple) else f"level {design.dose_label(level)}"
    for k, (start, end) in enumerate(cohorts, start=1):
        p = history.patients[start]
        n = end - start
        if size is not None and n > size and not p.backfill:
            raise cohort_size_error(design, history, start + size + 1, n)
        if k == len(cohorts):
            break
        if expected is not None and n < expected and not p.backfill:
            short.append((start, end, expected))
        before = History(history.patients[:end], history.source, history.places)
        decision = design.decide(before)
        if decision.decision == "stop":
            raise after_stop_error(history, end, k + 1, f"cohort {p.cohort} ({decision.rule}: {decision.reason})")
        q, given = history.patients[end], decision.next_dose
        expected = decision.next_cohort_size or size
        if given is not None and q.level != given and not design.reports_deviations:
            given = tuple(given) if isinstance(given, list) else given
            side = side_of(q.level, given)
            patients = [x.patient for x in history.patients[end:cohorts[k][1]]]
            issues.append(Issue("dose_deviation", f"cohort {q.cohort} ({', '.join(patients)}) was treated at "
                                                  f"{lab(q.level)}, {side} {lab(given)} that the rules gave after "
                                                  f"cohort {p.cohort} ({decision.rule}: {decision.reason}); the "
                                                  f"decision goes on from the data as treated"))
    return tuple(issues) + short_cohort_issue(history, short), expected


def _partial_last_cohort(design, history: History, decision: NextDose, expected: int | None = None) -> tuple:
    """An info issue when the last cohort is smaller than the rules gave it (``expected``, from the replayed
    course) or, for a design whose course is not replayed, than its cohorts: a decision on the data so far."""
    from adcbridge.results import Issue
    size = getattr(design, "cohort_size", None) if expected is None else expected
    escalation = [(a, b) for a, b in cohort_rows(history) if not history.patients[a].backfill]
    if not escalation:
        return ()
    start, end = escalation[-1]                      # the last escalation cohort (backfill runs left out)
    n = end - start
    if size is None or n >= size or decision.rule in ("eliminated", "cohort_open"):   # eliminated, or being filled
        return ()
    if expected is None and (decision.rule.startswith("titration") or getattr(design, "uses_titration", False)
                             or any(r.kind == "stop_at_n" for r in design.rules)):
        return ()
    return (Issue("partial_cohort", f"the last cohort (cohort {history.patients[start].cohort}) has {n} of "
                                    f"{size} patients: the decision is on the data so far", "info"),)


def _with(decision: NextDose, **changes) -> NextDose:
    """``decision`` with some fields changed; its table is handed over as it is (a ColumnTable stays one, so a
    BOIN decision still needs no pandas)."""
    return dataclasses.replace(decision, table=decision.__dict__["_table"], **changes)
