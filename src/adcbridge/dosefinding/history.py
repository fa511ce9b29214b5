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
from dataclasses import dataclass, field

import numpy as np

from .outcomes import Cohort, DoseCounts, parse_outcomes, validate_cohorts

__all__ = ["Patient", "History", "HISTORY_COLUMNS"]

#: The columns of a history table: the first four are required, the others optional.
HISTORY_COLUMNS = ("patient", "cohort", "dose", "dlt", "dose_time", "assess_time", "efficacy", "backfill")


@dataclass(frozen=True)
class Patient:
    """One patient of a trial (see the module docstring for the fields)."""

    patient: str
    cohort: int
    dose: int
    dlt: bool | None
    dose_time: float | None = None
    assess_time: float | None = None
    efficacy: bool | None = None
    backfill: bool = False

    @property
    def pending(self) -> bool:
        return self.dlt is None

    def record(self) -> dict:
        return {"patient": self.patient, "cohort": self.cohort, "dose": self.dose, "dlt": self.dlt,
                "dose_time": self.dose_time, "assess_time": self.assess_time, "efficacy": self.efficacy,
                "backfill": self.backfill}


def _place(k: int, p: Patient, source: str | None, places: tuple[str, ...] | None = None) -> str:
    """Where patient ``p`` (the ``k``-th, 1-based) is: ``history.csv: line 5 (patient P4)`` for a table read from
    a file (``places`` holds each row's place), ``patient row 4 (patient P4)`` otherwise."""
    where = f"{source}: " if source else ""
    row = places[k - 1] if places else f"patient row {k}"
    return f"{where}{row} (patient {p.patient})"


@dataclass(frozen=True)
class History:
    """The patients of a trial so far, in enrolment order (see the module docstring).

    ``source`` names where the history came from (a file) and ``places`` where each patient's row is in it (e.g.
    ``"line 5"``), for error messages only: two histories with the same patients are equal whatever their
    source."""

    patients: tuple[Patient, ...]
    source: str | None = field(default=None, compare=False)
    places: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if not self.patients:
            raise ValueError(f"{self.source + ': ' if self.source else ''}the history has no patient.")
        seen: set[str] = set()
        last_cohort = 0
        closed: set[int] = set()
        for k, p in enumerate(self.patients, start=1):
            if not isinstance(p, Patient):
                raise ValueError(f"the history's row {k} is not a Patient: {p!r}.")
            if p.patient in seen:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'patient': the id appears twice.")
            seen.add(p.patient)
            if isinstance(p.cohort, bool) or not isinstance(p.cohort, (int, np.integer)) or p.cohort < 1:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'cohort': expected a whole number >= 1, "
                                 f"got {p.cohort!r}.")
            if isinstance(p.dose, bool) or not isinstance(p.dose, (int, np.integer)) or p.dose < 1:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'dose': expected a dose level >= 1, "
                                 f"got {p.dose!r}.")
            if p.cohort != last_cohort:
                if p.cohort in closed:
                    raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'cohort': cohort {p.cohort} continues "
                                     f"after another cohort; a cohort's patients are consecutive.")
                if last_cohort:
                    closed.add(last_cohort)
                last_cohort = p.cohort
            for name in ("dose_time", "assess_time"):
                v = getattr(p, name)
                if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                    raise ValueError(f"{_place(k, p, self.source, self.places)}, column '{name}': expected a time, got {v!r}.")
            if p.dose_time is not None and p.assess_time is not None and p.assess_time < p.dose_time:
                what = "a DLT marked" if p.dlt else "an assessment"
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'assess_time': {what} before dosing "
                                 f"({p.assess_time:g} < dose_time {p.dose_time:g}).")
        dose_of: dict[int, int] = {}
        for k, p in enumerate(self.patients, start=1):
            first = dose_of.setdefault(p.cohort, p.dose)
            if p.dose != first:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'dose': cohort {p.cohort} is at level "
                                 f"{first}, this patient at level {p.dose}; a cohort has one dose.")

    # ----------------------------------------------------------------------------------------- constructors
    @classmethod
    def from_outcomes(cls, text: str, n_doses: int, start_dose: int = 1, check_skipping: bool = True) -> "History":
        """The history written in the outcome grammar (``"1NNN 2NTN"``): patients ``P1``, ``P2``, ... by cohort."""
        return cls.from_cohorts(parse_outcomes(text, n_doses, start_dose, check_skipping))

    @classmethod
    def from_cohorts(cls, cohorts) -> "History":
        """The history of a list of :class:`~.outcomes.Cohort`."""
        cohorts = validate_cohorts(cohorts, n_doses=10 ** 6, check_skipping=False)
        patients, k = [], 0
        for c_no, c in enumerate(cohorts, start=1):
            for tox in c.dlt:
                k += 1
                patients.append(Patient(f"P{k}", c_no, int(c.dose), bool(tox)))
        return cls(tuple(patients))

    @classmethod
    def from_records(cls, records, source: str | None = None) -> "History":
        """A history from row objects with the :data:`HISTORY_COLUMNS` keys (the record of a decision)."""
        patients = []
        for r in records:
            unknown = sorted(set(r) - set(HISTORY_COLUMNS))
            if unknown:
                raise ValueError(f"{source + ': ' if source else ''}the history has unknown columns {unknown}; "
                                 f"expected {', '.join(HISTORY_COLUMNS)}.")
            patients.append(Patient(str(r["patient"]), r["cohort"], r["dose"], r["dlt"], r.get("dose_time"),
                                    r.get("assess_time"), r.get("efficacy"), bool(r.get("backfill") or False)))
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
    def current_dose(self) -> int:
        """The dose of the last escalation cohort (backfill patients left out)."""
        main = [p for p in self.patients if not p.backfill] or list(self.patients)
        return main[-1].dose

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
              backfill: bool = False, design: str = "the design") -> "History":
        """Apply the rules every design shares; the error names the patient row and the column.

        Dose levels lie in 1..``n_doses``; without ``allow_skipping`` a patient may be at most one level above the
        highest dose tried before (the first at most at ``start_dose``); pending patients and backfill patients
        only where the design uses them."""
        highest = start_dose - 1
        for k, p in enumerate(self.patients, start=1):
            if not 1 <= p.dose <= n_doses:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'dose': level {p.dose} is outside "
                                 f"1..{n_doses}.")
            if p.pending and not pending:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'dlt': the outcome is pending, and {design} "
                                 f"decides on complete outcomes only (a time-to-event design uses pending "
                                 f"patients).")
            if p.backfill and not backfill:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'backfill': {design} has no backfill "
                                 f"cohorts.")
            if not allow_skipping and not p.backfill and p.dose > highest + 1:
                raise ValueError(f"{_place(k, p, self.source, self.places)}, column 'dose': level {p.dose} skips untried "
                                 f"level {highest + 1} (the highest level tried before is "
                                 f"{highest if highest >= 1 else 'none'}).")
            highest = max(highest, p.dose)
        return self
