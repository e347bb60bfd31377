"""learning agreements: pre-approvals a receiving institution signs before the study

Revision ID: 0011
Revises: 0010
Created: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("rule_set_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("complete_by", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("credential_id", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'refused', 'withdrawn')",
            name=op.f("ck_bank_agreements_agreement_status"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_bank_agreements_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["issuers.id"],
            name=op.f("fk_bank_agreements_institution_id_issuers"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_agreements_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_agreements")),
    )
    with op.batch_alter_table("bank_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_agreements_learner_id"), ["learner_id"], unique=False
        )
        batch_op.create_index(
            "ix_bank_agreements_institution_status", ["institution_id", "status"], unique=False
        )
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agreement_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_bank_applications_agreement_id_bank_agreements"),
            "bank_agreements",
            ["agreement_id"],
            ["id"],
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_bank_applications_agreement_id_bank_agreements"), type_="foreignkey"
        )
        batch_op.drop_column("agreement_id")
    with op.batch_alter_table("bank_agreements", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_agreements_institution_status")
        batch_op.drop_index(batch_op.f("ix_bank_agreements_learner_id"))
    op.drop_table("bank_agreements")
