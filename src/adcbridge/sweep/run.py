"""Running a sweep: in this process, on a local Dask cluster, or on an existing ``dask.distributed`` cluster.

:func:`run_sweep` plans the cells and chunks (:mod:`.plan`), checks every cell by simulating two trials of it here
(so a scenario a design cannot take fails at once, naming the file, the scenario and the design, and a quantity
without a pooling rule is refused), sends the chunks to the workers, pools each cell's chunks in their index order
whatever order they finished in (:mod:`.combine`) and returns a :class:`SweepResult`.  ``workers=0`` runs every
chunk in this process; ``workers=N`` starts a local cluster of N single-threaded worker processes; ``scheduler``
connects to a running cluster (``tcp://HOST:PORT``, checked first; it must answer as a Dask scheduler within
:data:`SCHEDULER_TIMEOUT` seconds; its workers need adcbridge installed).  The results are the same, bit for bit,
in every case: the seeds belong to the chunks, not to the workers; every chunk runs with one BLAS thread
(:mod:`.blas`); and the pooling is a fixed computation in chunk order.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from .combine import check_poolable, pool_records
from .plan import Cell, Chunk, plan_sweep
from .spec import SweepFile

__all__ = ["SCHEDULER_TIMEOUT", "SweepResult", "run_sweep", "scheduler_problem", "simulate_chunk"]


def simulate_chunk(design, p_true, truths: dict, target, trials: int, seed: int) -> dict:
    """One chunk's operating characteristics (its record body, JSON-ready): the unit of work of a worker.  It runs
    with one BLAS thread on every runner (:mod:`.blas`), so its numbers do not depend on where it runs.  Besides
    the record body it carries, under the private key :data:`.combine.RATIO_COMOMENT`, the co-moments that make
    its ratios of means pool exactly (:mod:`.moments`); the pooled record leaves that key out."""
    from adcbridge.dosefinding import simulate
    from adcbridge.results import json_ready

    from .blas import one_blas_thread
    from .combine import RATIO_COMOMENT
    from .moments import record_comoments
    with one_blas_thread():
        oc = simulate(design, p_true, n_trials=trials, seed=seed, target=target, **truths)
    record = json_ready(oc.record_body())
    comoments = {**record_comoments(record), **{k: v for k, v in (oc.ratio_comoments or {}).items()
                                                 if v is not None and math.isfinite(v)}}
    if comoments:
        record[RATIO_COMOMENT] = json_ready(comoments)
    return record


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


def _check_cells(sweep: SweepFile, cells: list[Cell]) -> None:
    """Simulate two trials of every cell here: any error names the file, the scenario and the design; and every
    quantity the design reports must have a pooling rule (:func:`.combine.check_poolable`)."""
    for cell in cells:
        try:
            record = simulate_chunk(cell.design, cell.p_true, cell.truths, cell.target, 2, 0)
        except (ValueError, TypeError) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            scenario = sweep.scenarios[cell.scenario_index]
            m = _ARGUMENT.match(text)
            if m and (m.group("key") == "p_true" or m.group("key") in scenario.truths):
                got = f", got {m.group('value')}" if m.group("value") else ""
                raise ValueError(f"{sweep.where(('scenarios', cell.scenario_index, m.group('key')))}: design "
                                 f"{cell.label!r}: {m.group('msg')}{got}") from None
            raise ValueError(f"{sweep.where(('scenarios', cell.scenario_index))}: design {cell.label!r} cannot take "
                             f"this scenario: {text}") from None
        check_poolable(record)


#: a simulator's sentence about one of its arguments: "The 'p_true' argument must have ... Got 3: [...]."
_ARGUMENT = re.compile(r"^The '(?P<key>[^']+)' (?:argument|scenario option(?: of \S+)?) (?P<msg>.+?)\.?"
                       r"(?: Got (?P<value>.+?)\.?)?$")


#: how long to wait for a scheduler to answer (connecting and the handshake together), in seconds
SCHEDULER_TIMEOUT = 5.0
_ADDRESS = re.compile(r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
                      r":(?P<port>[0-9]{1,5})$")
_SCHEMES = ("tcp", "tls", "ws", "wss")


def scheduler_problem(address) -> str | None:
    """Why ``address`` is not a Dask scheduler address of the form ``tcp://HOST:PORT`` (None when it is one)."""
    if not isinstance(address, str) or not address.strip():
        return "is empty: give the scheduler's address, tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
    m = _ADDRESS.match(address.strip())
    if m is None:
        return (f"expects the address of a running Dask scheduler, tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), got "
                f"{address!r}")
    if m.group("scheme") is not None and m.group("scheme").lower() not in _SCHEMES:
        return (f"expects tcp://HOST:PORT (or tls://, ws://, wss://), got the scheme {m.group('scheme')!r} in "
                f"{address!r}")
    if not 1 <= int(m.group("port")) <= 65535:
        return f"expects a port from 1 to 65535 in tcp://HOST:PORT, got {address!r}"
    return None


