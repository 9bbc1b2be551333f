"""Arrival and departure grades with their uncertainty, reason and candidates; the
receivers' learned coverage.

Grades grow beyond ``observed``/``inferred`` (``probable``, ``confirmed``), so the
evidence columns widen to 16 characters; SQLite does not enforce a length, so only
PostgreSQL alters them (no table rebuild: the outbox references the alerts).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightwatch.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ENDS = ("departure", "arrival")


def upgrade() -> None:
    for end in _ENDS:
        op.add_column("flights", sa.Column(f"{end}_uncertainty_s", sa.Integer()))
        op.add_column("flights", sa.Column(f"{end}_reason", sa.Text()))
        op.add_column("flights", sa.Column(f"{end}_candidates", sa.String(200)))
    if op.get_bind().dialect.name == "postgresql":
        for table, column in (("flights", "departure_evidence"), ("flights", "arrival_evidence"),
                              ("alerts", "evidence")):
            op.alter_column(table, column, type_=sa.String(16), existing_type=sa.String(8))
    op.create_table(
        "receivers",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("coverage_updated", UTCDateTime),
    )
    op.create_table(
        "coverage",
        sa.Column("receiver", sa.String(80), primary_key=True),
        sa.Column("sector", sa.SmallInteger(), primary_key=True),
        sa.Column("band", sa.SmallInteger(), primary_key=True),
        sa.Column("range_km", sa.Float(), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("coverage")
    op.drop_table("receivers")
    if op.get_bind().dialect.name == "postgresql":
        for table, column in (("flights", "departure_evidence"), ("flights", "arrival_evidence"),
                              ("alerts", "evidence")):
            op.alter_column(table, column, type_=sa.String(8), existing_type=sa.String(16))
    for end in reversed(_ENDS):
        for column in (f"{end}_candidates", f"{end}_reason", f"{end}_uncertainty_s"):
            with op.batch_alter_table("flights") as batch:
                batch.drop_column(column)
