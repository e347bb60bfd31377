"""the impact of a rule-set version, kept with it

Revision ID: 0012
Revises: 0011
Created: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_rule_impacts",
        sa.Column("rule_set_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("rule_set_id", "version", name=op.f("pk_bank_rule_impacts")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("bank_rule_impacts")
