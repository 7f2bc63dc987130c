"""campaign leases and progress

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import copyloom.models.base

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", copyloom.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("finished_at", copyloom.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("model_calls", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tokens", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("cost_usd", sa.Numeric(14, 8), nullable=False, server_default="0"))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", copyloom.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", copyloom.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        for column in ("cost_usd", "tokens", "model_calls", "finished_at", "lease_expires_at", "lease_owner"):
            batch_op.drop_column(column)
