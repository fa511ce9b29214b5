"""The conduct database (SQLAlchemy 2 declarative models).  The schema itself is made by the Alembic migrations
(:mod:`adcbridge.conduct.migrations`), never by ``create_all``: the migrations are the one truth of the schema."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "User", "Trial", "Patient", "Decision", "Event"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=_now)


class Trial(Base):
    __tablename__ = "trials"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    design_name: Mapped[str] = mapped_column(String(32), nullable=False)
    design_spec: Mapped[str] = mapped_column(Text, nullable=False)          # canonical JSON of the spec
    design_hash: Mapped[str | None] = mapped_column(String(64))             # set (locked) at activation
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)   # optimistic locking
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=_now)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("trial_id", "patient", name="uq_patient_in_trial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), nullable=False, index=True)
    patient: Mapped[str] = mapped_column(String(64), nullable=False)        # pseudonymous id
    cohort: Mapped[int] = mapped_column(Integer, nullable=False)
    dose: Mapped[int] = mapped_column(Integer, nullable=False)              # 1-based level
    dlt: Mapped[bool | None] = mapped_column(Boolean)                       # None = pending
    dosed_on: Mapped[dt.date | None] = mapped_column(Date)
    assessed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=_now)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("uq_decision_history", "trial_id", "history_hash", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), nullable=False, index=True)
    record: Mapped[str] = mapped_column(Text, nullable=False)               # the NextDose record (JSON)
    design_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    history_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    library_version: Mapped[str] = mapped_column(String(32), nullable=False)
    approved: Mapped[bool | None] = mapped_column(Boolean)                  # None until a reviewer decides
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=_now)


class Event(Base):
    """One append-only audit event; ``hash`` = SHA-256 of the event's canonical JSON and ``prev_hash``."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32), nullable=False)             # ISO 8601 UTC, as hashed
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)                        # canonical JSON
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
