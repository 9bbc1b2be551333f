"""Alerts and the notification outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("time", UTCDateTime, nullable=False),
        sa.Column("icao", sa.String(6), nullable=False),
        sa.Column("registration", sa.String(16)),
        sa.Column("callsign", sa.String(8)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("geofence", sa.String(80)),
        sa.Column("airport", sa.String(16)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("altitude_ft", sa.Float),
        sa.Column("ground_speed_kt", sa.Float),
        sa.Column("track_deg", sa.Float),
        sa.Column("matched_by", sa.String(32)),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_alerts_time", "alerts", ["time"])
    op.create_index("ix_alerts_icao", "alerts", ["icao"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.UniqueConstraint("alert_id", "channel", name="uq_outbox_alert_channel"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("alerts")
