"""Running a sweep: in this process, on a local Dask cluster, or on an existing ``dask.distributed`` cluster.

:func:`run_sweep` plans the cells and chunks (:mod:`.plan`), checks every cell by simulating two trials of it here
(so a scenario a design cannot take fails at once, naming both), sends the chunks to the workers, pools each cell's
chunks in their fixed order (:mod:`.combine`) and returns a :class:`SweepResult`.  ``workers=0`` runs every chunk in
this process; ``workers=N`` starts a local cluster of N single-threaded worker processes; ``scheduler`` connects to
a running cluster (``tcp://host:port``; its workers need adcbridge installed).  The results are the same, bit for
bit, in every case (the seeds belong to the chunks, not to the workers).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from .combine import pool_records
from .plan import Cell, Chunk, plan_sweep
from .spec import SweepFile

__all__ = ["run_sweep", "SweepResult", "simulate_chunk"]


def simulate_chunk(design, p_true, truths: dict, target, trials: int, seed: int) -> dict:
    """One chunk's operating characteristics (its record body, JSON-ready): the unit of work of a worker."""
    from adcbridge.dosefinding import simulate
    from adcbridge.results import json_ready
    oc = simulate(design, p_true, n_trials=trials, seed=seed, target=target, **truths)
    return json_ready(oc.record_body())


@dataclass
class SweepResult:
    """The pooled operating characteristics of every cell (``records``, in cell order) and how they were run."""

    sweep: SweepFile
    cells: list[Cell]
    records: list[dict]
    seeds: dict[int, list[int]] = field(default_factory=dict)
    runner: str = "in-process"

    def table(self) -> pd.DataFrame:
        """One row per design x scenario x sample size x dose (see :func:`results_table`)."""
        from .tables import results_table
        return results_table(self)


def _check_cells(cells: list[Cell]) -> None:
    """Simulate two trials of every cell here: any error names the design and the scenario."""
    for cell in cells:
        try:
            simulate_chunk(cell.design, cell.p_true, cell.truths, cell.target, 2, 0)
        except ValueError as exc:
            raise ValueError(f"design {cell.label!r}, scenario {cell.scenario!r}: "
                             f"{str(exc).splitlines()[0]}") from None


def _client(workers: int | None, scheduler: str | None):
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="5s"), None
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    n = workers if workers is not None else max(1, os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_sweep(sweep: SweepFile, *, workers: int | None = None, scheduler: str | None = None,
              progress: Callable[[int, int], None] | None = None, client=None) -> SweepResult:
    """Run ``sweep`` (see the module docstring).  ``progress(trials_done, trials_total)`` is called as chunks
    finish.  ``client``: an existing ``distributed.Client`` to use (as with ``scheduler``)."""
    if workers is not None and (isinstance(workers, bool) or workers < 0):
        raise ValueError(f"The number of workers must be 0 (in this process) or more. Got {workers!r}.")
    if workers is not None and scheduler is not None:
        raise ValueError("Give the number of local workers or the address of a scheduler, not both.")
    cells, chunks = plan_sweep(sweep)
    _check_cells(cells)
    total = sum(c.trials for c in chunks)
    results: dict[tuple[int, int], dict] = {}
    done = 0
    if workers == 0 and client is None and scheduler is None:
        runner = "in-process"
        for ch in chunks:
            results[(ch.cell, ch.index)] = _run_one(cells[ch.cell], ch)
            done += ch.trials
            if progress:
                progress(done, total)
    else:
        own = None
        if client is None:
            client, own = _client(workers, scheduler)
        runner = f"dask ({client.scheduler.address})" if own is None else f"dask local cluster ({len(own.workers)} " \
                                                                          f"workers)"
        try:
            results = _run_dask(client, cells, chunks, progress, total)
        finally:
            if own is not None:
                client.close()
                own.close()
            elif scheduler is not None:
                client.close()
    records = []
    seeds: dict[int, list[int]] = {}
    for cell in cells:
        mine = sorted((ch for ch in chunks if ch.cell == cell.index), key=lambda ch: ch.index)
        seeds[cell.index] = [ch.seed for ch in mine]
        pooled = pool_records([results[(cell.index, ch.index)] for ch in mine], [ch.trials for ch in mine])
        pooled["seed"] = sweep.seed
        records.append(pooled)
    return SweepResult(sweep, cells, records, seeds, runner)


def _run_one(cell: Cell, chunk: Chunk) -> dict:
    return simulate_chunk(cell.design, cell.p_true, cell.truths, cell.target, chunk.trials, chunk.seed)


def _run_dask(client, cells: list[Cell], chunks: list[Chunk], progress, total: int) -> dict:
    from distributed import as_completed
    futures = {}
    for ch in chunks:
        cell = cells[ch.cell]
        f = client.submit(simulate_chunk, cell.design, cell.p_true, cell.truths, cell.target, ch.trials, ch.seed,
                          key=f"adcbridge-sweep-{ch.cell}-{ch.index}-{ch.seed}", pure=False)
        futures[f] = ch
    results, done = {}, 0
    try:
        for f in as_completed(list(futures)):
            ch = futures[f]
            results[(ch.cell, ch.index)] = f.result()
            done += ch.trials
            if progress:
                progress(done, total)
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return results

