"""The conduct database on SQLite: migrations, users with argon2 hashes, and the hash-chained audit trail that
`adcbridge audit verify` checks (an edited, deleted or out-of-order event is named)."""

from __future__ import annotations

import io
import sqlite3

import pytest

from tests.clirun import run


@pytest.fixture
def db(tmp_path, capsys):
    path = tmp_path / "trial.db"
    url = f"sqlite:///{path}"
    code, out, err = run(capsys, "db", "upgrade", "--db", url)
    assert code == 0 and out == "database at revision 0001\n", err
    return url, path


def _create(capsys, monkeypatch, url, username, role, password):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return run(capsys, "users", "create", "--username", username, "--role", role, "--password-stdin", "--db", url)


def test_upgrade_is_idempotent_and_makes_every_table(db, capsys):
    url, path = db
    assert run(capsys, "db", "upgrade", "--db", url)[0] == 0
    tables = {r[0] for r in sqlite3.connect(path).execute("select name from sqlite_master where type='table'")}
    assert {"users", "trials", "patients", "decisions", "events", "alembic_version"} <= tables


def test_users_are_created_with_argon2_hashes_and_checked(db, capsys, monkeypatch):
    url, path = db
    code, out, _ = _create(capsys, monkeypatch, url, "alice", "admin", "correct horse battery")
    assert code == 0 and out == "created user alice (admin)\n"
    stored = sqlite3.connect(path).execute("select password_hash from users").fetchone()[0]
    assert stored.startswith("$argon2") and "correct horse" not in stored
    from adcbridge.conduct.db import connect, session_factory
    from adcbridge.conduct.models import User
    from adcbridge.conduct.users import verify_password
    with session_factory(connect(url))() as s:
        user = s.query(User).one()
        assert verify_password(user, "correct horse battery") and not verify_password(user, "wrong password!")
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
    url, _ = db
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
    url, path = db
    _events(capsys, monkeypatch, url)
    con = sqlite3.connect(path)
    con.execute(tamper)
    con.commit()
    code, out, _ = run(capsys, "audit", "verify", "--db", url)
    assert code == 1 and needle in out


def test_database_problems_are_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "audit", "verify", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 2 and "has no adcbridge tables: run 'adcbridge db upgrade" in err and err.count("\n") == 1
    code, _, err = run(capsys, "db", "upgrade", "--db", "nosuchdialect://x")
    assert code == 2 and "cannot use the database URL" in err and err.count("\n") == 1
