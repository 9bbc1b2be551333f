"""Alerts indexed by (icao, time), replacing the index on icao alone.

The rules look up stored alerts of one aircraft near a given time (a cooldown
against every alert, not only the newest); the composite index answers that
and everything the icao index did. Plain CREATE/DROP INDEX: the table is not
rebuilt (the outbox references it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_alerts_icao_time", "alerts", ["icao", "time"])
    op.drop_index("ix_alerts_icao", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_icao", "alerts", ["icao"])
    op.drop_index("ix_alerts_icao_time", table_name="alerts")
