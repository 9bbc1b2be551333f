"""Opening the database: engine with SQLite pragmas, and schema upgrades through Alembic.

Alembic (a tenth of a second and several MB to import) loads only when the schema is
behind: every command checks the applied revision with one query first.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from flightwatch.db.reader import sqlite_size
from flightwatch.db.revisions import (
    MIGRATIONS,
    DatabaseConfigError,
    DatabaseError,
    head_revisions,
)
from flightwatch.decoder.redaction import redact

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

CLOSE_WAIT_MS = 1000


def open_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL, NORMAL sync and a busy timeout.

    WAL lets ``flightwatch history`` read while the daemon writes; the busy
    timeout makes a writer wait for a reader's lock instead of failing.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"database.url is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "postgresql":
        # Fail in seconds, not after the TCP timeout, when the server is away; a lock held
        # by another session makes a write fail (and be retried) instead of hang.
        options = " ".join(filter(None, (
            str(parsed.query.get("options", "")), f"-c lock_timeout={int(busy_timeout_s * 1000)}",
        )))
        return create_engine(url, pool_pre_ping=True,
                             connect_args={"connect_timeout": 10, "options": options})
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise DatabaseConfigError(
                f"database.url {redact(url)}: folder {folder} does not exist"
            )
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def set_busy_timeout(engine: Engine, seconds: float) -> None:
    """From now on, a SQLite write waits at most ``seconds`` for another's lock.

    For a daemon that stops: a database locked by another process must cost it a
    moment per write, not the minutes its usual timeout allows in all, or the stop
    overruns what it promises. Each connection takes the new value when checked out.
    """
    if engine.url.get_backend_name() != "sqlite":
        return
    milliseconds = int(seconds * 1000)

    def shorter(dbapi_conn: sqlite3.Connection, _record: Any, _proxy: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={milliseconds}")

    event.listen(engine, "checkout", shorter)


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # auto_vacuum only takes effect on a new database; it lets retention give space back.
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Debian builds SQLite zeroing every freed page: each log block merged and each hour
    # thinned would be written once more to free it. FAST zeroes deleted content only in
    # pages written anyway (positions are not secrets from the device's owner).
    cursor.execute("PRAGMA secure_delete=FAST")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def applied_revisions(engine: Engine) -> frozenset[str]:
    """What ``alembic_version`` says; empty for a new database."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError as exc:
        if "alembic_version" not in str(exc):  # not "no such table": a real failure
            raise
        return frozenset()
    return frozenset(row[0] for row in rows)


def schema_is_current(engine: Engine) -> bool:
    """One query: is every migration applied?"""
    return applied_revisions(engine) == head_revisions()


def pending_migrations(engine: Engine) -> list[str]:
    """Revisions not yet applied, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(engine))
    current = tuple(applied_revisions(engine))
    pending = [
        rev.revision
        for rev in script.iterate_revisions("heads", current[0] if current else "base")
        if rev.revision not in current
    ]
    return list(reversed(pending))


def upgrade(engine: Engine, *, backup: bool = True) -> list[str]:
    """Bring the schema to the newest revision; return what was applied.

    An existing SQLite file is copied aside first, so a failed migration never
    costs the history.
    """
    if schema_is_current(engine):
        return []
    from alembic import command

    pending = pending_migrations(engine)
    if not pending:
        return []
    if backup:
        _backup_sqlite(engine, pending[0])
    command.upgrade(_alembic_config(engine), "head")
    log.info("database upgraded: %s", ", ".join(pending))
    return pending


def _backup_sqlite(engine: Engine, first_pending: str) -> None:
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database)
    if not path.exists() or not applied_revisions(engine):
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.before-{first_pending}-{stamp}.bak")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy2(path, target)
    log.info("backed up %s to %s before migrating", path, target)


def connect(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """Open and upgrade: what every command that reads or writes data calls."""
    engine = open_engine(url, busy_timeout_s=busy_timeout_s)
    try:
        upgrade(engine)
    except DatabaseError:
        raise
    except Exception as exc:
        raise DatabaseError(
            redact(f"cannot open or upgrade the database at {url}: {exc}")
        ) from exc
    return engine


def close(engine: Engine, *, checkpoint: bool = True) -> None:
    """Checkpoint SQLite's WAL into the database file, truncate it, and close every connection.

    What ``replay``, ``import`` and the daemon's stop call last: without it the last
    run's writes (megabytes) stay in ``-wal`` beside the file, to be replayed by the next
    opener and counted twice by anyone measuring the database. A reader still open in
    another process keeps part of the WAL; that is logged, not an error. Without
    ``checkpoint`` (the database is locked by another process: it would wait in vain)
    the WAL is left for the next opener.
    """
    database = engine.url.database
    if (checkpoint and engine.url.get_backend_name() == "sqlite" and database
            and database != ":memory:"):
        try:
            with engine.connect() as conn:
                # TRUNCATE waits for readers of an older snapshot: a second, not 30.
                conn.exec_driver_sql(f"PRAGMA busy_timeout={CLOSE_WAIT_MS}")
                busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
            if busy:
                log.info("another process is reading the database: its WAL is left for later")
        except SQLAlchemyError as exc:  # closing must not fail a run that did its work
            log.warning("could not checkpoint the database WAL: %s", exc)
    engine.dispose()


def database_size(engine: Engine) -> int | None:
    """Bytes on disk: SQLite file plus its WAL; PostgreSQL ``pg_database_size``."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return sqlite_size(url.database)
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            return int(conn.execute(select(func.pg_database_size(func.current_database())))
                       .scalar_one())
    return None
