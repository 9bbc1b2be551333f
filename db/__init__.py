"""Storage: the schema, migrations, the batched writer and the queries."""

from flightwatch.db.engine import DatabaseError, close, connect, open_engine, upgrade
from flightwatch.db.store import Store

__all__ = ["DatabaseError", "Store", "close", "connect", "open_engine", "upgrade"]
