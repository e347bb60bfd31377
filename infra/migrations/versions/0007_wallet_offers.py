"""wallet offers (OID4VCI): pre-authorized codes, access tokens, nonces and the wallet keys that
received a credential

Revision ID: 0007
Revises: 0006
Created: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("tx_code_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'redeemed', 'delivered', 'locked')",
            name=op.f("ck_wallet_offers_offer_status"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_wallet_offers_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_wallet_offers_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_offers")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_wallet_offers_code_sha256")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_wallet_offers_token_sha256")),
    )
    with op.batch_alter_table("wallet_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_offers_learner_id"), ["learner_id"], unique=False
        )
    op.create_table(
        "wallet_nonces",
        sa.Column("nonce_sha256", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("nonce_sha256", name=op.f("pk_wallet_nonces")),
    )
    with op.batch_alter_table("wallet_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_nonces_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "wallet_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("offer_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("thumbprint", sa.String(length=64), nullable=False),
        sa.Column("delivered_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_wallet_deliveries_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["wallet_offers.id"],
            name=op.f("fk_wallet_deliveries_offer_id_wallet_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_deliveries")),
    )
    with op.batch_alter_table("wallet_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wallet_deliveries_credential", ["credential_id", "thumbprint"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("wallet_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_wallet_deliveries_credential")
    op.drop_table("wallet_deliveries")
    with op.batch_alter_table("wallet_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_nonces_expires_at"))
    op.drop_table("wallet_nonces")
    with op.batch_alter_table("wallet_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_offers_learner_id"))
    op.drop_table("wallet_offers")
