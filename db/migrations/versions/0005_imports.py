"""Imports of historical archives: the members already imported (for resuming), and
alerts marked retrospective (raised by an import, not seen live).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("member", sa.String(400), primary_key=True),
        sa.Column("time_window", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("alerts", sa.String(8), nullable=False),
        sa.Column("positions", sa.Integer, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("retrospective", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("retrospective")
    op.drop_table("imports")
