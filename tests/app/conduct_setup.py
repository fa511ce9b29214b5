"""A fresh, migrated conduct database with one user per role, for the conduct tests."""

from __future__ import annotations

from adcbridge.conduct.db import connect, session_factory, upgrade
from adcbridge.conduct.users import create_user

PASSWORD = "a long password 123"
ALL_ROLES = ("admin", "statistician", "investigator", "safety-reviewer", "viewer")


def new_database(path, roles=ALL_ROLES) -> str:
    """The URL of a new SQLite database at ``path`` with a user per role (username: the role, '-' as '_')."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = connect(url)
    with session_factory(engine).begin() as s:
        for role in roles:
            create_user(s, role.replace("-", "_"), role, PASSWORD)
    engine.dispose()
    return url
