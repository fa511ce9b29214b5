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

__all__ = ["CHUNK_TRIALS", "Cell", "Chunk", "plan_sweep"]

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
    design_index: int = 0           # positions in the sweep file (for error messages)
    scenario_index: int = 0


@dataclass(frozen=True)
class Chunk:
    """A part of a cell's trials, with its seed."""

    cell: int
    index: int
    trials: int
    seed: int


def _option_problem(message: str, name: str, options: dict) -> tuple[tuple, str]:
    """A design spec's error message as ``(key path inside the design entry, message in the sweep's shape)``:
    ``The 'skeleton' parameter of crm must be a number. Got 'abc'.`` -> ``(('skeleton', 2), "must be a number, got
    'abc'")`` (:func:`adcbridge.io.yaml_files.spec_problem`)."""
    from adcbridge.dosefinding.registry import design_class
    from adcbridge.io.yaml_files import spec_problem
    return spec_problem(message, design_class(name).model_fields, options)


def _design(sweep: SweepFile, d_index: int, entry: dict, size: int | None, s_index: int | None):
    from adcbridge.dosefinding.registry import build_design, design_class
    options = {k: v for k, v in entry.items() if k not in ("name", "label")}
    if size is not None:
        if "n_cohorts" not in design_class(entry["name"]).model_fields:
            raise ValueError(f"{sweep.where(('designs', d_index))}: sample_sizes sets the number of cohorts, but "
                             f"{entry['name']} has no n_cohorts")
        options["n_cohorts"] = size
    fields = design_class(entry["name"]).model_fields
    unknown = [k for k in options if k not in fields]
    if unknown:          # before a missing option: a misspelt `targt: 0.3` is named, with the nearest name
        from adcbridge.io.yaml_files import did_you_mean
        raise ValueError(f"{sweep.where(('designs', d_index, unknown[0]))}: {entry['name']} has no parameter "
                         f"{unknown[0]!r}{did_you_mean(unknown[0], fields)}")
    try:
        return build_design(entry["name"], **options)
    except (ValueError, TypeError) as exc:
        loc, msg = _option_problem(str(exc).splitlines()[0], entry["name"], options)
        if size is not None and loc[:1] == ("n_cohorts",):
            raise ValueError(f"{sweep.where(('sample_sizes', s_index))}: {design_label(entry)}: {msg}") from None
        raise ValueError(f"{sweep.where(('designs', d_index) + loc)}: {msg}") from None


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
        for s_index, size in enumerate(sizes):
            design = _design(sweep, d_index, entry, size, s_index if size is not None else None)
            for sc_index, scenario in enumerate(sweep.scenarios):
                if scenario.target is not None and design.oc_target not in (None, scenario.target):
                    raise ValueError(f"{sweep.where(('scenarios', sc_index, 'target'))}: sets the target of designs "
                                     f"without one (3+3); design {label!r} has its own ({design.oc_target:g}), and "
                                     f"the two differ")
                takes = set(design.scenario_options)
                truths = {k: v for k, v in scenario.truths.items() if k in takes}
                cells.append(Cell(len(cells), label, design, scenario.name, size, scenario.p_true, truths,
                                  scenario.target, sweep.trials, d_index, sc_index))
    used = set().union(*(set(c.design.scenario_options) for c in cells))
    for sc_index, scenario in enumerate(sweep.scenarios):
        unknown = sorted(set(scenario.truths) - used)
        if unknown:
            raise ValueError(f"{sweep.where(('scenarios', sc_index, unknown[0]))}: no design of the sweep takes "
                             f"{unknown[0]!r} (the designs' scenario options: {', '.join(sorted(used)) or 'none'})")
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
