"""Initial schema: sources, aircraft, positions, callsigns, watchlist.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import EpochSeconds, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
    )
    op.create_table(
        "aircraft",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("registration", sa.String(16)),
        sa.Column("aircraft_type", sa.String(40)),
        sa.Column("operator", sa.String(120)),
        sa.Column("callsign", sa.String(8)),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
    )
    op.create_index("ix_aircraft_last_seen", "aircraft", ["last_seen"])
    op.create_table(
        "positions",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("time", EpochSeconds, primary_key=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("altitude_ft", sa.Integer),
        sa.Column("ground_speed_kt", sa.SmallInteger),
        sa.Column("track_deg", sa.Float),
        sa.Column("vertical_rate_fpm", sa.Integer),
        sa.Column("on_ground", sa.Boolean),
        sa.Column("source_id", sa.SmallInteger, sa.ForeignKey("sources.id")),
    )
    op.create_index("ix_positions_time", "positions", ["time"])
    op.create_table(
        "callsigns",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("first_seen", EpochSeconds, primary_key=True),
        sa.Column("last_seen", EpochSeconds, nullable=False),
        sa.Column("callsign", sa.String(8), nullable=False),
    )
    op.create_index("ix_callsigns_callsign", "callsigns", ["callsign"])
    op.create_table(
        "watchlist",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("registration", sa.String(16)),
        sa.Column("operator", sa.String(120)),
        sa.Column("aircraft_type", sa.String(80)),
        sa.Column("category", sa.String(80)),
        sa.Column("group_name", sa.String(80)),
        sa.Column("origin", sa.String(200)),
        sa.Column("updated", UTCDateTime, nullable=False),
    )
    op.create_index("ix_watchlist_registration", "watchlist", ["registration"])


def downgrade() -> None:
    for table in ("watchlist", "callsigns", "positions", "aircraft", "sources"):
        op.drop_table(table)
