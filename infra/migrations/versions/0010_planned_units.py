"""planned units: what a learner plans to study, for the planner

Revision ID: 0010
Revises: 0009
Created: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_planned_units",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_bank_planned_units_issuer_id_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_planned_units_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint(
            "learner_id", "issuer_id", "code", name=op.f("pk_bank_planned_units")
        ),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("bank_planned_units")
