"""Alembic environment: run against the engine flightwatch hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from flightwatch.db.models import Base

config = context.config
engine = config.attributes["engine"]


def _foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite only, and outside a transaction (the pragma is a no-op inside one)."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop the old one, rename). With
        # foreign keys on, dropping the old alerts table would cascade to the outbox:
        # every pending notification, and the record of those sent, would be lost.
        _foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.commit()
            if broken:
                raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)
