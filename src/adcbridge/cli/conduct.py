"""``adcbridge db``, ``adcbridge users``, ``adcbridge audit``: the conduct database from the command line (thin
layer over :mod:`adcbridge.conduct`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

DB = typer.Option(None, "--db", envvar="ADCBRIDGE_DB",
                  help="Database URL (default: $ADCBRIDGE_DB, else sqlite:///adcbridge.db in the working folder; "
                       "PostgreSQL: postgresql+psycopg://user@host/db, the password from ~/.pgpass or PGPASSWORD).")

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


@db_app.command("add-trial")
def db_add_trial(spec: Optional[Path] = typer.Argument(None, help="Trial YAML: name, design, target, dose_levels, "
                                                                  "dose_unit, cohort_size, n_cohorts (default: the "
                                                                  "bundled JSKN003-like example trial)."),
                 by: str = typer.Option(..., "--by", help="The statistician who creates the trial (a username)."),
                 design: Optional[str] = typer.Option(None, "--design", help="A registered design other than the "
                                                                             "file's (e.g. crm)."),
                 name: Optional[str] = typer.Option(None, "--name", help="The trial's name (default: the file's)."),
                 db: Optional[str] = DB):
    """Add a draft trial from a trial YAML, created by a statistician (who activates it in the app)."""
    import json
    from importlib import resources

    from sqlalchemy import select

    from adcbridge.conduct import services as sv
    from adcbridge.conduct.db import connect, session_factory
    from adcbridge.conduct.models import User
    from adcbridge.io import load_trial_spec
    if spec is None:
        with resources.as_file(resources.files("adcbridge.examples").joinpath("jskn003_trial.yaml")) as path:
            trial_spec = load_trial_spec(path)
    else:
        trial_spec = load_trial_spec(spec)
    kind = design or trial_spec.design
    built = trial_spec.build_design(kind)
    engine = connect(db, existing=True)
    try:
        with session_factory(engine).begin() as s:
            user = s.execute(select(User).where(User.username == by)).scalar_one_or_none()
            if user is None:
                raise typer.BadParameter(f"no user {by!r} in the database", param_hint="'--by'")
            try:
                trial = sv.create_trial(s, user, name or trial_spec.name, kind, json.loads(built.model_dump_json()))
            except sv.PermissionDenied as exc:
                raise typer.BadParameter(str(exc), param_hint="'--by'") from None
            typer.echo(f"added trial {trial.id}: {trial.name} ({kind}, draft; a statistician activates it)")
    finally:
        engine.dispose()


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
    engine = connect(db, existing=True)
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
    engine = connect(db, existing=True)
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:                      # a host name: not known to be loopback
        return False


def serve_cmd(db: Optional[str] = DB,
              host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
              port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
              secure_cookies: bool = typer.Option(False, "--secure-cookies",
                                                  help="Behind a TLS-terminating reverse proxy: required to listen "
                                                       "on a non-loopback address.")):
    """Start the trial-conduct app: pages at /, the JSON API at /api (OpenAPI at /docs); migrates an empty database."""
    if not is_loopback(host) and not secure_cookies:
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
