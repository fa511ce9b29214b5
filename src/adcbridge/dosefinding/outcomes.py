"""Trial data for dose finding: the compact outcome grammar and per-dose counts.

The compact grammar writes a trial as cohorts separated by spaces; each cohort is a 1-based dose level followed
by one letter per patient, ``N`` (no DLT) or ``T`` (DLT)::

    "1NNN 2NTN 3TTN"   -> dose 1: 0/3, dose 2: 1/3, dose 3: 2/3 (current dose 3)

Letters are case-insensitive.  :func:`parse_outcomes` checks the grammar, the dose range and that no cohort skips
an untried dose (a cohort may go at most one level above the highest dose tried so far, or start at the start
dose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Cohort", "DoseCounts", "parse_outcomes", "validate_cohorts", "format_outcomes", "counts_from_table"]

_COHORT = re.compile(r"^(\d+)([NT]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Cohort:
    """One cohort: the 1-based dose level and the outcome of each patient (True = DLT)."""

    dose: int
    dlt: tuple[bool, ...]

    def __post_init__(self):
        if isinstance(self.dose, bool) or not isinstance(self.dose, (int, np.integer)) or self.dose < 1:
            raise ValueError(f"A cohort's dose level must be a whole number >= 1. Got {self.dose!r}.")
        if len(self.dlt) < 1:
            raise ValueError(f"A cohort at dose {self.dose} has no patient.")

    @property
    def n(self) -> int:
        return len(self.dlt)

    @property
    def n_dlt(self) -> int:
        return int(sum(self.dlt))

    def __str__(self) -> str:
        return f"{self.dose}" + "".join("T" if x else "N" for x in self.dlt)


@dataclass(frozen=True)
class DoseCounts:
    """Patients treated (``n``) and DLTs (``dlt``) per dose level (index 0 = level 1)."""

    n: tuple[int, ...]
    dlt: tuple[int, ...]

    def __post_init__(self):
        if len(self.n) != len(self.dlt):
            raise ValueError(f"The 'dlt' argument has {len(self.dlt)} doses but 'n' has {len(self.n)}.")
        if not self.n:
            raise ValueError("The 'n' argument has no dose.")
        for j, (n, y) in enumerate(zip(self.n, self.dlt), start=1):
            if n < 0:
                raise ValueError(f"The 'n' argument at dose {j} must be >= 0. Got {n}.")
            if y < 0:
                raise ValueError(f"The 'dlt' argument at dose {j} must be >= 0. Got {y}.")
            if y > n:
                raise ValueError(f"The 'dlt' argument at dose {j} cannot exceed 'n'. Got {y} DLTs in {n} patients.")

    @classmethod
    def from_arrays(cls, n, dlt) -> DoseCounts:
        arrays = []
        for name, raw in (("n", n), ("dlt", dlt)):
            try:
                a = np.asarray(raw, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"The '{name}' argument must be whole numbers per dose. Got {raw!r}.") from None
            if a.ndim != 1:
                raise ValueError(f"The '{name}' argument must be a list of counts per dose. Got shape {a.shape}.")
            if a.size and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
                raise ValueError(f"The '{name}' argument must hold whole numbers. Got {a.tolist()}.")
            arrays.append(a)
        n_a, y_a = arrays
        return cls(tuple(int(v) for v in n_a), tuple(int(v) for v in y_a))

    @classmethod
    def from_cohorts(cls, cohorts: list[Cohort], n_doses: int) -> DoseCounts:
        n = [0] * n_doses
        y = [0] * n_doses
        for c in cohorts:
            n[c.dose - 1] += c.n
            y[c.dose - 1] += c.n_dlt
        return cls(tuple(n), tuple(y))

    @property
    def n_doses(self) -> int:
        return len(self.n)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.n, dtype=np.int64), np.asarray(self.dlt, dtype=np.int64)


def parse_outcomes(text: str, n_doses: int, start_dose: int = 1, check_skipping: bool = True) -> list[Cohort]:
    """Parse the compact grammar (see the module docstring); errors name the offending cohort.

    ``check_skipping=False`` accepts data that skip untried doses (e.g. a historical data set to re-analyse).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The 'outcomes' argument is empty: give cohorts such as \"1NNN 2NTN\".")
    cohorts: list[Cohort] = []
    for k, token in enumerate(text.split(), start=1):
        m = _COHORT.match(token)
        if not m:
            raise ValueError(
                f"The 'outcomes' argument has a malformed cohort {k} ({token!r}): expected a dose level followed "
                f"by N (no DLT) or T (DLT) per patient, e.g. '2NTN'.")
        dose = int(m.group(1))
        if not 1 <= dose <= n_doses:
            raise ValueError(
                f"The 'outcomes' argument names dose level {dose} in cohort {k} ({token!r}); levels are 1..{n_doses}.")
        cohorts.append(Cohort(dose, tuple(ch.upper() == "T" for ch in m.group(2))))
    return validate_cohorts(cohorts, n_doses, start_dose, check_skipping)


