"""Users and roles of the conduct app; passwords hashed with argon2 (argon2-cffi), never stored or shown."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import append_event
from .models import User

__all__ = ["ROLES", "create_user", "verify_password", "MIN_PASSWORD"]

#: role -> what it may do
ROLES = {"admin": "manages users", "statistician": "creates and activates trials",
         "investigator": "enrols patients and enters outcomes",
         "safety-reviewer": "confirms or rejects each escalation decision; reads data", "viewer": "reads data"}
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{1,63}$")


def _hasher():
    from argon2 import PasswordHasher
    return PasswordHasher()


def create_user(session: Session, username: str, role: str, password: str, *, actor: str = "system") -> User:
    """Add a user (an audit event records it, without the password); refuses an unknown role, a bad or taken
    username and a password shorter than :data:`MIN_PASSWORD` characters."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; the roles are {', '.join(ROLES)}")
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise ValueError(f"the username must start with a letter and hold 2-64 letters, digits, '.', '_' or '-'; "
                         f"got {username!r}")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none() is not None:
        raise ValueError(f"the username {username!r} is taken")
    user = User(username=username, role=role, password_hash=_hasher().hash(password), active=True)
    session.add(user)
    session.flush()
    append_event(session, actor=actor, action="create_user", entity="user", entity_id=user.id,
                 after={"username": username, "role": role})
    return user


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (argon2 verification; False for a wrong one)."""
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
