"""Alembic environment of the conduct database: the engine comes from adcbridge.conduct.db (no alembic.ini)."""

from alembic import context

from adcbridge.conduct.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
