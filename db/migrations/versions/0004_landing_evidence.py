"""How a landing or takeoff was known: ``observed`` or ``inferred``, on flights and alerts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Flights stored before this revision had only observed arrivals; their departures
cannot be told apart afterwards and stay unknown (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flights") as batch:
        batch.add_column(sa.Column("departure_evidence", sa.String(8)))
        batch.add_column(sa.Column("arrival_evidence", sa.String(8)))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("evidence", sa.String(8)))
    op.execute(
        "UPDATE flights SET arrival_evidence = 'observed' WHERE arrival_time IS NOT NULL"
    )
    op.execute(
        "UPDATE alerts SET evidence = 'observed' WHERE kind IN ('landed', 'took_off')"
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("evidence")
    with op.batch_alter_table("flights") as batch:
        batch.drop_column("arrival_evidence")
        batch.drop_column("departure_evidence")
