"""drop unread ledger mirrors: the indexer keeps only the revocations the bank's watch reads

Revision ID: 0004
Revises: 0003
Created: 2026-11-23 10:12:41.530217
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.drop_table("ledger_signing_keys")
    op.drop_table("ledger_rule_sets")
    op.drop_table("ledger_issuers")
    with op.batch_alter_table("ledger_issuer_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_issuer_accounts_issuer_id"))

    op.drop_table("ledger_issuer_accounts")
    with op.batch_alter_table("ledger_anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_anchors_issuer_id"))

    op.drop_table("ledger_anchors")


def downgrade() -> None:
    """Undo this revision; the indexer's cursor is reset so that it fills the tables again."""
    op.create_table(
        "ledger_anchors",
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_ledger_anchors")),
    )
    with op.batch_alter_table("ledger_anchors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_anchors_issuer_id"), ["issuer_id"], unique=False
        )

    op.create_table(
        "ledger_issuer_accounts",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_ledger_issuer_accounts")),
    )
    with op.batch_alter_table("ledger_issuer_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_issuer_accounts_issuer_id"), ["issuer_id"], unique=False
        )

    op.create_table(
        "ledger_issuers",
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("did", sa.String(length=128), nullable=False),
        sa.Column("kind_mask", sa.String(length=80), nullable=False),
        sa.Column("level_mask", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_ledger_issuers")),
        sa.UniqueConstraint("did", name=op.f("uq_ledger_issuers_did")),
    )
    op.create_table(
        "ledger_rule_sets",
        sa.Column("rule_set_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("published_block", sa.BigInteger(), nullable=False),
        sa.Column("approved_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule_set_id", "version", name=op.f("pk_ledger_rule_sets")),
    )
    op.create_table(
        "ledger_signing_keys",
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("retired_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", "public_key", name=op.f("pk_ledger_signing_keys")),
    )
    op.execute(sa.text("DELETE FROM ledger_cursor"))
