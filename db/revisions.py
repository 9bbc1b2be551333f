"""The schema's revisions as the migration files name them, and the database errors.

Kept free of SQLAlchemy and Alembic: the query commands check a database's schema
with this before deciding whether they need either (see :mod:`db.reader`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)


class DatabaseError(Exception):
    """The database cannot be opened or upgraded; the message says what to do."""


class DatabaseConfigError(DatabaseError):
    """``database.url`` itself is wrong (not a URL, a folder that does not exist)."""


@functools.cache
def head_revisions() -> frozenset[str]:
    """The newest revision(s), read from the migration files without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        down = _DOWN_REVISION.search(text)
        if revision is None or down is None:
            raise DatabaseError(f"{path} is not a migration: no revision or down_revision")
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return frozenset(revisions - parents)
