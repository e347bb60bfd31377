"""identity before records: activation codes per institution, proofs of who a learner is, and
sign-in back-off (`wait_until` for the old `locked_until`)

Revision ID: 0005
Revises: 0004
Created: 2026-12-05 21:30:00.000000

The codes bank_learners kept (one per account, of the institution that opened it) move to
bank_activation_codes; the column is dropped in place (SQLite 3.35 and later), not by copying the
table, which the accounts' other rows refer to. No proof is invented for existing accounts: a
learner who signed up with a national id alone sees only what they deposited until they prove
who they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

learners = sa.table(
    "bank_learners",
    sa.column("id", sa.String),
    sa.column("activation_sha256", sa.String),
    sa.column("opened_by", sa.String),
    sa.column("password_hash", sa.Text),
    sa.column("created_at", sa.Float),
)
codes = sa.table(
    "bank_activation_codes",
    sa.column("code_sha256", sa.String),
    sa.column("learner_id", sa.String),
    sa.column("institution_id", sa.String),
    sa.column("created_at", sa.Float),
)
issuers = sa.table("issuers", sa.column("id", sa.String))
proofs = sa.table(
    "bank_identity_proofs",
    sa.column("learner_id", sa.String),
    sa.column("method", sa.String),
    sa.column("institution_id", sa.String),
    sa.column("vouched_by", sa.String),
    sa.column("proved_at", sa.Float),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_activation_codes",
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["issuers.id"],
            name=op.f("fk_bank_activation_codes_institution_id_issuers"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_activation_codes_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("code_sha256", name=op.f("pk_bank_activation_codes")),
    )
    with op.batch_alter_table("bank_activation_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_activation_codes_learner_id"), ["learner_id"], unique=False
        )
    op.create_table(
        "bank_identity_proofs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=True),
        sa.Column("vouched_by", sa.String(length=300), nullable=False),
        sa.Column("proved_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "method IN ('activation', 'city', 'in_person')",
            name=op.f("ck_bank_identity_proofs_proof_method"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["issuers.id"],
            name=op.f("fk_bank_identity_proofs_institution_id_issuers"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_identity_proofs_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_identity_proofs")),
    )
    with op.batch_alter_table("bank_identity_proofs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_identity_proofs_learner_id"), ["learner_id"], unique=False
        )
    op.execute(
        codes.insert().from_select(
            ["code_sha256", "learner_id", "institution_id", "created_at"],
            sa.select(
                learners.c.activation_sha256,
                learners.c.id,
                sa.select(issuers.c.id)
                .where(issuers.c.id == learners.c.opened_by)
                .scalar_subquery(),
                learners.c.created_at,
            ).where(learners.c.activation_sha256.is_not(None)),
        )
    )
    op.execute(
        proofs.insert().from_select(
            ["learner_id", "method", "institution_id", "vouched_by", "proved_at"],
            sa.select(
                learners.c.id,
                sa.literal("activation"),
                learners.c.opened_by,
                sa.literal("migration:0005"),
                learners.c.created_at,
            ).where(
                learners.c.activation_sha256.is_(None),
                learners.c.password_hash.is_not(None),
                learners.c.opened_by.in_(sa.select(issuers.c.id)),
            ),
        )
    )
    op.drop_column("bank_learners", "activation_sha256")
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.alter_column("locked_until", new_column_name="wait_until")


def downgrade() -> None:
    """Undo this revision; an account keeps one of its pending codes, proofs are dropped."""
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.alter_column("wait_until", new_column_name="locked_until")
    op.add_column("bank_learners", sa.Column("activation_sha256", sa.String(length=64),
                                             nullable=True))
    op.execute(
        learners.update().values(
            activation_sha256=sa.select(sa.func.min(codes.c.code_sha256))
            .where(codes.c.learner_id == learners.c.id)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("bank_identity_proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_identity_proofs_learner_id"))
    op.drop_table("bank_identity_proofs")
    with op.batch_alter_table("bank_activation_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_activation_codes_learner_id"))
    op.drop_table("bank_activation_codes")
