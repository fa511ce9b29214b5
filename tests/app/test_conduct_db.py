"""The conduct database on SQLite and PostgreSQL: migrations, users with argon2 hashes, the hash-chained audit
trail that `adcbridge audit verify` checks (an edited, deleted or out-of-order event is named), the PostgreSQL
trigger that refuses UPDATE and DELETE on the events, and `adcbridge backup` (pg_dump on PostgreSQL)."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from sqlalchemy import inspect

from adcbridge.conduct.db import connect
from tests.clirun import run


@pytest.fixture
def db(conduct_url, capsys):
    code, out, err = run(capsys, "db", "upgrade", "--db", conduct_url)
    assert code == 0 and out == "database at revision 0002\n", err
    return conduct_url


def _sql(url, *statements):
    """Run SQL statements in one transaction; the rows of the last."""
    engine = connect(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                result = conn.exec_driver_sql(statement)
            return result.fetchall() if result.returns_rows else None
    finally:
        engine.dispose()


def _create(capsys, monkeypatch, url, username, role, password):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return run(capsys, "users", "create", "--username", username, "--role", role, "--password-stdin", "--db", url)


def test_upgrade_is_idempotent_and_makes_every_table(db, capsys):
    url = db
    assert run(capsys, "db", "upgrade", "--db", url)[0] == 0
    engine = connect(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"users", "trials", "patients", "decisions", "events", "alembic_version"} <= tables
        indexes = inspect(engine).get_indexes("decisions")
        assert any(ix["name"] == "uq_decision_history" and ix["unique"] for ix in indexes)
    finally:
        engine.dispose()


def test_users_are_created_with_argon2_hashes_and_checked(db, capsys, monkeypatch):
    url = db
    code, out, _ = _create(capsys, monkeypatch, url, "alice", "admin", "correct horse battery")
    assert code == 0 and out == "created user alice (admin)\n"
    stored = _sql(url, "select password_hash from users")[0][0]
    assert stored.startswith("$argon2") and "correct horse" not in stored
    from adcbridge.conduct.db import session_factory
    from adcbridge.conduct.models import User
    from adcbridge.conduct.users import verify_password
    engine = connect(url)
    with session_factory(engine)() as s:
        user = s.query(User).one()
        assert verify_password(user, "correct horse battery") and not verify_password(user, "wrong password!")
    engine.dispose()
    for username, role, password, needle in [
        ("alice", "viewer", "another good one", "the username 'alice' is taken"),
        ("bob", "admin", "short", "at least 12 characters"),
        ("carol", "superuser", "long enough password", "unknown role 'superuser'; the roles are admin, "
                                                       "statistician, investigator, safety-reviewer, viewer"),
        ("1x", "viewer", "long enough password", "the username must start with a letter")]:
        code, out, err = _create(capsys, monkeypatch, url, username, role, password)
        assert code == 2 and needle in err and err.count("\n") == 1 and password not in err
    code, _, err = run(capsys, "users", "create", "--username", "dave", "--role", "viewer", "--db", url)
    assert code == 2 and "--password-stdin" in err


def _events(capsys, monkeypatch, url, n=3):
    for k in range(n):
        assert _create(capsys, monkeypatch, url, f"user{k}", "viewer", "a long password here")[0] == 0


def test_a_whole_chain_verifies(db, capsys, monkeypatch):
    url = db
    _events(capsys, monkeypatch, url)
    code, out, _ = run(capsys, "audit", "verify", "--db", url)
    assert code == 0 and out == "audit trail whole: 3 events\n"


@pytest.mark.parametrize("tamper,needle", [
    ("update events set after = replace(after, 'viewer', 'admin') where id = 2",
     "broken at event 2 (event 2 in order): its content does not match its hash: the event was edited"),
    ("delete from events where id = 2",
     "broken at event 3 (event 2 in order): its previous hash does not match the event before it"),
    ("update events set id = 10 where id = 1",
     "broken at event 2 (event 1 in order): its previous hash does not match"),
])
def test_tampering_is_caught_and_named(db, capsys, monkeypatch, tamper, needle):
    """Caught on PostgreSQL too, where only the tables' owner can get past the trigger (by disabling it)."""
    url = db
    _events(capsys, monkeypatch, url)
    disable = ["ALTER TABLE events DISABLE TRIGGER events_append_only"] if url.startswith("postgresql") else []
    _sql(url, *disable, tamper)
    code, out, _ = run(capsys, "audit", "verify", "--db", url)
    assert code == 1 and needle in out


