"""``adcbridge db``, ``adcbridge users``, ``adcbridge audit``: the conduct database from the command line (thin
layer over :mod:`adcbridge.conduct`)."""

from __future__ import annotations

import sys
from typing import Optional

import typer

DB = typer.Option(None, "--db", help="Database URL (default: sqlite:///adcbridge.db in the working folder; "
                                     "PostgreSQL: postgresql+psycopg://user@host/db).")

db_app = typer.Typer(help="The conduct database: migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the conduct app (no default password: make the first admin here).",
                        no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verify the hash chain.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: Optional[str] = DB):
    """Create or migrate the database to the current schema (Alembic migrations)."""
    from adcbridge.conduct.db import upgrade
    revision = upgrade(db)
    typer.echo(f"database at revision {revision}")


@users_app.command("create")
def users_create(username: str = typer.Option(..., "--username", help="Login name."),
                 role: str = typer.Option(..., "--role", help="admin, statistician, investigator, safety-reviewer "
                                                              "or viewer."),
                 password_stdin: bool = typer.Option(False, "--password-stdin",
                                                     help="Read the password from standard input (never from an "
                                                          "argument, which would show in the process list)."),
                 db: Optional[str] = DB):
    """Create a user (the password is read from standard input and stored only as an argon2 hash)."""
    from adcbridge.conduct.db import connect, session_factory
    from adcbridge.conduct.users import create_user
    if not password_stdin:
        raise typer.BadParameter("give the password on standard input with --password-stdin",
                                 param_hint="'--password-stdin'")
    password = sys.stdin.readline().rstrip("\r\n")
    engine = connect(db)
    try:
        with session_factory(engine).begin() as session:
            user = create_user(session, username, role, password)
            typer.echo(f"created user {user.username} ({user.role})")
    finally:
        engine.dispose()


@audit_app.command("verify")
def audit_verify(db: Optional[str] = DB):
    """Recompute the audit trail's hash chain: exit 0 when it is whole, 1 naming the first broken event."""
    from adcbridge.conduct.audit import verify_chain
    from adcbridge.conduct.db import connect, session_factory
    engine = connect(db)
    try:
        with session_factory(engine)() as session:
            report = verify_chain(session)
    finally:
        engine.dispose()
    if report.ok:
        typer.echo(f"audit trail whole: {report.events} events")
        return
    typer.echo(f"audit trail broken at event {report.broken_id} (event {report.events} in order): {report.reason}")
    raise typer.Exit(1)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_cmd(db: Optional[str] = DB,
              host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
              port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
              secure_cookies: bool = typer.Option(False, "--secure-cookies",
                                                  help="Behind a TLS-terminating reverse proxy: required to listen "
                                                       "on a non-loopback address.")):
    """Start the trial-conduct app: pages at /, the JSON API at /api (OpenAPI at /docs); migrates an empty database."""
    if host not in LOOPBACK and not secure_cookies:
        raise typer.BadParameter(f"{host} is not a loopback address: serve behind a TLS-terminating reverse proxy "
                                 f"and give --secure-cookies", param_hint="'--host'")
    import uvicorn

    from adcbridge.conduct.api import create_app
    from adcbridge.conduct.db import upgrade
    upgrade(db)
    uvicorn.run(create_app(db, secure_cookies=secure_cookies), host=host, port=port, log_level="info")


def backup_cmd(out: str = typer.Option(..., "--out", help="The backup file to write (must not exist)."),
               db: Optional[str] = DB):
    """Write a consistent copy of the conduct database (SQLite online backup; pg_dump for PostgreSQL)."""
    from adcbridge.conduct.db import default_url
    from adcbridge.conduct.exports import backup
    path = backup(db or default_url(), out)
    typer.echo(f"wrote {path}")
