"""many hosts: rate limits shared by every portal host through the database

Revision ID: 0015
Revises: 0014
Created: 2026-12-06 08:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: the rate-limit counters (UNLOGGED on PostgreSQL)."""
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_end", name=op.f("pk_rate_limits")),
        prefixes=["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else [],
    )
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limits_window_end", ["window_end"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limits_window_end")
    op.drop_table("rate_limits")
