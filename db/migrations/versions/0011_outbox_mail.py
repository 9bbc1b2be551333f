"""Mail in the outbox: a row may carry a ready-made mail (the daily digest) instead of
an alert, so every mail is delivered, retried and given up on in one place.

``alert_id`` becomes nullable; ``mail_name`` (the file name a mail folder gives it) and
``mail`` (the message, RFC 5322 bytes) are set on the rows that carry a mail.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("mail_name", sa.String(80), nullable=True))
        batch.add_column(sa.Column("mail", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE alert_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("mail")
        batch.drop_column("mail_name")
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
