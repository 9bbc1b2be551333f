"""db/reader.py: what the query commands read through, and what it does with a database
that is new, behind, locked, or no database at all."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine

from flightwatch.db import DatabaseError, open_engine
from flightwatch.db.engine import _alembic_config, schema_is_current
from flightwatch.db.queries import callsign_spans
from flightwatch.db.reader import (
    EngineReader,
    SchemaNotCurrent,
    SqliteReader,
    as_reader,
    open_reader,
)
from flightwatch.db.revisions import DatabaseConfigError, head_revisions
from flightwatch.db.watchlist import add
from flightwatch.db.watchlist_queries import stored_entries


def _at(path: Path, revision: str) -> str:
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    command.upgrade(_alembic_config(engine), revision)
    engine.dispose()
    return url


def _revisions(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}


def test_a_current_sqlite_file_is_read_through_sqlite3_which_refuses_writes(
        tmp_path: Path) -> None:
    url = _at(tmp_path / "fw.db", "head")
    with open_reader(url) as reader:
        assert isinstance(reader, SqliteReader)
        assert reader.scalar("SELECT COUNT(*) FROM position_chunks") == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.rows("DELETE FROM position_chunks")


def test_a_new_database_is_created_and_one_behind_upgraded_as_by_connect(
        tmp_path: Path) -> None:
    with open_reader(f"sqlite:///{tmp_path / 'new.db'}") as reader:
        assert isinstance(reader, EngineReader) and reader.schema_current()
    url = _at(tmp_path / "old.db", "0006")
    with open_reader(url) as reader:
        assert reader.schema_current()
    assert _revisions(tmp_path / "old.db") == head_revisions()
    with open_reader(url) as reader:  # now current: no SQLAlchemy next time
        assert isinstance(reader, SqliteReader)


def test_without_upgrade_a_database_behind_is_reported_and_left_as_it_is(
        tmp_path: Path) -> None:
    url = _at(tmp_path / "old.db", "0006")
    with pytest.raises(SchemaNotCurrent, match="flightwatch db upgrade"):
        open_reader(url, upgrade=False)
    assert _revisions(tmp_path / "old.db") == {"0006"}


def test_a_missing_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseConfigError, match="does not exist"):
        open_reader(f"sqlite:///{tmp_path / 'nope' / 'fw.db'}")


@pytest.mark.parametrize("upgrade", [True, False])
def test_a_file_that_is_no_database_is_reported_and_left_alone(
        tmp_path: Path, upgrade: bool) -> None:
    path = tmp_path / "fw.db"
    junk = bytes(range(256)) * 20
    path.write_bytes(junk)
    with pytest.raises(DatabaseError, match="file is not a database"):
        open_reader(f"sqlite:///{path}", upgrade=upgrade)
    assert path.read_bytes() == junk


def test_a_locked_database_fails_after_the_busy_timeout_with_a_clear_message(
        tmp_path: Path) -> None:
    url = _at(tmp_path / "fw.db", "head")
    holder = sqlite3.connect(tmp_path / "fw.db")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseError, match="database is locked"):
            open_reader(url, busy_timeout_s=0.2)
    finally:
        holder.close()
    with open_reader(url, busy_timeout_s=0.2) as reader:
        assert reader.schema_current()


def test_times_bind_as_stored_and_an_empty_list_matches_nothing(engine: Engine) -> None:
    """The reader's SQL on both backends (SQLite through sqlite3): a UTCDateTime compared
    for equality with what SQLAlchemy stored, read back aware; an IN list, an empty one."""
    assert schema_is_current(engine)
    updated = datetime(2024, 5, 1, 9, 40, tzinfo=UTC)
    add(engine, "157710", registration="RA-96016", now=updated)
    add(engine, "15002B", now=updated + timedelta(microseconds=1))
    reader = open_reader(engine.url.render_as_string(hide_password=False))
    assert isinstance(reader, SqliteReader) == (engine.url.get_backend_name() == "sqlite")
    found = reader.rows("SELECT icao FROM watchlist WHERE updated = :t",
                        {"t": reader.time(updated.astimezone(timezone(timedelta(hours=3))))})
    assert [row[0] for row in found] == ["157710"]
    assert [e.updated for e in stored_entries(reader)] == [
        updated + timedelta(microseconds=1), updated]
    rows = reader.rows("SELECT icao FROM watchlist WHERE icao IN (:icaos) ORDER BY icao",
                       {"icaos": ["157710", "15002B", "ABCDEF"]})
    assert [row[0] for row in rows] == ["15002B", "157710"]
    assert callsign_spans(reader, icaos=[]) == []
    assert as_reader(reader) is reader
    reader.close()