def test_database_problems_are_one_line(tmp_path, capsys):
    (tmp_path / "empty.db").touch()                 # a file without tables (a missing file: test_cli_messages)
    code, _, err = run(capsys, "audit", "verify", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2 and "has no adcbridge tables: run 'adcbridge db upgrade" in err and err.count("\n") == 1
    code, _, err = run(capsys, "db", "upgrade", "--db", "nosuchdialect://x")
    assert code == 2 and "cannot use the database URL" in err and err.count("\n") == 1


def test_postgresql_refuses_update_and_delete_on_the_events(postgres_url, capsys, monkeypatch):
    from sqlalchemy.exc import DBAPIError
    url = postgres_url
    assert run(capsys, "db", "upgrade", "--db", url)[0] == 0
    _events(capsys, monkeypatch, url, n=2)
    for statement, op in (("update events set reason = 'edited' where id = 1", "UPDATE"),
                          ("delete from events where id = 2", "DELETE"), ("delete from events", "DELETE")):
        with pytest.raises(DBAPIError, match=f"the audit trail is append-only: {op} on events is refused"):
            _sql(url, statement)
    assert _sql(url, "select count(*) from events") == [(2,)]
    assert run(capsys, "audit", "verify", "--db", url)[:2] == (0, "audit trail whole: 2 events\n")


def test_backup_on_postgresql_with_pg_dump(postgres_url, capsys, monkeypatch, tmp_path):
    """SQLite's backup: test_conduct_api."""
    url = postgres_url
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump is not installed (Debian: postgresql-client)")
    assert run(capsys, "db", "upgrade", "--db", url)[0] == 0
    _events(capsys, monkeypatch, url, n=1)
    code, out, err = run(capsys, "backup", "--db", url, "--out", tmp_path / "copy.dump")
    assert code == 0 and out == f"wrote {tmp_path / 'copy.dump'}\n", err
    assert (tmp_path / "copy.dump").read_bytes()[:5] == b"PGDMP"           # pg_dump's custom format
    listing = subprocess.run(["pg_restore", "--list", str(tmp_path / "copy.dump")], capture_output=True, text=True,
                             check=True).stdout
    schema = url.rsplit("search_path%3D", 1)[-1] if "search_path%3D" in url else url.rsplit("search_path=", 1)[-1]
    for table in ("events", "users", "trials", "patients", "decisions"):
        assert f"TABLE {schema} {table} " in listing or f"TABLE DATA {schema} {table} " in listing, table
    assert "TRIGGER" in listing and "events_append_only" in listing
    code, _, err = run(capsys, "backup", "--db", url, "--out", tmp_path / "copy.dump")
    assert code == 2 and "exists" in err
    wrong = url.replace("@", "wrong@", 1)                                   # a wrong password
    code, _, err = run(capsys, "backup", "--db", wrong, "--out", tmp_path / "bad.dump")
    assert code == 2 and "pg_dump failed" in err and "password" in err and err.count("\n") == 1
    assert "wrong@" not in err and not list(tmp_path.glob("*bad.dump*"))


def test_db_add_trial_adds_the_bundled_example_trial(db, capsys, monkeypatch):
    import json
    url = db
    for username, role in (("stat", "statistician"), ("vera", "viewer")):
        assert _create(capsys, monkeypatch, url, username, role, "a long password here")[0] == 0
    code, out, err = run(capsys, "db", "add-trial", "--by", "stat", "--db", url)
    assert code == 0 and out == "added trial 1: JSKN003-like phase I dose escalation (example) (boin, draft; a " \
                                "statistician activates it)\n", err
    (name, design, spec, status), = _sql(url, "select name, design_name, design_spec, status from trials")
    spec = json.loads(spec)
    assert (design, status, spec["target"], spec["cohort_size"], spec["n_cohorts"], spec["dose_unit"]) == \
        ("boin", "draft", 0.3, 3, 10, "mg/kg")
    assert spec["dose_levels"] == [1.0, 2.1, 4.2, 5.2, 6.3, 7.3, 8.4]
    code, out, _ = run(capsys, "db", "add-trial", "--by", "stat", "--design", "crm", "--name", "JSKN003 CRM",
                       "--db", url)
    assert code == 0 and "(crm, draft" in out
    for args, needle in ((["--by", "stat"], "a trial named 'JSKN003-like phase I dose escalation (example)' exists"),
                         (["--by", "vera"], "vera (viewer) may not do this"),
                         (["--by", "nobody"], "no user 'nobody' in the database")):
        code, _, err = run(capsys, "db", "add-trial", *args, "--db", url)
        assert code == 2 and needle in err and err.count("\n") == 1, err
    assert run(capsys, "audit", "verify", "--db", url)[0] == 0


def test_the_database_url_from_the_environment_without_its_password(postgres_url, capsys, monkeypatch, tmp_path):
    """ADCBRIDGE_DB names the database, and the password can stay out of the URL (and so out of the process list):
    libpq's PGPASSWORD (or ~/.pgpass), for the app and for pg_dump alike."""
    from sqlalchemy.engine import make_url
    url = make_url(postgres_url)
    monkeypatch.setenv("ADCBRIDGE_DB", url.set(password=None).render_as_string(hide_password=False))
    monkeypatch.setenv("PGPASSWORD", url.password)
    assert run(capsys, "db", "upgrade")[:2] == (0, "database at revision 0002\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert run(capsys, "users", "create", "--username", "alice", "--role", "admin", "--password-stdin")[0] == 0
    assert run(capsys, "audit", "verify")[:2] == (0, "audit trail whole: 1 events\n")
    if shutil.which("pg_dump"):
        assert run(capsys, "backup", "--out", tmp_path / "env.dump")[0] == 0


def test_the_postgresql_cases_skip_without_a_server_and_fail_when_it_is_required(monkeypatch):
    from tests.app.conftest import postgres_engine
    for env, outcome in (({}, pytest.skip.Exception), ({"ADCBRIDGE_REQUIRE_POSTGRES": "1"}, pytest.fail.Exception)):
        monkeypatch.delenv("ADCBRIDGE_REQUIRE_POSTGRES", raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("ADCBRIDGE_TEST_POSTGRES_URL", raising=False)
        with pytest.raises(outcome, match="no PostgreSQL server"):
            postgres_engine()
        monkeypatch.setenv("ADCBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
        with pytest.raises(outcome, match="does not answer"):
            postgres_engine()
