"""Fixtures of the conduct tests: a fresh empty database per test on SQLite and on PostgreSQL (``conduct_url``),
and argon2 at its lowest cost (the hashes are real argon2 hashes; only the work factor is small).

PostgreSQL: the server named by ``ADCBRIDGE_TEST_POSTGRES_URL`` (``.ci/run`` installs Debian's postgresql, starts a
server on loopback and sets it); each test gets a schema of its own on it (``search_path`` in the URL), dropped
after the test.  Without the variable the PostgreSQL cases are skipped, except under ``ADCBRIDGE_REQUIRE_POSTGRES=1``
(as in CI), where a missing or unreachable server fails them."""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_ENV, REQUIRE_ENV = "ADCBRIDGE_TEST_POSTGRES_URL", "ADCBRIDGE_REQUIRE_POSTGRES"
_server: dict = {}


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch):
    from argon2 import PasswordHasher

    import adcbridge.conduct.users as users
    monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def postgres_engine():
    """An engine on the test server (one per URL, kept), or skip -- fail under ADCBRIDGE_REQUIRE_POSTGRES=1."""
    required = os.environ.get(REQUIRE_ENV) == "1"
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run starts one)"
    else:
        if url not in _server:
            _server[url] = _reach(url)
        engine, error = _server[url]
        if engine is not None:
            return engine
        message = f"the PostgreSQL server at {POSTGRES_ENV} does not answer: {error}"
    if required:
        pytest.fail(f"{REQUIRE_ENV}=1: {message}")
    pytest.skip(message)


def _reach(url: str):
    """(engine, None) when the server at ``url`` answers, else (None, the first line of the error)."""
    from sqlalchemy import create_engine
    engine = create_engine(url, pool_size=1, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return engine, None
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        engine.dispose()
        return None, str(exc).splitlines()[0]


def _new_schema():
    """A new schema on the PostgreSQL test server, its URL (``search_path``) yielded, dropped afterwards."""
    engine = postgres_engine()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def conduct_url(request, tmp_path):
    """The URL of a new, empty database: a SQLite file, or a new schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'conduct.db'}"
    else:
        yield from _new_schema()


@pytest.fixture
def client(conduct_url):
    """A FastAPI TestClient of the conduct app on a new database (its seeded users; the password PASSWORD)."""
    pytest.importorskip("httpx")                  # TestClient needs it (the test extra)
    from fastapi.testclient import TestClient

    from adcbridge.conduct.api import create_app
    from tests.app.conduct_setup import new_database
    app = create_app(new_database(conduct_url), secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


@pytest.fixture
def postgres_url():
    """The URL of a new, empty schema on the PostgreSQL test server (for what only PostgreSQL has)."""
    yield from _new_schema()


def pytest_sessionfinish(session, exitstatus):
    for engine, _ in _server.values():
        if engine is not None:
            engine.dispose()