def _probe(address: str, timeout: float) -> None:
    """Connect to ``address`` and ask it who it is, within about ``timeout`` seconds in all (in a thread of its
    own, so that it works under a running event loop too): a ValueError in one line when nothing answers there, or
    something that is not a Dask scheduler."""
    import asyncio
    import threading

    async def ask():
        from distributed.comm import connect
        from distributed.core import send_recv
        comm = await connect(address, timeout=timeout)
        try:
            return await send_recv(comm, op="identity")
        finally:
            comm.abort()

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except Exception as exc:  # noqa: BLE001 - any failure is reported below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="adcbridge-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 3)
    why = _probe_failure(outcome, timeout) if not thread.is_alive() else f"no answer within {timeout:g} s"
    if why:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {why}")


def _probe_failure(outcome: dict, timeout: float) -> str | None:
    """What went wrong in :func:`_probe` (None: a Dask scheduler answered)."""
    import asyncio
    exc, reply = outcome.get("error"), outcome.get("reply")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, OSError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if exc is not None:                       # a comm error of distributed, an unreadable answer, ...
        return f"something answers there, but not as a Dask scheduler ({type(exc).__name__})"
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind == "Worker":
        return "that is a Dask worker; give the scheduler's address"
    if kind != "Scheduler" and not (isinstance(reply, dict) and "n_workers" in reply):
        return "something answers there, but not a Dask scheduler"
    return None


def _client(workers: int | None, scheduler: str | None):
    import dask
    from distributed import Client, LocalCluster
    if scheduler is not None:
        _probe(scheduler, SCHEDULER_TIMEOUT)
        try:
            return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT:g}s"), None
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    n = workers if workers is not None else max(1, os.cpu_count() or 1)
    with dask.config.set(WORKER_CONFIG):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    return Client(cluster), cluster


#: Dask configuration for the local cluster's nannies: no ``MALLOC_TRIM_THRESHOLD_`` in the workers' environment.
#: Dask sets that glibc variable so that workers hand freed memory back to the system; setting it also turns off
#: glibc's adaptive mmap threshold, so every large numpy temporary of a simulation is mapped and unmapped afresh and
#: the page faults cost more than the simulation (sweep C of ``benchmarks/bench_sweep.py``: 13 s on one worker with
#: it, 7.5 s without, 7.3 s in this process).  A chunk's memory is bounded (``CHUNK_TRIALS`` trials), so nothing is
#: lost by leaving glibc's default.  Dask's thread limits (one BLAS / OpenMP thread) stay.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def max_local_workers() -> int:
    """The most worker processes of a local cluster: 4 per CPU (each is a Python process of ~200 MiB; more than the
    CPUs only adds start-up and memory)."""
    return 4 * max(1, os.cpu_count() or 1)


def run_sweep(sweep: SweepFile, *, workers: int | None = None, scheduler: str | None = None,
              progress: Callable[[int, int], None] | None = None, client=None) -> SweepResult:
    """Run ``sweep`` (see the module docstring).  ``progress(trials_done, trials_total)`` is called as chunks
    finish.  ``client``: an existing ``distributed.Client`` to use (as with ``scheduler``)."""
    if workers is not None and (isinstance(workers, bool) or workers < 0):
        raise ValueError(f"The number of workers must be 0 (in this process) or more. Got {workers!r}.")
    if workers is not None and scheduler is not None:
        raise ValueError("Give the number of local workers or the address of a scheduler, not both.")
    if workers is not None and workers > (limit := max_local_workers()):
        raise ValueError(f"--workers {workers}: a local cluster has at most {limit} worker processes (4 per CPU; "
                         f"this machine has {os.cpu_count() or 1}); for more, start a Dask cluster and give "
                         f"--scheduler")
    if scheduler is not None and (problem := scheduler_problem(scheduler)):
        raise ValueError(f"the scheduler address {problem}")
    cells, chunks = plan_sweep(sweep)
    _check_cells(sweep, cells)
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
    for cell in cells:                      # each cell's chunks pooled in index order, however they finished
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

