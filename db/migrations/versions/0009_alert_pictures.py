"""The map picture of each alert, kept with its outbox rows.

Rendered once when the alert is raised and written in the same transaction as the
alert and its notifications, so every channel (and every retry) sends the same
picture, and the web page serves it. Deleted with its alert.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_pictures",
        sa.Column("alert_id", sa.Integer(),
                  sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("png", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_pictures")
