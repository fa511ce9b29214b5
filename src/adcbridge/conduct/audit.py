"""The audit trail: append-only events, each carrying the hash of the one before.

An event is ``(at, actor, action, entity, entity_id, before, after, reason)``; its ``hash`` is the SHA-256 of the
canonical JSON of those fields together with ``prev_hash``, the hash of the previous event (64 zeros for the
first).  Corrections are new events, never edits.  :func:`verify_chain` recomputes the chain in id order and
names the first event that was edited, deleted (a gap in the chain) or inserted out of order."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import Event

__all__ = ["GENESIS", "append_event", "verify_chain", "ChainReport", "event_hash"]

GENESIS = "0" * 64
#: the PostgreSQL advisory lock key of the audit chain (any fixed 64-bit number; "adcbridg" in ASCII)
CHAIN_LOCK = 0x6164636272696467


def _canonical(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(fields: dict, prev_hash: str) -> str:
    """SHA-256 of the event's fields and the previous hash (canonical JSON)."""
    body = {k: fields[k] for k in ("at", "actor", "action", "entity", "entity_id", "before", "after", "reason")}
    text = json.dumps({"event": body, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append_event(session: Session, *, actor: str, action: str, entity: str, entity_id=None, before=None,
                 after=None, reason: str | None = None, at: dt.datetime | None = None) -> Event:
    """Add one event to the chain in ``session`` (committed with the change it records, in the same
    transaction).  On PostgreSQL the transaction first takes the audit chain's lock (an advisory lock held until it
    commits), so two transactions never chain their events to the same previous one; SQLite transactions already
    run one at a time (``BEGIN IMMEDIATE``, :mod:`.db`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    last = session.execute(select(Event).order_by(Event.id.desc()).limit(1)).scalar_one_or_none()
    prev = last.hash if last is not None else GENESIS
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    fields = {"at": when.isoformat(), "actor": actor, "action": action, "entity": entity,
              "entity_id": None if entity_id is None else str(entity_id), "before": _canonical(before),
              "after": _canonical(after), "reason": reason}
    event = Event(**fields, prev_hash=prev, hash=event_hash(fields, prev))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify_chain`: ``ok``, the number of events, and for a broken chain the id of the first
    broken event and why."""

    ok: bool
    events: int
    broken_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Recompute the hash chain in id order (see the module docstring)."""
    prev = GENESIS
    n = 0
    for e in session.execute(select(Event).order_by(Event.id)).scalars():
        n += 1
        fields = {k: getattr(e, k) for k in ("at", "actor", "action", "entity", "entity_id", "before", "after",
                                             "reason")}
        if e.prev_hash != prev:
            why = ("an event before it was deleted or it was inserted out of order" if e.prev_hash != GENESIS or n > 1
                   else "it does not start the chain")
            return ChainReport(False, n, e.id, f"its previous hash does not match the event before it: {why}")
        if event_hash(fields, e.prev_hash) != e.hash:
            return ChainReport(False, n, e.id, "its content does not match its hash: the event was edited")
        prev = e.hash
    return ChainReport(True, n)
