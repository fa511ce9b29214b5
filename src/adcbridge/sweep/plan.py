"""A sweep cut into cells and chunks, each chunk with its own reproducible seed.

A *cell* is one design (with one sample size) under one scenario; its trials are cut into chunks of
:data:`CHUNK_TRIALS` (the last one shorter).  The chunk seeds come from ``numpy.random.SeedSequence(seed)``:
``spawn`` one child per scenario, one grandchild per sample size, one per chunk -- so every design of the same
scenario and sample size runs on the same seeds (common random numbers: the engine's designs see the same
patients, and paired differences have small Monte Carlo error), and the chunks depend only on the sweep file, never
on the number of workers or the cluster.  Results are therefore identical, bit for bit, whatever runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .spec import SweepFile, design_label

__all__ = ["Cell", "Chunk", "plan_sweep", "CHUNK_TRIALS"]

#: trials per chunk: the unit of work sent to a worker (fixed, so the seeds do not depend on the cluster)
CHUNK_TRIALS = 50_000


@dataclass(frozen=True)
class Cell:
    """One design x scenario x sample size."""

    index: int
    label: str                      # the design's label in the sweep file
    design: Any                     # the built, validated design spec
    scenario: str
    n_cohorts: int | None
    p_true: Any
    truths: dict
    target: float | None
    trials: int


@dataclass(frozen=True)
class Chunk:
    """A part of a cell's trials, with its seed."""

    cell: int
    index: int
    trials: int
    seed: int


def _design(entry: dict, n_cohorts: int | None, where: str):
    from adcbridge.dosefinding.registry import build_design, design_class
    options = {k: v for k, v in entry.items() if k not in ("name", "label")}
    if n_cohorts is not None:
        if "n_cohorts" not in design_class(entry["name"]).model_fields:
            raise ValueError(f"{where}: sample_sizes sets the number of cohorts, but {entry['name']} has no "
                             f"n_cohorts")
        options["n_cohorts"] = n_cohorts
    try:
        return build_design(entry["name"], **options)
    except ValueError as exc:
        raise ValueError(f"{where}: {str(exc).splitlines()[0]}") from None


def _seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def plan_sweep(sweep: SweepFile) -> tuple[list[Cell], list[Chunk]]:
    """The cells (designs x scenarios x sample sizes, in that nesting order) and their chunks, with seeds.

    Every design is built and every scenario's keys checked here, before any simulation: an error names the
    design and the scenario."""
    sizes = sweep.sample_sizes or [None]
    cells: list[Cell] = []
    for d_index, entry in enumerate(sweep.designs):
        label = design_label(entry)
        for size in sizes:
            where = f"design {label!r}" + (f" with {size} cohorts" if size is not None else "")
            design = _design(entry, size, where)
            for scenario in sweep.scenarios:
                if scenario.target is not None and design.oc_target not in (None, scenario.target):
                    raise ValueError(f"scenario {scenario.name!r}: 'target' sets the target of designs without one "
                                     f"(3+3); {where} has its own ({design.oc_target:g}), and the two differ")
                takes = set(design.scenario_options)
                truths = {k: v for k, v in scenario.truths.items() if k in takes}
                cells.append(Cell(len(cells), label, design, scenario.name, size, scenario.p_true, truths,
                                  scenario.target, sweep.trials))
    used = set().union(*(set(c.design.scenario_options) for c in cells))
    for scenario in sweep.scenarios:
        unknown = sorted(set(scenario.truths) - used)
        if unknown:
            raise ValueError(f"scenario {scenario.name!r}: no design of the sweep takes {unknown[0]!r} (the "
                             f"designs' scenario options: {', '.join(sorted(used)) or 'none'})")
    root = np.random.SeedSequence(sweep.seed)
    by_scenario = {s.name: child for s, child in zip(sweep.scenarios, root.spawn(len(sweep.scenarios)))}
    n_chunks = -(-sweep.trials // CHUNK_TRIALS)
    seeds: dict[tuple[str, int | None], list[int]] = {}
    for name, child in by_scenario.items():
        for size, grandchild in zip(sizes, child.spawn(len(sizes))):
            seeds[(name, size)] = [_seed(s) for s in grandchild.spawn(n_chunks)]
    chunks = []
    for cell in cells:
        for k, seed in enumerate(seeds[(cell.scenario, cell.n_cohorts)]):
            n = min(CHUNK_TRIALS, sweep.trials - k * CHUNK_TRIALS)
            chunks.append(Chunk(cell.index, k, n, seed))
    return cells, chunks
