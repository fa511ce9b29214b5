"""A small version of the load test (benchmarks/bench_conduct_load.py) in the suite, on SQLite and PostgreSQL: 200
requests from 50 parallel clients against the app served by uvicorn on loopback; every request answered with an
expected status, no patient lost or duplicated, cohorts whole, one decision per history, the audit chain whole.
A correctness test: no timing is asserted."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx")

from benchmarks.bench_conduct_load import add_users, check, new_trials, run_load, tokens  # noqa: E402
from tests.app.conduct_server import serve  # noqa: E402
from tests.app.conduct_setup import PASSWORD  # noqa: E402


def test_200_requests_from_50_clients(conduct_url):
    add_users(conduct_url, PASSWORD)
    with serve(conduct_url) as base:
        headers = tokens(base, PASSWORD)
        trials = new_trials(base, headers["statistician"], 5)
        load = run_load(base, headers, trials, clients=50, per_client=4)
    assert check(conduct_url, load, expected=200) == []
    kinds = {r[0] for r in load.requests}
    assert kinds == {"enrol", "enrol-same", "decision"}
