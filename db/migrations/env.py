"""Alembic environment: run against the engine flightwatch hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from flightwatch.db.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
