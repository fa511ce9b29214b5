"""Sweeps on real Dask clusters: an in-process LocalCluster, a local cluster of worker processes, and a real
``dask scheduler`` with ``dask worker`` processes on loopback.  The results must equal the in-process run's bit for
bit (the seeds belong to the chunks, not to the workers)."""

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

from adcbridge.sweep import CHUNK_TRIALS, SweepFile, run_sweep  # noqa: E402

SWEEP = SweepFile(
    designs=[{"name": "boin", "target": 0.25, "n_doses": 4, "n_cohorts": 8},
             {"name": "3+3", "n_doses": 4}],
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


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    import yaml

    from tests.clirun import run
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(SWEEP.model_dump(mode="json")))
    code, _, err = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 2 and "cannot reach the Dask scheduler" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