def validate_cohorts(cohorts, n_doses: int, start_dose: int = 1, check_skipping: bool = True) -> list[Cohort]:
    """Check a list of cohorts: at least one, levels in 1..n_doses, no untried dose skipped (a cohort may go at
    most one level above the highest dose tried so far, the first at most to the start dose)."""
    if isinstance(cohorts, (str, bytes)) or not hasattr(cohorts, "__iter__"):
        raise ValueError(f"The 'outcomes' argument must be cohorts in the outcome grammar (e.g. \"1NNN 2NTN\") or "
                         f"a list of Cohort. Got {cohorts!r}.")
    cohorts = list(cohorts)
    if not cohorts:
        raise ValueError("The 'outcomes' argument has no cohort.")
    highest = start_dose - 1
    for k, c in enumerate(cohorts, start=1):
        if not isinstance(c, Cohort):
            raise ValueError(f"The 'outcomes' argument's cohort {k} is not a Cohort: {c!r}.")
        if not 1 <= c.dose <= n_doses:
            raise ValueError(
                f"The 'outcomes' argument names dose level {c.dose} in cohort {k} ({c}); levels are 1..{n_doses}.")
        if check_skipping and c.dose > highest + 1:
            tried = max((x.dose for x in cohorts[:k - 1]), default=None)
            raise ValueError(
                f"The 'outcomes' argument skips an untried dose in cohort {k} ({c}): the highest dose tried "
                f"so far is {tried if tried is not None else 'none'}, so this cohort may be at most at level "
                f"{highest + 1}.")
        highest = max(highest, c.dose)
    return cohorts


def format_outcomes(cohorts: list[Cohort]) -> str:
    """Inverse of :func:`parse_outcomes`."""
    return " ".join(str(c) for c in cohorts)


def counts_from_table(dose, n, dlt, n_doses: int) -> DoseCounts:
    """Per-dose counts from a (dose, n, dlt) table; a dose may appear on several rows (they are added)."""
    dose, n, dlt = (np.asarray(a) for a in (dose, n, dlt))
    if not (dose.shape == n.shape == dlt.shape):
        raise ValueError("'dose', 'n' and 'dlt' must have the same length")
    nn = [0] * n_doses
    yy = [0] * n_doses
    for row, (d, k, y) in enumerate(zip(dose.tolist(), n.tolist(), dlt.tolist()), start=1):
        if d != int(d) or not 1 <= int(d) <= n_doses:
            raise ValueError(f"row {row}: 'dose' must be a level in 1..{n_doses}. Got {d!r}.")
        if k != int(k) or k < 0:
            raise ValueError(f"row {row}: 'n' must be a whole number >= 0. Got {k!r}.")
        if y != int(y) or y < 0:
            raise ValueError(f"row {row}: 'dlt' must be a whole number >= 0. Got {y!r}.")
        if y > k:
            raise ValueError(f"row {row}: 'dlt' ({y}) cannot exceed 'n' ({k}).")
        nn[int(d) - 1] += int(k)
        yy[int(d) - 1] += int(y)
    return DoseCounts(tuple(nn), tuple(yy))
