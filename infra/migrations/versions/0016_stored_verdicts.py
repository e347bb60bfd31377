"""stored verification results of learners' credentials, refreshed by chain events

The learner's record page reads `bank_verdicts` instead of verifying every credential on every
view; `ledger_issuer_events` holds the registry's events the refresh applies (suspensions,
reinstatements, key retirements), and `ledger_revocations` gains an index by block so the
refresh reads only the revocations indexed since its last pass. Verdicts are filled in lazily
(a learner's on their first view) or in bulk by `bank.verdicts.rebuild_verdicts`.

Revision ID: 0016
Revises: 0015
Created: 2026-12-06 08:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "bank_verdicts",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("learner_did", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("static_status", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("issuer_did", sa.String(length=200), nullable=True),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("anchor_block", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Float(), nullable=True),
        sa.Column("valid_until", sa.Float(), nullable=True),
        sa.Column("revoked_code", sa.String(length=32), nullable=True),
        sa.Column("revoked_reason", sa.Integer(), nullable=True),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("key_retired", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("level", sa.String(length=80), nullable=True),
        sa.Column("year", sa.String(length=4), nullable=True),
        sa.Column("credits", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("source", "ref", name=op.f("pk_bank_verdicts")),
    )
    with op.batch_alter_table("bank_verdicts", schema=None) as batch_op:
        batch_op.create_index("ix_bank_verdicts_learner",
                              ["learner_did", "source", "status", "issuer_did", "kind", "level",
                               "year", "credits", "valid_until", "valid_from"], unique=False)
        batch_op.create_index("ix_bank_verdicts_root", ["root", "digest"], unique=False)
        batch_op.create_index("ix_bank_verdicts_issuer_key",
                              ["issuer_id", "public_key", "anchor_block"], unique=False)
    op.create_table(
        "ledger_issuer_events",
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("retired_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("block", "log_index", name=op.f("pk_ledger_issuer_events")),
    )
    with op.batch_alter_table("ledger_revocations", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_revocations_block", ["block"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("ledger_revocations", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_revocations_block")
    op.drop_table("ledger_issuer_events")
    with op.batch_alter_table("bank_verdicts", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_verdicts_issuer_key")
        batch_op.drop_index("ix_bank_verdicts_root")
        batch_op.drop_index("ix_bank_verdicts_learner")
    op.drop_table("bank_verdicts")
