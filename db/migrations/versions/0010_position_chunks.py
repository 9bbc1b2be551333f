"""Positions in compressed chunks: a log the writer appends to, per-aircraft hourly chunks.

Each commit of the positions table rewrote a page per aircraft in the air (hundreds of
MB an hour on an SD card, growing with the history). Positions now go to
``position_log`` as compressed blocks and are folded into ``position_chunks`` (one
block per aircraft and hour, keyed time first); see db/positions.py. About 55 bytes a
position become about 6.

Existing rows are converted aircraft by aircraft, an hour per chunk, with a progress
line in the log; retention later turns old hours into thinned days as it does for new
data. The downgrade writes the rows back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from flightwatch.db.blocks import GROUND_VALUES, Block, Columns, empty, ground_code
from flightwatch.db.positions import chunk_row

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("flightwatch.db.migrations")

HOUR = 3600
BATCH = 50_000
CHUNK_ROWS = 1_000
COLUMNS = ("icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
           "vertical_rate_fpm", "on_ground", "source_id")
CHUNK_COLUMNS = ("span", "period", "icao", "first_time", "last_time", "positions", "thinned",
                 "min_lat", "max_lat", "min_lon", "max_lon", "data")


def _create_chunk_tables() -> None:
    op.create_table(
        "position_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("parts", sa.SmallInteger, nullable=False),
        sa.Column("part", sa.SmallInteger, nullable=False),
        sa.Column("first_time", sa.BigInteger, nullable=False),
        sa.Column("last_time", sa.BigInteger, nullable=False),
        sa.Column("positions", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "position_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *(sa.Column(name, sa.BigInteger if name.endswith("_time") else sa.Integer,
                    nullable=False) for name in CHUNK_COLUMNS if name != "data"),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ux_position_chunks_key", "position_chunks",
                    ["span", "period", "icao", "first_time"], unique=True)


def _create_positions() -> None:
    """The positions table as revision 0006 made it."""
    op.create_table(
        "positions",
        sa.Column("icao", sa.Integer, primary_key=True),
        sa.Column("time", sa.BigInteger, primary_key=True),
        sa.Column("lat", sa.Integer, nullable=False),
        sa.Column("lon", sa.Integer, nullable=False),
        sa.Column("altitude_ft", sa.Integer),
        sa.Column("ground_speed_kt", sa.SmallInteger),
        sa.Column("track_deg", sa.Integer),
        sa.Column("vertical_rate_fpm", sa.Integer),
        sa.Column("on_ground", sa.Boolean),
        sa.Column("source_id", sa.SmallInteger, sa.ForeignKey("sources.id")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_positions_time", "positions", ["time"])


def _hours(rows: Iterator[Sequence[Any]]) -> Iterator[tuple[int, Columns]]:
    """Rows in (icao, time) order as (icao, one hour's columns)."""
    key: tuple[int, int] | None = None
    columns: Columns = empty()
    for icao, t, lat, lon, alt, speed, track, rate, ground, source in rows:
        here = (icao, t // HOUR)
        if here != key:
            if key is not None:
                yield key[0], columns
            key, columns = here, empty()
        for column, value in zip(columns, (
                t, lat, lon, alt, speed, track, rate,
                ground_code(None if ground is None else bool(ground)), source or 0),
                strict=True):
            column.append(value)
    if key is not None:
        yield key[0], columns


def _rows(conn: sa.Connection, total: int) -> Iterator[Sequence[Any]]:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    listed = ", ".join(COLUMNS)
    first = f"SELECT {listed} FROM positions ORDER BY icao, time LIMIT {BATCH}"
    after = (f"SELECT {listed} FROM positions WHERE (icao, time) > ({mark}, {mark}) "
             f"ORDER BY icao, time LIMIT {BATCH}")
    done = 0
    rows = conn.exec_driver_sql(first).all()
    while rows:
        yield from rows
        done += len(rows)
        log.info("converting positions: %d of %d rows (%.0f%%)", done, total,
                 100 * done / max(total, 1))
        rows = conn.exec_driver_sql(after, tuple(rows[-1][:2])).all()


def upgrade() -> None:
    conn = op.get_bind()
    _create_chunk_tables()
    chunks = sa.table("position_chunks", *(sa.column(name) for name in CHUNK_COLUMNS))
    total = conn.exec_driver_sql("SELECT count(*) FROM positions").scalar_one()
    pending: list[dict[str, Any]] = []
    for icao, columns in _hours(_rows(conn, total)):
        pending.append(chunk_row(HOUR, icao, columns))
        if len(pending) >= CHUNK_ROWS:
            conn.execute(chunks.insert(), pending)
            pending.clear()
    if pending:
        conn.execute(chunks.insert(), pending)
    op.drop_index("ix_positions_time", table_name="positions")
    op.drop_table("positions")


def _positions_of(data: bytes) -> Iterator[tuple[Any, ...]]:
    for icao, columns in Block(data).all():
        for t, lat, lon, alt, speed, track, rate, ground, source in zip(*columns, strict=True):
            yield (icao, t, lat, lon, alt, speed, track, rate, GROUND_VALUES[ground],
                   source or None)


def downgrade() -> None:
    conn = op.get_bind()
    _create_positions()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    insert = (f"INSERT INTO positions ({', '.join(COLUMNS)}) VALUES "
              f"({', '.join([mark] * len(COLUMNS))}) ON CONFLICT DO NOTHING")
    for table in ("position_chunks", "position_log"):
        ids = [row[0] for row in conn.exec_driver_sql(f"SELECT id FROM {table} ORDER BY id")]
        for start in range(0, len(ids), CHUNK_ROWS):
            some = ", ".join(str(i) for i in ids[start:start + CHUNK_ROWS])
            blobs = conn.exec_driver_sql(f"SELECT data FROM {table} WHERE id IN ({some})")
            rows = [row for (data,) in blobs.all() for row in _positions_of(data)]
            if rows:
                conn.exec_driver_sql(insert, rows)
    op.drop_index("ux_position_chunks_key", table_name="position_chunks")
    op.drop_table("position_chunks")
    op.drop_table("position_log")
