"""Sweeps on real Dask clusters: an in-process LocalCluster, a local cluster of worker processes, and a real
``dask scheduler`` with ``dask worker`` processes on loopback.  The results must equal the in-process run's bit for
bit (the seeds belong to the chunks, not to the workers; chunks are pooled in index order whatever order they finish
in; each chunk runs with one BLAS thread, as Dask's worker processes do).  TITE-BOIN is in the sweep because its
duration SD comes from a BLAS sum of squares."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from adcbridge.sweep import CHUNK_TRIALS, SweepFile, run_sweep

SWEEP = SweepFile(
    designs=[{"name": "boin", "target": 0.25, "n_doses": 4, "n_cohorts": 8},
             {"name": "3+3", "n_doses": 4}, {"name": "tite-boin", "target": 0.25, "n_doses": 4}],
    scenarios=[{"name": "A", "p_true": [0.05, 0.12, 0.25, 0.45], "target": 0.25},
               {"name": "B", "p_true": [0.25, 0.35, 0.5, 0.6], "target": 0.25}],
    trials=CHUNK_TRIALS + 3000, seed=99)


@pytest.fixture(scope="module")
def reference():
    return run_sweep(SWEEP, workers=0).records


def test_an_in_process_local_cluster_gives_the_same_results(reference):
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        result = run_sweep(SWEEP, client=client)
    assert result.records == reference


def test_a_tite_boin_sweep_in_shuffled_chunks_on_a_local_cluster_writes_the_same_files(tmp_path, monkeypatch):
    """Many small chunks, sent to an in-process cluster in a shuffled order: results.parquet and sweep.json are
    the same bytes as those of the in-process run."""
    import random

    from distributed import Client, LocalCluster

    import adcbridge.sweep.run as run_module
    from adcbridge.sweep import plan, write_sweep
    monkeypatch.setattr(plan, "CHUNK_TRIALS", 250)
    sweep = SweepFile(designs=[{"name": "tite-boin", "target": 0.25, "n_doses": 4}],
                      scenarios=[{"name": "A", "p_true": [0.05, 0.12, 0.25, 0.45]},
                                 {"name": "B", "p_true": [0.25, 0.35, 0.5, 0.6]}], trials=2000, seed=3)
    write_sweep(run_sweep(sweep, workers=0), tmp_path / "here")
    planned = run_module.plan_sweep

    def shuffled(s):
        cells, chunks = planned(s)
        chunks = list(chunks)
        random.Random(1).shuffle(chunks)
        return cells, chunks
    monkeypatch.setattr(run_module, "plan_sweep", shuffled)
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        write_sweep(run_sweep(sweep, client=client), tmp_path / "cluster")
    for name in ("results.parquet", "sweep.json"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "cluster" / name).read_bytes(), name


def test_a_local_cluster_of_worker_processes_gives_the_same_results(reference):
    result = run_sweep(SWEEP, workers=2)
    assert result.records == reference and "local cluster (2 workers)" in result.runner


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    return [str(exe)] if exe.exists() else [shutil.which("dask") or "dask"]


def test_real_scheduler_and_worker_processes_on_loopback(reference, tmp_path, capsys):
    from distributed import Client
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    log = open(tmp_path / "dask.log", "w")
    scheduler = subprocess.Popen(_dask_cli() + ["scheduler", "--host", "127.0.0.1", "--port", str(port),
                                                "--no-dashboard"], stdout=log, stderr=log, env=env)
    workers = subprocess.Popen(_dask_cli() + ["worker", address, "--nworkers", "2", "--nthreads", "1",
                                              "--no-dashboard", "--host", "127.0.0.1"], stdout=log, stderr=log,
                               env=env)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="2s") as c:
                    if len(c.scheduler_info()["workers"]) >= 2:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail("the Dask scheduler and workers did not start: " + (tmp_path / "dask.log").read_text())
            time.sleep(0.5)
        result = run_sweep(SWEEP, scheduler=address)
        assert result.records == reference and address in result.runner
        # and through the command line, with the same outputs as an in-process run
        import yaml

        from tests.clirun import run
        path = tmp_path / "sweep.yaml"
        path.write_text(yaml.safe_dump(SWEEP.model_dump(mode="json")))
        code, out, err = run(capsys, "sweep", path, "--out", tmp_path / "cluster", "--scheduler", address, "--quiet")
        assert code == 0, err
        code, out, err = run(capsys, "sweep", path, "--out", tmp_path / "local", "--workers", "0", "--quiet")
        assert code == 0, err
        assert (tmp_path / "cluster" / "sweep.json").read_bytes() == (tmp_path / "local" / "sweep.json").read_bytes()
    finally:
        for p in (workers, scheduler):
            p.terminate()
        for p in (workers, scheduler):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def test_a_listener_that_is_not_a_scheduler_is_one_line_within_the_timeout(tmp_path, capsys):
    """Something accepts the connection but never answers (a wrong port, a firewall): one line, no hang."""
    import yaml

    from adcbridge.sweep.run import SCHEDULER_TIMEOUT
    from tests.clirun import run
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP.model_dump(mode="json")))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        start = time.monotonic()
        code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", f"tcp://127.0.0.1:{port}")
        took = time.monotonic() - start
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}: no answer within" in err
    assert took < SCHEDULER_TIMEOUT + 10
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    import yaml

    from tests.clirun import run
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP.model_dump(mode="json")))
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 2 and "cannot reach the Dask scheduler" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_the_local_cluster_workers_keep_glibcs_adaptive_malloc_and_one_blas_thread():
    """The local cluster ``adcbridge sweep --workers N`` starts leaves out Dask's ``MALLOC_TRIM_THRESHOLD_`` (it
    switches off glibc's adaptive mmap threshold and made one worker ~1.7x slower than this process) and keeps
    Dask's one-thread limits for BLAS and OpenMP; and the setting does not leak into this process's config."""
    import dask

    from adcbridge.sweep.run import _client

    before = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    client, cluster = _client(1, None)
    try:
        env = client.run(lambda: {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OPENBLAS_NUM_THREADS")})
    finally:
        client.close()
        cluster.close()
    (worker_env,) = env.values()
    assert worker_env == {"MALLOC_TRIM_THRESHOLD_": None, "OPENBLAS_NUM_THREADS": "1"}
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == before
