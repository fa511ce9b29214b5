"""Connecting to the conduct database and migrating it (Alembic, run from the package: no alembic.ini needed).

The default database is a SQLite file ``adcbridge.db`` in the working folder; PostgreSQL by URL
(``postgresql+psycopg://user@host/db``).  ``upgrade(url)`` applies every migration not yet applied; the schema is
made by the migrations only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["default_url", "connect", "upgrade", "session_factory", "current_revision"]

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``sqlite:///adcbridge.db`` in the working folder."""
    return f"sqlite:///{Path.cwd() / 'adcbridge.db'}"


SQLITE_BUSY_TIMEOUT = 30.0     # seconds a SQLite transaction waits for another one's lock


def _sqlite_connect(dbapi_connection, _record) -> None:
    """Foreign keys on, write-ahead logging (one sync per commit; readers of other tools never block the app), and
    the driver's own transaction handling off: :func:`_sqlite_begin` starts every transaction itself."""
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    """``BEGIN IMMEDIATE``: a SQLite transaction takes the database's write lock when it starts, so transactions
    run one at a time and none acts on a state that another changes before it commits (what the trial row lock,
    ``SELECT ... FOR UPDATE``, does on PostgreSQL)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def connect(url: str | None = None, *, existing: bool = False) -> Engine:
    """An engine for ``url`` (default :func:`default_url`).  SQLite enforces foreign keys and serialises
    transactions (``BEGIN IMMEDIATE``, waiting up to :data:`SQLITE_BUSY_TIMEOUT` seconds for the lock).  With
    ``existing``, a SQLite file that does not exist is refused (connecting would create an empty one): the commands
    that read a database (``audit verify``, ``users create``, ``db add-trial``) do not make one; ``db upgrade`` does."""
    url = url or default_url()
    try:
        sqlite = make_url(url).get_backend_name() == "sqlite"
        path = make_url(url).database if sqlite else None
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT} if sqlite else {},
                               **({} if sqlite else {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}))
    except Exception as exc:  # noqa: BLE001 - an unparsable URL or a missing driver: one line naming the URL
        raise ValueError(f"cannot use the database URL {_safe(url)!r}: {str(exc).splitlines()[0]}") from None
    if existing and path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
        engine.dispose()
        raise ValueError(f"no database file {path}: make it with 'adcbridge db upgrade --db {_safe(url)}'")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _safe(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<unparsable URL>"


def _alembic_config(engine: Engine):
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(url: str | None = None) -> str:
    """Apply every migration not yet applied to the database at ``url``; returns the revision now current."""
    from alembic import command
    engine = connect(url)
    try:
        command.upgrade(_alembic_config(engine), "head")
        return current_revision(engine)
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The migration revision of the database (None when it has never been migrated)."""
    from alembic.runtime.migration import MigrationContext
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on a migrated database; an unmigrated one is refused with the command that migrates it."""
    if "events" not in inspect(engine).get_table_names():
        raise ValueError(f"the database {_safe(str(engine.url))} has no adcbridge tables: run 'adcbridge db upgrade "
                         f"--db URL' first")
    return sessionmaker(engine, expire_on_commit=False)
