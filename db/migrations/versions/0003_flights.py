"""Flights (kept up to date as positions arrive), time per geofence, airports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import EpochSeconds

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flights",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("first_seen", EpochSeconds, primary_key=True),
        sa.Column("last_seen", EpochSeconds, nullable=False),
        sa.Column("callsign", sa.String(8)),
        sa.Column("registration", sa.String(16)),
        sa.Column("departure_airport", sa.String(16)),
        sa.Column("departure_time", EpochSeconds),
        sa.Column("arrival_airport", sa.String(16)),
        sa.Column("arrival_time", EpochSeconds),
        sa.Column("max_altitude_ft", sa.Integer),
        sa.Column("positions", sa.Integer, nullable=False),
    )
    op.create_index("ix_flights_departure", "flights", ["departure_airport", "departure_time"])
    op.create_index("ix_flights_arrival", "flights", ["arrival_airport", "arrival_time"])
    op.create_index("ix_flights_first_seen", "flights", ["first_seen"])
    op.create_index("ix_flights_last_seen", "flights", ["last_seen"])
    op.create_index("ix_flights_callsign", "flights", ["callsign"])
    op.create_table(
        "flight_geofences",
        sa.Column("icao", sa.String(6), primary_key=True),
        sa.Column("first_seen", EpochSeconds, primary_key=True),
        sa.Column("geofence", sa.String(80), primary_key=True),
        sa.Column("seconds", sa.Integer, nullable=False),
        sa.Column("first_inside", EpochSeconds, nullable=False),
        sa.Column("last_inside", EpochSeconds, nullable=False),
    )
    op.create_index(
        "ix_flight_geofences_fence", "flight_geofences", ["geofence", "first_seen"]
    )
    op.create_table(
        "airports",
        sa.Column("ident", sa.String(16), primary_key=True),
        sa.Column("icao", sa.String(4)),
        sa.Column("iata", sa.String(3)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("elevation_ft", sa.Float),
        sa.Column("municipality", sa.String(120)),
        sa.Column("longest_runway_ft", sa.Integer),
        sa.Column("runways", sa.Text),
        sa.Column("origin", sa.String(300), nullable=False),
    )
    op.create_index("ix_airports_icao", "airports", ["icao"])


def downgrade() -> None:
    op.drop_table("airports")
    op.drop_table("flight_geofences")
    op.drop_table("flights")
