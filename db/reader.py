"""Read-only SQL for the query commands, without SQLAlchemy on a current SQLite database.

``import sqlalchemy`` alone costs a Raspberry Pi a large part of a query command's
start-up time and memory, so ``history``, ``alerts``, ``flights``, ``watchlist list``
and ``status`` read a current SQLite file through the standard library's ``sqlite3``.
Every other case goes through SQLAlchemy: PostgreSQL, and a database that is new or
behind the migrations (``connect`` creates or upgrades it, as the commands always did).

One SQL text serves both backends: portable SQL with ``:name`` parameters (``sqlite3``
takes them as they are, SQLAlchemy's ``text()`` converts them for psycopg). A list or
tuple parameter becomes an ``IN`` list. Values come back as each driver gives them;
:mod:`db.encoding` decodes them the same way for both.
"""

from __future__ import annotations

import os
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flightwatch.db.encoding import aware_utc, sqlite_time
from flightwatch.db.revisions import DatabaseConfigError, DatabaseError, head_revisions
from flightwatch.decoder.redaction import redact

if TYPE_CHECKING:
    from sqlalchemy import Engine

Row = Sequence[Any]
Params = Mapping[str, Any]

# A plain SQLite file URL, whose path is the text as written (SQLAlchemy would read
# percent escapes and query options: such URLs are left to it).
_PLAIN_SQLITE = re.compile(r"sqlite(?:\+pysqlite)?:///([^?#%]+)")


class SchemaNotCurrent(DatabaseError):
    """The database lacks migrations and the caller must not apply them (``status``)."""


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    plain = _PLAIN_SQLITE.fullmatch(url)
    if plain is not None:
        database: str | None = plain.group(1)
    elif url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
    else:
        return None
    return database if database and database != ":memory:" else None


def sqlite_size(path: str) -> int:
    """Bytes a SQLite database takes on disk: the file and its write-ahead log."""
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))


def _expanded(sql: str, params: Params | None) -> tuple[str, dict[str, Any]]:
    """``:name`` of a list parameter turned into ``:name_0, :name_1, ...`` (or ``NULL``
    for an empty list: ``x IN (NULL)`` matches nothing on both backends)."""
    flat: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if isinstance(value, list | tuple):
            names = [f"{name}_{i}" for i in range(len(value))]
            flat.update(zip(names, value, strict=True))
            listed = ", ".join(f":{n}" for n in names) or "NULL"
            sql = re.sub(rf":{name}\b", listed, sql)
        else:
            flat[name] = value
    return sql, flat


def where(conditions: Sequence[str]) -> str:
    """`` WHERE a AND b`` of SQL conditions; nothing for none."""
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


