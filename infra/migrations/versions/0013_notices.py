"""notices: the inbox, e-mail preferences and the e-mail outbox

Revision ID: 0013
Revises: 0012
Created: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("once_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=True),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("email_after", sa.Float(), nullable=True),
        sa.Column("emailed_at", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "recipient_kind IN ('learner', 'institution')",
            name=op.f("ck_bank_notices_notice_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_notices")),
        sa.UniqueConstraint("once_key", name=op.f("uq_bank_notices_once_key")),
    )
    with op.batch_alter_table("bank_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bank_notices_recipient",
            ["recipient_kind", "recipient_id", "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_bank_notices_email_status", ["email_status"], unique=False)

    op.create_table(
        "bank_notice_preferences",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_notice_preferences_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_bank_notice_preferences")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("bank_notice_preferences")
    with op.batch_alter_table("bank_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_notices_email_status")
        batch_op.drop_index("ix_bank_notices_recipient")
    op.drop_table("bank_notices")
