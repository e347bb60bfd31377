"""one open application per learner and rule set

Revision ID: 0003
Revises: 0002
Created: 2026-11-22 18:45:23.887096
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.create_index(
            "uq_bank_applications_open",
            ["learner_id", "rule_set_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('submitted', 'first_reviewed', 'appealed')"),
            postgresql_where=sa.text("status IN ('submitted', 'first_reviewed', 'appealed')"),
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bank_applications_open",
            sqlite_where=sa.text("status IN ('submitted', 'first_reviewed', 'appealed')"),
            postgresql_where=sa.text("status IN ('submitted', 'first_reviewed', 'appealed')"),
        )
