"""Checks of a combination trial's history: every patient has levels ``dose_a`` and ``dose_b`` (never ``dose``),
inside the grid; the first cohort is at the start combination; no untried combination is skipped (one-MTD design:
a new combination is next to a tried one, one level apart in one agent -- the waterfall starts its subtrials
further away); no pending or backfill patient (the design decides on complete outcomes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..history import History, _row_error

__all__ = ["CohortGroup", "check_comb_history", "cohort_cells", "cohort_groups", "grid_counts"]


def check_comb_history(design, history: History) -> History:
    J, K = design.grid
    name = design.spec_name
    tried: set[tuple[int, int]] = set()
    previous = None
    for k, p in enumerate(history.patients, start=1):
        if p.dose is not None:
            raise _row_error(history, k, p, "dose", f"{name} has two agents: give each patient's levels of agent A "
                                                    f"and agent B (dose_a and dose_b), not dose")
        if not 1 <= p.dose_a <= J:
            raise _row_error(history, k, p, "dose_a", f"level {p.dose_a} of agent A is outside 1..{J}")
        if not 1 <= p.dose_b <= K:
            raise _row_error(history, k, p, "dose_b", f"level {p.dose_b} of agent B is outside 1..{K}")
        if p.pending:
            raise _row_error(history, k, p, "dlt", f"the outcome is pending, and {name} decides on complete "
                                                   f"outcomes only: record the outcome, or decide without this "
                                                   f"patient")
        if p.backfill:
            raise _row_error(history, k, p, "backfill", f"{name} has no backfill cohorts")
        cell = (p.dose_a, p.dose_b)
        if k == 1 and cell != tuple(design.start_dose):
            raise _row_error(history, k, p, "dose_a", f"the first cohort is at ({p.dose_a}, {p.dose_b}), but {name} "
                                                      f"starts at {tuple(design.start_dose)}")
        if tried and cell not in tried and not design.mtd_contour:
            a, b = cell
            if not {(a - 1, b), (a, b - 1), (a + 1, b), (a, b + 1)} & tried:
                column, how = _skip(cell, tried, previous)
                raise _row_error(history, k, p, column, f"({a}, {b}) skips untried combinations: {how}; a new "
                                                        f"combination must be one level from a tried one in one "
                                                        f"agent (check this row's dose_a and dose_b)")
        tried.add(cell)
        previous = cell
    return history


def _skip(cell: tuple[int, int], tried: set[tuple[int, int]], previous) -> tuple[str, str]:
    """The column of the agent that skips to ``cell`` (from the nearest tried combination, the previous patient's
    first among equals) and the move in words: ``("dose_b", "agent B moves 2 levels from (1, 1)")``."""
    a, b = cell
    near = min(tried, key=lambda t: (abs(t[0] - a) + abs(t[1] - b), t != previous, t))
    da, db = abs(a - near[0]), abs(b - near[1])
    if da == 0 or db == 0:
        agent, steps = ("B", db) if da == 0 else ("A", da)
        return f"dose_{agent.lower()}", f"agent {agent} moves {steps} levels from {near}, the nearest tried one"
    column = "dose_b" if db > da else "dose_a"
    return column, (f"both agents move from {near}, the nearest tried one (agent A by {da} level"
                    f"{'s' if da > 1 else ''}, agent B by {db})")


def grid_counts(design, history: History) -> tuple[np.ndarray, np.ndarray]:
    """(n, y): patients and DLTs per combination, (J, K) arrays."""
    J, K = design.grid
    n = np.zeros((J, K), dtype=np.int64)
    y = np.zeros((J, K), dtype=np.int64)
    for p in history.patients:
        n[p.dose_a - 1, p.dose_b - 1] += 1
        y[p.dose_a - 1, p.dose_b - 1] += bool(p.dlt)
    return n, y


def cohort_cells(design, history: History) -> list[int]:
    """The flat cell (0-based, row-major) of each cohort, in order."""
    return [g.cell for g in cohort_groups(design, history)]


@dataclass(frozen=True)
class CohortGroup:
    """One cohort of a history: its ``cohort`` number, flat ``cell`` (that of its first patient), patients ``n``,
    DLTs ``y`` and the patients' ids."""

    cohort: int
    cell: int
    n: int
    y: int
    patients: tuple[str, ...]


def cohort_groups(design, history: History) -> list[CohortGroup]:
    """The cohorts of ``history`` in order (consecutive patients with the same cohort number)."""
    K = design.grid[1]
    out: list[list] = []
    for p in history.patients:
        if not out or out[-1][0] != p.cohort:
            out.append([p.cohort, (p.dose_a - 1) * K + p.dose_b - 1, 0, 0, []])
        out[-1][2] += 1
        out[-1][3] += bool(p.dlt)
        out[-1][4].append(p.patient)
    return [CohortGroup(c, cell, n, y, tuple(ids)) for c, cell, n, y, ids in out]