class Reader(ABC):
    """One database, read with SQL text. ``sqlite`` says how times are bound."""

    sqlite: bool

    def rows(self, sql: str, params: Params | None = None, *, batch: int = 0) -> Iterator[Row]:
        """The rows of one query, streamed (``batch`` rows at a time where it matters)."""
        return self._execute(*_expanded(sql, params), batch)

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        """The first column of the first row (None without rows)."""
        for row in self.rows(sql, params):
            return row[0]
        return None

    def time(self, value: datetime) -> Any:
        """``value`` bound against a :class:`db.types.UTCDateTime` column."""
        value = aware_utc(value)
        return sqlite_time(value) if self.sqlite else value

    def schema_current(self) -> bool:
        """Whether ``alembic_version`` names the newest migrations (False: none applied)."""
        try:
            applied = {row[0] for row in self.rows("SELECT version_num FROM alembic_version")}
        except Exception as exc:  # each driver's own "no such table" error
            if "alembic_version" not in str(exc):
                raise
            return False
        return applied == head_revisions()

    @abstractmethod
    def size(self) -> int | None:
        """Bytes the database takes on disk; None where that is not known."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _execute(self, sql: str, params: dict[str, Any], batch: int) -> Iterator[Row]: ...

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class SqliteReader(Reader):
    """A SQLite file through ``sqlite3``: opened read-write as SQLAlchemy would (a WAL
    reader needs its shared memory), never created, and refusing writes."""

    sqlite = True

    def __init__(self, path: str, *, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        uri = f"{Path(path).absolute().as_uri()}?mode=rw"
        self._conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
        self._conn.execute("PRAGMA query_only=ON")

    def _execute(self, sql: str, params: dict[str, Any], batch: int) -> Iterator[Row]:
        return iter(self._conn.execute(sql, params))  # sqlite3 steps row by row: no batch

    def size(self) -> int | None:
        return sqlite_size(self.path)

    def close(self) -> None:
        self._conn.close()


class EngineReader(Reader):
    """Any database through a SQLAlchemy engine (the daemon's, the web server's, or one
    opened for PostgreSQL); one pooled connection per query."""

    def __init__(self, engine: Engine, *, owned: bool = False) -> None:
        self.engine = engine
        self.sqlite = engine.url.get_backend_name() == "sqlite"
        self._owned = owned

    def _execute(self, sql: str, params: dict[str, Any], batch: int) -> Iterator[Row]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            if batch:
                conn = conn.execution_options(yield_per=batch)
            yield from conn.execute(text(sql), params)

    def size(self) -> int | None:
        from flightwatch.db.engine import database_size

        return database_size(self.engine)

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()


def as_reader(source: Reader | Engine) -> Reader:
    """``source`` itself, or a reader on the engine the daemon, web server and tests hold."""
    return source if isinstance(source, Reader) else EngineReader(source)


def open_reader(url: str, *, busy_timeout_s: float = 30.0, upgrade: bool = True) -> Reader:
    """A reader for ``database.url``; what the query commands open.

    A current SQLite file is read through ``sqlite3`` (no SQLAlchemy). Otherwise
    ``connect`` opens it as every command always did: creating a new database, upgrading
    an old one, and failing with its clear messages. With ``upgrade=False`` nothing is
    created or migrated: :class:`SchemaNotCurrent` instead.
    """
    path = sqlite_file(url)
    if path is not None:
        folder = Path(path).parent
        if not folder.is_dir():
            raise DatabaseConfigError(f"database.url {redact(url)}: folder {folder} "
                                      "does not exist")
        if os.path.isfile(path):
            reader = _sqlite_reader(path, busy_timeout_s, url, upgrade)
            if reader is not None:
                if _current(reader, url, upgrade):
                    return reader
                reader.close()
                if not upgrade:
                    raise SchemaNotCurrent(_BEHIND)
    if upgrade:
        from flightwatch.db.engine import connect

        return EngineReader(connect(url, busy_timeout_s=busy_timeout_s), owned=True)
    from flightwatch.db.engine import open_engine

    engine_reader = EngineReader(open_engine(url, busy_timeout_s=busy_timeout_s), owned=True)
    if not _current(engine_reader, url, upgrade):
        engine_reader.close()
        raise SchemaNotCurrent(_BEHIND)
    return engine_reader


_BEHIND = "the database schema is not current: run `flightwatch db upgrade`"


def _sqlite_reader(path: str, busy_timeout_s: float, url: str, upgrade: bool) -> Reader | None:
    """``sqlite3`` on the file; None when it cannot (``connect`` will say why)."""
    try:
        return SqliteReader(path, busy_timeout_s=busy_timeout_s)
    except sqlite3.Error as exc:
        if upgrade:
            return None
        raise DatabaseError(redact(f"cannot read the database at {url}: {exc}")) from exc


def _current(reader: Reader, url: str, upgrade: bool) -> bool:
    """``reader.schema_current()``; a failure to read means "not current" when
    ``connect`` will open the database next and report it (a file that is no database),
    else a clear error (a database locked past the busy timeout)."""
    try:
        return reader.schema_current()
    except Exception as exc:
        busy = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
        if upgrade and not busy:  # connect() would wait out the busy timeout once more
            return False
        raise DatabaseError(redact(f"cannot {'open or upgrade' if upgrade else 'read'} the "
                                   f"database at {url}: {exc}")) from exc
