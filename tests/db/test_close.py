"""``db.close``: what replay, import and the daemon's stop leave on disk."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from pg_scratch import scratch_schema

from flightwatch.db import close, connect

PAGE = 4096


def write_megabytes(url: str, n: int) -> None:
    """``n`` MB of committed rows, through an engine that is then closed with ``close``."""
    engine = connect(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS blobs (data BLOB)")
    for _ in range(n):
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO blobs VALUES (randomblob(1000000))")
    close(engine)


def wal_bytes(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_close_leaves_no_wal_and_everything_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "fw.db"
    write_megabytes(f"sqlite:///{db}", 3)
    assert wal_bytes(db) <= PAGE
    assert db.stat().st_size > 3_000_000  # the rows are in the database file itself
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 3


def test_a_reader_in_another_connection_costs_a_log_line_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "fw.db"
    write_megabytes(f"sqlite:///{db}", 1)
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM blobs").fetchone()[0] == 1  # holds a snapshot
    with caplog.at_level(logging.INFO, logger="flightwatch.db.engine"):
        write_megabytes(f"sqlite:///{db}", 1)  # its close cannot truncate under the reader
    assert "another process is reading the database" in caplog.text
    reader.execute("COMMIT")
    reader.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2


def test_close_on_memory_and_postgresql_only_disposes(postgres_url: str) -> None:
    with scratch_schema(postgres_url) as scratch:
        for url in ("sqlite://", scratch):
            engine = connect(url)
            close(engine)
            with engine.connect() as conn:  # a disposed engine opens a fresh pool on demand
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            engine.dispose()
