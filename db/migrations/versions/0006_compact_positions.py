"""Compact positions: integer address and coordinates, clustered on (icao, time) in SQLite.

Positions are nearly all of a long history. The address is stored as the
integer it spells, latitude and longitude as 1e-5 degrees, the track as tenths
of a degree; on SQLite the table is ``WITHOUT ROWID``, so the (icao, time) key
is stored once instead of in the table and again in its own index. About 100
bytes a position become about 55, indexes included; reads return the same values.

Existing rows are converted in batches in key order, with a progress line in the log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import EpochSeconds, IcaoAddress, ScaledInteger

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("flightwatch.db.migrations")

BATCH = 50_000
COLUMNS = ("icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
           "vertical_rate_fpm", "on_ground", "source_id")
OLD = "positions_0003"

Row = Sequence[Any]


def _compact(row: Row) -> tuple[Any, ...]:
    icao, t, lat, lon, alt, speed, track, rate, ground, source = row
    return (int(icao, 16), t, round(lat * 1e5), round(lon * 1e5), alt, speed,
            None if track is None else round(track * 10), rate, ground, source)


def _expand(row: Row) -> tuple[Any, ...]:
    icao, t, lat, lon, alt, speed, track, rate, ground, source = row
    return (f"{icao:06X}", t, lat / 1e5, lon / 1e5, alt, speed,
            None if track is None else track / 10, rate, ground, source)


def _create_positions(compact: bool) -> None:
    """The positions table as this revision (``compact``) or 0003 defines it."""
    op.create_table(
        "positions",
        sa.Column("icao", IcaoAddress if compact else sa.String(6), primary_key=True),
        sa.Column("time", EpochSeconds, primary_key=True),
        sa.Column("lat", ScaledInteger(5) if compact else sa.Float, nullable=False),
        sa.Column("lon", ScaledInteger(5) if compact else sa.Float, nullable=False),
        sa.Column("altitude_ft", sa.Integer),
        sa.Column("ground_speed_kt", sa.SmallInteger),
        sa.Column("track_deg", ScaledInteger(1) if compact else sa.Float),
        sa.Column("vertical_rate_fpm", sa.Integer),
        sa.Column("on_ground", sa.Boolean),
        sa.Column("source_id", sa.SmallInteger, sa.ForeignKey("sources.id")),
        sqlite_with_rowid=not compact,
    )


def _rebuild(compact: bool, convert: Callable[[Row], tuple[Any, ...]]) -> None:
    """Move the positions table aside, create it anew, copy every row over converted."""
    conn = op.get_bind()
    op.drop_index("ix_positions_time", table_name="positions")
    op.rename_table("positions", OLD)
    if conn.dialect.name == "postgresql":  # constraint names are per schema there
        conn.exec_driver_sql(f"ALTER INDEX positions_pkey RENAME TO {OLD}_pkey")
    _create_positions(compact)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    listed = ", ".join(COLUMNS)
    total = conn.exec_driver_sql(f"SELECT count(*) FROM {OLD}").scalar_one()
    first = f"SELECT {listed} FROM {OLD} ORDER BY icao, time LIMIT {BATCH}"
    after = (f"SELECT {listed} FROM {OLD} WHERE (icao, time) > ({mark}, {mark}) "
             f"ORDER BY icao, time LIMIT {BATCH}")
    insert = f"INSERT INTO positions ({listed}) VALUES ({', '.join([mark] * len(COLUMNS))})"
    done = 0
    rows = conn.exec_driver_sql(first).all()
    while rows:
        conn.exec_driver_sql(insert, [convert(row) for row in rows])
        done += len(rows)
        log.info("converting positions: %d of %d rows (%.0f%%)", done, total,
                 100 * done / max(total, 1))
        rows = conn.exec_driver_sql(after, tuple(rows[-1][:2])).all()
    op.drop_table(OLD)
    op.create_index("ix_positions_time", "positions", ["time"])


def upgrade() -> None:
    _rebuild(True, _compact)


def downgrade() -> None:
    _rebuild(False, _expand)
