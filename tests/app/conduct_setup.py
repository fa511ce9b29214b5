"""A fresh, migrated conduct database with one user per role, for the conduct tests (the fresh empty databases,
SQLite and PostgreSQL, are the ``conduct_url`` fixture of ``tests/app/conftest.py``)."""

from __future__ import annotations

from adcbridge.conduct.db import connect, session_factory, upgrade
from adcbridge.conduct.users import create_user

PASSWORD = "a long password 123"
ALL_ROLES = ("admin", "statistician", "investigator", "safety-reviewer", "viewer")


def new_database(url, roles=ALL_ROLES) -> str:
    """Migrate the empty database at ``url`` (a URL, or a path for a SQLite file) and add a user per role
    (username: the role, '-' as '_'); returns the URL."""
    url = str(url) if "://" in str(url) else f"sqlite:///{url}"
    upgrade(url)
    engine = connect(url)
    with session_factory(engine).begin() as s:
        for role in roles:
            create_user(s, role.replace("-", "_"), role, PASSWORD)
    engine.dispose()
    return url
