"""Storage: the schema, migrations, the batched writer and the queries.

The names below load on first use: importing :mod:`flightwatch.db.reader` (the query
commands' path) must not import SQLAlchemy through this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.db.engine import close, connect, open_engine, upgrade
    from flightwatch.db.revisions import DatabaseError
    from flightwatch.db.store import Store

_HOMES = {
    "DatabaseError": "flightwatch.db.revisions", "Store": "flightwatch.db.store",
    "close": "flightwatch.db.engine", "connect": "flightwatch.db.engine",
    "open_engine": "flightwatch.db.engine", "upgrade": "flightwatch.db.engine",
}

__all__ = ["DatabaseError", "Store", "close", "connect", "open_engine", "upgrade"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
