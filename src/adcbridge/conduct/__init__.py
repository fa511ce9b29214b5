"""Trial conduct: the database of a live dose-escalation trial (users and roles, trials with a locked design,
patients, decisions that replay) with a hash-chained, append-only audit trail.

This is the data layer of the conduct app: SQLAlchemy 2 models (:mod:`.models`), Alembic migrations from the first
table (:mod:`.db`, ``adcbridge db upgrade``), users with argon2 password hashes (:mod:`.users`, ``adcbridge users
create``) and the audit chain (:mod:`.audit`, ``adcbridge audit verify``).  Names are imported on first use."""

from adcbridge._lazy import lazy_exports

_EXPORTS = {"connect": ".db", "upgrade": ".db", "default_url": ".db", "ROLES": ".users", "create_user": ".users",
            "verify_password": ".users", "append_event": ".audit", "verify_chain": ".audit"}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
