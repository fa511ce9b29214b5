"""Patient-level trial histories: the data every dose-finding design decides on.

A :class:`History` is a table of patients, in the order they were enrolled:

======================  ==========================================================================================
``patient``             the patient's (pseudonymous) id, unique
``cohort``              the cohort number (1, 2, ...; a cohort's patients are consecutive)
``dose``                the 1-based dose level
``dlt``                 True (a DLT), False (none) or None (pending: still within the DLT window)
``dose_time``           time of dosing (days from the first dosing), for designs that use follow-up time
``assess_time``         time the DLT was assessed (or of the DLT), at or after ``dose_time``
``efficacy``            efficacy outcome (True / False / None), for designs that use it
``backfill``            True for a backfill patient (treated below the current dose, outside the escalation)
``followup``            for a pending patient, the fraction of the DLT window completed so far (0..1), for
                        time-to-event designs (TITE-BOIN); :meth:`History.with_followup` computes it from
                        ``dose_time`` and the time of the decision
``dose_a``, ``dose_b``  for drug-combination designs, the 1-based levels of agents A and B (instead of ``dose``)
======================  ==========================================================================================

The outcome grammar (``"1NNN 2NTN"``; :mod:`.outcomes`) is the shorthand of the simple case -- whole cohorts,
binary DLT, nothing pending -- and converts both ways (:meth:`History.from_outcomes`, :meth:`History.outcomes`).
A history read from a table names the file, the CSV line and the column of a bad cell
(:func:`adcbridge.io.read_history`); :meth:`History.check` applies the rules every design shares (levels in range,
no untried dose skipped unless the design allows it, no pending patient for a design that cannot use one) and
names the patient.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace

import numpy as np

from .outcomes import Cohort, DoseCounts, parse_outcomes, validate_cohorts

__all__ = ["Patient", "History", "HISTORY_COLUMNS"]

#: The columns of a history table: the first four are required (``dose_a`` and ``dose_b`` replace ``dose`` for
#: drug combinations), the others optional.
HISTORY_COLUMNS = ("patient", "cohort", "dose", "dlt", "dose_time", "assess_time", "efficacy", "backfill",
                   "followup", "dose_a", "dose_b")
#: the optional columns a patient's record carries only when they are set (older records stay the same)
_SPARSE = ("followup", "dose_a", "dose_b")


@dataclass(frozen=True)
class Patient:
    """One patient of a trial (see the module docstring for the fields)."""

    patient: str
    cohort: int
    dose: int | None
    dlt: bool | None
    dose_time: float | None = None
    assess_time: float | None = None
    efficacy: bool | None = None
    backfill: bool = False
    followup: float | None = None
    dose_a: int | None = None
    dose_b: int | None = None

    @property
    def pending(self) -> bool:
        return self.dlt is None

    @property
    def level(self) -> int | tuple[int, int]:
        """The dose level: ``dose``, or the pair ``(dose_a, dose_b)`` of a combination."""
        return self.dose if self.dose is not None else (self.dose_a, self.dose_b)

    def record(self) -> dict:
        out = {"patient": self.patient, "cohort": self.cohort, "dose": self.dose, "dlt": self.dlt,
               "dose_time": self.dose_time, "assess_time": self.assess_time, "efficacy": self.efficacy,
               "backfill": self.backfill}
        out.update({k: getattr(self, k) for k in _SPARSE if getattr(self, k) is not None})
        return out


def _flag(value, empty=None):
    """A 0/1 outcome of a record as a table gives it: 0/1 (int or float) as False/True, NaN as ``empty``; booleans,
    None and anything else unchanged (the history's check refuses what is not a boolean)."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            return empty
        if value in (0, 1):
            return bool(value)
    return value


def _row_error(history: History, k: int, p, column: str, message: str) -> ValueError:
    """The error about patient ``p`` (the ``k``-th row, 1-based), in the message shape of
    :mod:`adcbridge.validation`: ``history.csv: column 'dlt', line 7 (patient 'P6'): ...`` for a table read from
    a file, ``column 'dlt', patient row 6 (patient 'P6'): ...`` otherwise."""
    return ValueError(_row_text(history, k, p, column, message))


#: the ``source`` of a history made from the outcome grammar or a list of cohorts (:meth:`History.from_cohorts`):
#: its errors name the cohort as given (``The 'outcomes' argument: cohort 2 ('2NTN'): ...``), not a table row;
#: the command line says ``Invalid value for '--outcomes': cohort 2 ('2NTN'): ...``
OUTCOMES_SOURCE = "The 'outcomes' argument"


def _row_text(history: History, k: int, p, column: str, message: str) -> str:
    if history.source == OUTCOMES_SOURCE and history.places:
        return f"{OUTCOMES_SOURCE}: {history.places[k - 1]}: {message}"
    where = f"{history.source}: " if history.source else ""
    pid = getattr(p, "patient", None)
    return (f"{where}column '{column}', {_row_place(history, k)}" + (f" (patient {pid!r})" if pid is not None else "")
            + f": {message}")


def cohort_error(history: History, k: int, message: str, column: str = "dose") -> ValueError:
    """The error about the ``k``-th cohort (1-based, in enrolment order) of ``history``; ``message`` follows the
    cohort's name (``"does not follow the 3+3 rules: ..."``).  For the outcome grammar: ``The 'outcomes' argument:
    cohort 3 ('3NNN') does not follow ...``; for a table, the row of the cohort's first patient, under ``column``:
    ``h.csv: column 'dose', line 8 (patient 'P7'): cohort 3 does not follow ...``."""
    starts = [i for i, p in enumerate(history.patients) if i == 0 or p.cohort != history.patients[i - 1].cohort]
    start = starts[k - 1]
    if history.source == OUTCOMES_SOURCE and history.places:
        return ValueError(f"{OUTCOMES_SOURCE}: {history.places[start]} {message}")
    p = history.patients[start]
    if column == "dose" and p.dose is None:
        column = "dose_a"
    return _row_error(history, start + 1, p, column, f"cohort {p.cohort} {message}")


def after_stop_error(history: History, row: int, k: int, stopped: str) -> ValueError:
    """The error about the patient of 0-based ``row``, the first of the ``k``-th cohort (1-based), enrolled after
    the trial had stopped (``stopped``: ``"cohort 3 (rule: reason)"``): the cohort as typed for the outcome grammar,
    else the patient and his place."""
    if history.source == OUTCOMES_SOURCE:
        return cohort_error(history, k, f"comes after the trial stopped at {stopped}")
    q = history.patients[row]
    return ValueError(f"{row_where(history, row)}: patient {q.patient} (cohort {q.cohort}) comes after the trial "
                      f"stopped at {stopped}.")


def cohort_rows(history: History) -> list[tuple[int, int]]:
    """(first row, row after the last) of each cohort, in order."""
    out, start = [], 0
    for i in range(1, len(history.patients) + 1):
        if i == len(history.patients) or history.patients[i].cohort != history.patients[start].cohort:
            out.append((start, i))
            start = i
    return out


def short_cohort_issue(history: History, short: list[tuple[int, int, int]]) -> tuple:
    """The info issue (``short_cohort``) about earlier cohorts with fewer patients than the rules gave them, each
    ``(first row, row after the last, size the rules gave)``; none when ``short`` is empty."""
    from adcbridge.results import Issue
    if not short:
        return ()
    pts = history.patients
    each = "; ".join(f"cohort {pts[a].cohort} ({', '.join(p.patient for p in pts[a:b])}: {b - a} of {size})"
                     for a, b, size in short)
    return (Issue("short_cohort", f"{each} had fewer patients than the rules gave: the decision after "
                                  f"{'it' if len(short) == 1 else 'each'} was taken on the data then", "info"),)


def side_of(level, given) -> str:
    """Whether dose ``level`` is ``"above"``, ``"below"`` or ``"instead of"`` (a combination neither above nor
    below) the dose ``given``."""
    if isinstance(level, tuple):
        if all(a >= b for a, b in zip(level, given)):
            return "above"
        return "below" if all(a <= b for a, b in zip(level, given)) else "instead of"
    return "above" if level > given else "below"


def cohort_size_error(design, history: History, k: int, n: int | None = None) -> ValueError:
    """The error about the ``k``-th patient (1-based row) of ``history``, the first beyond the design's
    ``cohort_size`` in his cohort (of ``n`` patients when known), with what to do: give him the next cohort number
    (a table) or split the cohort (the outcome grammar, e.g. ``'1NNN 1N'``), or set the cohort size where the
    design has one to set (3+3's cohorts are 3 by definition)."""
    p, size = history.patients[k - 1], design.cohort_size
    members = [q for q in history.patients if q.cohort == p.cohort]
    n = len(members) if n is None else n
    settable = "cohort_size" in type(design).model_fields
    tail = f", or set the design's cohort_size to {n} if that is the trial's cohort size" if settable else ""
    head = f"has {n} patients, but {design.spec_name} treats cohorts of {size}"
    if history.source == OUTCOMES_SOURCE and history.places:
        letters = "".join("T" if q.dlt else "N" for q in members)
        split = " ".join(f"{p.dose}{letters[i:i + size]}" for i in range(0, len(letters), size))
        return ValueError(f"{OUTCOMES_SOURCE}: {history.places[k - 1]} {head}: split it into cohorts of at most "
                          f"{size} (e.g. {split!r}){tail}")
    return _row_error(history, k, p, "cohort", f"cohort {p.cohort} {head}, and this is patient {size + 1} of it: give "
                                                f"it the next cohort number (and renumber the cohorts after it){tail}")


def row_where(history: History, row: int) -> str:
    """Where the patient of 0-based ``row`` is, with the file: ``"h.csv: line 7"``, ``"patient row 6"`` for a
    history built in Python, or the cohort as given in the outcome grammar."""
    head = f"{history.source}: " if history.source else ""
    return head + (history.places[row] if history.places else f"patient row {row + 1}")


def _row_place(history: History, k: int) -> str:
    """Where the ``k``-th patient (1-based) is: ``"line 7"`` in a table read from a file, else ``"patient row 6"``."""
    return history.places[k - 1] if history.places else f"patient row {k}"


def patients_text(history: History, found: list, limit: int = 5) -> str:
    """``"P4 (line 5), P6 (line 7) and 3 more"``: the first ``limit`` of ``found`` ((1-based row, patient) pairs)
    with their places, for a message naming the patients an issue is about."""
    shown = ", ".join(f"{p.patient} ({_row_place(history, k)})" for k, p in found[:limit])
    return shown + (f" and {len(found) - limit} more" if len(found) > limit else "")


def _level_text(level) -> str:
    return f"({level[0]}, {level[1]})" if isinstance(level, tuple) else str(level)


def _is_whole(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def _is_time(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v)


def time_text(origin: str | None, days: float) -> str:
    """A time as the history's table gave it: the date (``2026-03-12``; with the time of day when it is not
    whole) when the times were dates counted from ``origin``, else the number (``12``)."""
    if origin is None:
        return f"{days:g}"
    import datetime as dt
    moment = dt.datetime.fromisoformat(origin) + dt.timedelta(days=float(days))
    return moment.date().isoformat() if float(days) == int(days) else moment.isoformat(timespec="minutes")


@dataclass(frozen=True)
class History:
    """The patients of a trial so far, in enrolment order (see the module docstring).

    ``source`` names where the history came from (a file) and ``places`` where each patient's row is in it (e.g.
    ``"line 5"``), for error messages only: two histories with the same patients are equal whatever their
    source.  Every field is checked for its type (a DLT is True, False or None -- never the text ``"0"``, which
    Python would take as true), cohort numbers never decrease down the rows, and a cohort has one dose."""

    patients: tuple[Patient, ...]
    source: str | None = field(default=None, compare=False)
    places: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    #: the date (ISO) that times count from, when the table gave dates (day 0 = the first dosing date)
    time_origin: str | None = field(default=None, compare=False)
    #: the DLT window :meth:`with_followup` computed the follow-up fractions with (None: not computed here), so a
    #: design can refuse fractions of another window
    followup_window: float | None = field(default=None, compare=False)

    def __post_init__(self):
        if not isinstance(self.patients, tuple):
            object.__setattr__(self, "patients", tuple(self.patients))
        if not self.patients:
            raise ValueError(f"{self.source + ': ' if self.source else ''}the history has no patient.")
        seen: set[str] = set()
        dose_of: dict[int, int] = {}
        last_cohort = 0
        for k, p in enumerate(self.patients, start=1):
            if not isinstance(p, Patient):
                raise ValueError(f"the history's row {k} is not a Patient: {p!r}.")
            if not isinstance(p.patient, str) or not p.patient.strip():
                raise _row_error(self, k, p, "patient", f"expected a patient id (text), got {p.patient!r}")
            if p.patient in seen:
                raise _row_error(self, k, p, "patient", "the id appears twice")
            seen.add(p.patient)
            combination = p.dose is None and (p.dose_a is not None or p.dose_b is not None)
            for name in ("cohort",) + (("dose_a", "dose_b") if combination else ("dose",)):
                v = getattr(p, name)
                if not _is_whole(v) or v < 1:
                    raise _row_error(self, k, p, name, f"expected a whole number >= 1, got {v!r}")
            if not combination and (p.dose_a is not None or p.dose_b is not None):
                raise _row_error(self, k, p, "dose_a", "give the dose level (dose) or the levels of a combination "
                                                       "(dose_a and dose_b), not both")
            if p.followup is not None:
                if not _is_time(p.followup) or not 0 <= p.followup <= 1:
                    raise _row_error(self, k, p, "followup", f"expected the fraction of the DLT window completed "
                                                             f"(0 to 1), got {p.followup!r}")
                if not p.pending:
                    raise _row_error(self, k, p, "followup", "the DLT outcome is known: follow-up is for pending "
                                                             "patients only (leave it empty)")
            for name in ("dlt", "efficacy"):
                v = getattr(p, name)
                if v is not None and not isinstance(v, (bool, np.bool_)):
                    raise _row_error(self, k, p, name, f"expected True, False or None (pending), got {v!r}")
            if not isinstance(p.backfill, (bool, np.bool_)):
                raise _row_error(self, k, p, "backfill", f"expected True or False, got {p.backfill!r}")
            if p.cohort < last_cohort:
                raise _row_error(self, k, p, "cohort", f"cohort {p.cohort} comes after cohort {last_cohort}; the rows "
                                                       f"are the patients in enrolment order")
            if p.cohort > last_cohort + 1:
                raise _row_error(self, k, p, "cohort",
                                 (f"cohort {p.cohort} follows cohort {last_cohort}: cohort {last_cohort + 1} is missing"
                                  if last_cohort else f"the first cohort is numbered {p.cohort}")
                                 + "; number the cohorts 1, 2, 3, ... in enrolment order")
            if p.cohort != last_cohort and p.cohort in dose_of:
                raise _row_error(self, k, p, "cohort", f"cohort {p.cohort} continues after another cohort; a "
                                                       f"cohort's patients are consecutive")
            last_cohort = p.cohort
            first = dose_of.setdefault(p.cohort, p.level)
            if p.level != first:
                raise _row_error(self, k, p, "dose" if p.dose is not None else "dose_a",
                                 f"cohort {p.cohort} is at level {_level_text(first)}, this patient at level "
                                 f"{_level_text(p.level)}; a cohort has one dose")
            for name in ("dose_time", "assess_time"):
                v = getattr(p, name)
                if v is not None and not _is_time(v):
                    raise _row_error(self, k, p, name, f"expected a time >= 0 (days from the first dosing), got "
                                                       f"{v!r}")
            when = self.time_text
            if p.dose_time is not None and p.assess_time is not None and p.assess_time < p.dose_time:
                what = "a DLT marked" if p.dlt else "an assessment"
                raise _row_error(self, k, p, "assess_time", f"{what} before dosing (assess_time "
                                                            f"{when(p.assess_time)} < dose_time {when(p.dose_time)})")
            for name in ("dose_time", "assess_time"):
                v = getattr(p, name)
                if v is not None and v < 0:
                    raise _row_error(self, k, p, name,
                                     f"{when(v)} is before the first dosing date ({self.time_origin})"
                                     if self.time_origin else
                                     f"expected a time >= 0 (days from the first dosing), got {v!r}")

    # ----------------------------------------------------------------------------------------- constructors
    @classmethod
    def from_outcomes(cls, text: str, n_doses: int, start_dose: int = 1, check_skipping: bool = True) -> History:
        """The history written in the outcome grammar (``"1NNN 2NTN"``): patients ``P1``, ``P2``, ... by cohort."""
        return cls.from_cohorts(parse_outcomes(text, n_doses, start_dose, check_skipping))

    @classmethod
    def from_cohorts(cls, cohorts) -> History:
        """The history of a list of :class:`~.outcomes.Cohort` (its errors name the cohorts: ``source`` is
        :data:`OUTCOMES_SOURCE`, ``places`` the cohort of each patient)."""
        cohorts = validate_cohorts(cohorts, n_doses=10 ** 6, check_skipping=False)
        patients, places, k = [], [], 0
        for c_no, c in enumerate(cohorts, start=1):
            for tox in c.dlt:
                k += 1
                patients.append(Patient(f"P{k}", c_no, int(c.dose), bool(tox)))
                places.append(f"cohort {c_no} ({str(c)!r})")
        return cls(tuple(patients), OUTCOMES_SOURCE, tuple(places))

    @classmethod
    def from_records(cls, records, source: str | None = None) -> History:
        """A history from row objects with the :data:`HISTORY_COLUMNS` keys (the ``history`` of a decision's
        record, or rows of a table built in Python).  ``dlt``, ``efficacy`` and ``backfill`` take True/False or the
        numbers 0/1, as a history table does, and a missing number (NaN) as empty: pending, or for ``backfill`` False;
        other types are checked as the history's own (``"dlt": "0"`` is refused, not read as true)."""
        where = f"{source}: " if source else ""
        if isinstance(records, (str, bytes, dict)) or not hasattr(records, "__iter__"):
            raise ValueError(f"{where}the history must be a list of patient rows, got {type(records).__name__}.")
        patients = []
        for k, r in enumerate(records, start=1):
            if not isinstance(r, dict):
                raise ValueError(f"{where}history row {k} is not an object of patient fields: {r!r}.")
            unknown = sorted(set(r) - set(HISTORY_COLUMNS))
            required = ("patient", "cohort", "dlt") + (("dose",) if "dose_a" not in r and "dose_b" not in r
                                                       else ("dose_a", "dose_b"))
            missing = [c for c in required if c not in r]
            if unknown or missing:
                raise ValueError(f"{where}history row {k}: " + (f"unknown key(s) {unknown}" if unknown else
                                                                  f"missing key(s) {missing}")
                                 + f"; a patient has {', '.join(HISTORY_COLUMNS)} (patient, cohort, dose (or "
                                   f"dose_a and dose_b) and dlt required).")
            patients.append(Patient(r["patient"], r["cohort"], r.get("dose"), _flag(r["dlt"]), r.get("dose_time"),
                                    r.get("assess_time"), _flag(r.get("efficacy")),
                                    _flag(r.get("backfill", False), empty=False),
                                    r.get("followup"), r.get("dose_a"), r.get("dose_b")))
        return cls(tuple(patients), source)

    # ---------------------------------------------------------------------------------------------- views
    def __len__(self) -> int:
        return len(self.patients)

    @property
    def has_pending(self) -> bool:
        return any(p.pending for p in self.patients)

    @property
    def has_backfill(self) -> bool:
        return any(p.backfill for p in self.patients)

    @property
    def is_combination(self) -> bool:
        """Whether the patients' levels are (dose_a, dose_b) pairs."""
        return self.patients[0].dose is None

    @property
    def current_dose(self) -> int | tuple[int, int]:
        """The dose of the last escalation cohort (backfill patients left out); a pair for a combination."""
        main = [p for p in self.patients if not p.backfill] or list(self.patients)
        return main[-1].level

    def time_text(self, days: float) -> str:
        """A time of this history as its table gave it: a date when the times were dates (:func:`time_text`)."""
        return time_text(self.time_origin, days)

    def _at(self, days: float) -> str:
        """``"on 2026-03-12"`` (dates) or ``"at day 12"`` (day numbers), for messages."""
        return f"on {self.time_text(days)}" if self.time_origin else f"at day {days:g}"

    def check_enrolment_times(self, design_name: str) -> None:
        """The checks of a design that reads a patient's arrival from ``dose_time`` (TITE-BOIN, BF-BOIN): the rows'
        dosing times do not go back (the rows are the patients in enrolment order), and a pending patient has no
        assessment time (an assessed patient has an outcome); the error names the row."""
        latest = None
        for k, p in enumerate(self.patients, start=1):
            if p.pending and p.assess_time is not None:
                raise _row_error(self, k, p, "assess_time",
                                 f"assessed {self._at(p.assess_time)} but dlt is empty: give the outcome (0 or 1), or "
                                 f"leave assess_time empty while the patient is pending")
            if p.dose_time is not None:
                if latest is not None and p.dose_time < latest.dose_time:
                    raise _row_error(self, k, p, "dose_time",
                                     f"dosed {self._at(p.dose_time)}, before patient {latest.patient} on an earlier "
                                     f"row ({self._at(latest.dose_time)}); the rows are the patients in enrolment "
                                     f"order, and {design_name} reads each patient's arrival from dose_time")
                latest = p

    def with_followup(self, now: float, dlt_window: float, *, now_name: str = "the time of the decision") -> History:
        """The history with ``followup`` set for every pending patient: ``min(1, (now - dose_time) /
        dlt_window)``, all times in the same unit (days).  A patient without a DLT is complete only once his window
        is over: ``dlt`` 0 assessed (or, without ``assess_time``, at ``now``) less than one window after dosing is
        refused (a site typing 0 for "no DLT so far" would count a whole window without a DLT;
        :meth:`check_complete_windows`, not ``strict``: a patient without a DLT and without ``dose_time`` is taken
        as complete, as the conduct app may record him; the command line is strict).  Follow-up has one
        source: a pending patient that already has a ``followup`` is refused (the two could differ), as is one
        without ``dose_time``; a ``now`` before a patient's dosing, or before an outcome's assessment, is refused.
        ``now_name`` names the time of the decision in the messages (e.g. ``"--today 2026-03-01"``)."""
        if not _is_time(dlt_window) or dlt_window <= 0:
            raise ValueError(f"The DLT window must be a positive time, got {dlt_window!r}.")
        if not _is_time(now):
            raise ValueError(f"The time of the decision must be a number (days), got {now!r}.")
        out = []
        for k, p in enumerate(self.patients, start=1):
            if p.assess_time is not None and now < p.assess_time:
                raise _row_error(self, k, p, "assess_time", f"assessed {self._at(p.assess_time)}, after {now_name}: "
                                                            f"an outcome is known only once assessed")
            if p.pending:
                if p.followup is not None:
                    raise _row_error(self, k, p, "followup", f"the follow-up fraction is given ({p.followup:g}) and "
                                                             f"{now_name} computes it from dose_time: give the "
                                                             f"followup column or the time of the decision, not both")
                if p.dose_time is None:
                    raise _row_error(self, k, p, "dose_time", "the patient is pending: give the dosing time (or "
                                                              "the follow-up fraction, followup)")
                if now < p.dose_time:
                    raise _row_error(self, k, p, "dose_time", f"dosed {self._at(p.dose_time)}, after {now_name}")
                p = replace(p, followup=min(1.0, (now - p.dose_time) / dlt_window))
            out.append(p)
        self.check_complete_windows(dlt_window, now=now, now_name=now_name, strict=False)
        return History(tuple(out), self.source, self.places, self.time_origin, float(dlt_window))

    def check_complete_windows(self, dlt_window: float, *, now: float | None = None,
                               now_name: str = "the time of the decision", strict: bool = True) -> None:
        """Refuse a patient without a DLT whose DLT window is not over: ``dlt`` 0 assessed (or, without
        ``assess_time``, at ``now``) less than ``dlt_window`` after dosing.  A site typing 0 for "no DLT so far" would
        otherwise count a whole window without a DLT.  With ``strict``, a no-DLT patient whose window cannot be
        checked is refused too: one without ``dose_time``, or without ``assess_time`` when no ``now`` is given.
        Without ``strict`` such a patient is taken as complete (a history that records no times).  The error names
        the patient row."""
        if not _is_time(dlt_window) or dlt_window <= 0:
            raise ValueError(f"The DLT window must be a positive time, got {dlt_window!r}.")
        for k, p in enumerate(self.patients, start=1):
            if p.dlt is True and p.dose_time is not None and p.assess_time is not None and \
                    p.assess_time - p.dose_time > dlt_window * (1 + 1e-9):
                raise _row_error(self, k, p, "assess_time", f"a DLT assessed {self._at(p.assess_time)}, "
                                                            f"{p.assess_time - p.dose_time:g} days after dosing, after "
                                                            f"the {dlt_window:g}-day DLT window: a toxicity after the "
                                                            f"window is not a DLT of the protocol, or the DLT window "
                                                            f"is not in the times' unit (days for dates)")
            if p.dlt is not False:
                continue
            if p.dose_time is None:
                if strict:
                    raise _row_error(self, k, p, "dose_time", f"no DLT, but no dosing time: the {dlt_window:g}-day DLT "
                                                              f"window cannot be checked to be over; give dose_time "
                                                              f"(and assess_time) for every patient")
                continue
            if p.assess_time is not None:
                end, at = p.assess_time, f"assessed {self._at(p.assess_time)}"
            elif now is not None:
                end, at = now, f"on {now_name}"
            else:
                if strict:
                    raise _row_error(self, k, p, "assess_time", f"no DLT, but no assessment time: the "
                                                                f"{dlt_window:g}-day DLT window cannot be checked "
                                                                f"to be over; give assess_time, when the window "
                                                                f"ended without a DLT")
                continue
            if end - p.dose_time < dlt_window * (1 - 1e-9):
                raise _row_error(self, k, p, "dlt", f"no DLT, {at}, {end - p.dose_time:g} days after dosing: the "
                                                    f"{dlt_window:g}-day DLT window is not over, so the outcome is "
                                                    f"not known yet; leave dlt (and assess_time) empty while the "
                                                    f"patient is pending")

    def window_issues(self, dlt_window: float) -> tuple:
        """A warning when the patients without a DLT were assessed a median of more than two DLT windows after
        dosing: the window is likely in another unit than the times (``--dlt-window 4`` meant as weeks, with
        dates), which would count every pending patient as a whole window."""
        from adcbridge.results import Issue
        spans = [p.assess_time - p.dose_time for p in self.patients
                 if p.dlt is False and p.dose_time is not None and p.assess_time is not None]
        if not spans or float(np.median(spans)) <= 2 * dlt_window:
            return ()
        m = float(np.median(spans))
        return (Issue("dlt_window_unit", f"the patients without a DLT were assessed a median of {m:g} days after "
                                         f"dosing, {m / dlt_window:.1f} DLT windows of {dlt_window:g}: is the DLT "
                                         f"window in the times' unit (days for dates)?", "warning"),)

    def first_with(self, column: str) -> int | None:
        """The 1-based row of the first patient with a value in ``column`` (``efficacy``, ``dose_time``,
        ``assess_time``, ``followup``: anything but None, so an efficacy of False counts; ``backfill``: True, as
        False is what an absent column gives), None when no patient has one."""
        for k, p in enumerate(self.patients, start=1):
            v = getattr(p, column)
            if (bool(v) if column == "backfill" else v is not None):
                return k
        return None

    def refuse_column(self, column: str, message: str) -> None:
        """Refuse a column the design does not use when a patient has a value in it: a
        :class:`~adcbridge.validation.TableError` (a ValueError) naming the first such patient's row, the column
        and ``message``, with ``source``, ``column``, ``line`` (``"line 7"`` or ``"patient row 6"``) and ``value``
        set (nothing when no patient has a value)."""
        k = self.first_with(column)
        if k is not None:
            from adcbridge.validation import TableError  # only on the way to an error (it loads pandas)
            p = self.patients[k - 1]
            raise TableError(_row_text(self, k, p, column, message), source=self.source, column=column,
                             line=_row_place(self, k), value=getattr(p, column))

    def records(self) -> list[dict]:
        return [p.record() for p in self.patients]

    def digest(self) -> str:
        """SHA-256 of the patients (canonical JSON): the same patients give the same digest."""
        text = json.dumps(self.records(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def cohorts(self) -> list[Cohort]:
        """The history as whole cohorts, in order (for designs that decide cohort by cohort); pending patients
        are refused (:meth:`check` names them first)."""
        out: list[Cohort] = []
        number = None
        for p in self.patients:
            if p.pending:
                raise ValueError(f"patient {p.patient} is pending; whole cohorts need every DLT outcome.")
            if p.cohort == number:
                out[-1] = Cohort(out[-1].dose, out[-1].dlt + (bool(p.dlt),))
            else:
                out.append(Cohort(p.dose, (bool(p.dlt),)))
                number = p.cohort
        return out

    def counts(self, n_doses: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-dose patients with a known outcome, DLTs and pending patients (index 0 = level 1)."""
        n, y, pending = (np.zeros(n_doses, dtype=np.int64) for _ in range(3))
        for p in self.patients:
            if p.pending:
                pending[p.dose - 1] += 1
            else:
                n[p.dose - 1] += 1
                y[p.dose - 1] += bool(p.dlt)
        return n, y, pending

    def dose_counts(self, n_doses: int) -> DoseCounts:
        n, y, _ = self.counts(n_doses)
        return DoseCounts(tuple(int(v) for v in n), tuple(int(v) for v in y))

    def outcomes(self) -> str:
        """The history in the outcome grammar (whole cohorts, nothing pending)."""
        return " ".join(str(c) for c in self.cohorts())

    # --------------------------------------------------------------------------------------------- checks
    def check(self, n_doses: int, *, start_dose: int = 1, allow_skipping: bool = False, pending: bool = False,
              backfill: bool = False, design: str = "the design", dose_values=None, dose_unit: str = "") -> History:
        """Apply the rules every design shares; the error names the patient row and the column.

        Dose levels lie in 1..``n_doses``; without ``allow_skipping`` a patient may be at most one level above the
        highest dose tried before (the first at most at ``start_dose``); pending patients and backfill patients
        only where the design uses them.  With the design's ``dose_values``, a level out of range or skipping
        that is one of the doses (``--doses 1,2,4,8`` and a cell 4 or 8) says the column holds levels, and which
        level that dose is -- when that level would be a valid next level there (no advice to skip a dose)."""
        highest = start_dose - 1

        def levels_hint(v: int) -> str:
            """The hint, when ``v`` is one of the doses and its level would be a valid next level here."""
            level = next((j for j, x in enumerate(dose_values or (), start=1) if abs(x - v) <= 1e-9 * max(1, abs(x))),
                         None)
            if level is None or level == v or (not allow_skipping and level > max(highest, start_dose - 1) + 1):
                return ""
            return (f"; the dose column holds dose levels (1 to {n_doses}), not doses: for the dose {v:g}"
                    f"{' ' + dose_unit if dose_unit else ''} write its level, {level}")
        for k, p in enumerate(self.patients, start=1):
            if p.dose is None:
                raise _row_error(self, k, p, "dose_a", f"{design} has one agent: give each patient's dose level "
                                                       f"(dose), not dose_a and dose_b")
            if not 1 <= p.dose <= n_doses:
                raise _row_error(self, k, p, "dose", f"level {p.dose} is outside 1..{n_doses}{levels_hint(p.dose)}")
            if p.pending and not pending:
                raise _row_error(self, k, p, "dlt", f"the outcome is pending, and {design} decides on complete "
                                                    f"outcomes only: record the outcome, or decide without this "
                                                    f"patient")
            if p.backfill and not backfill:
                raise _row_error(self, k, p, "backfill", f"{design} has no backfill cohorts")
            if k == 1 and not p.backfill and p.dose != start_dose and not allow_skipping:
                raise _row_error(self, k, p, "dose", f"the first cohort is at level {p.dose}, but {design} starts at "
                                                     f"level {start_dose}")
            if not allow_skipping and not p.backfill and p.dose > highest + 1:
                raise _row_error(self, k, p, "dose", f"level {p.dose} skips untried level {highest + 1} (the highest "
                                                     f"level tried before is {highest if highest >= 1 else 'none'})"
                                                     + levels_hint(p.dose))
            highest = max(highest, p.dose)
        return self
