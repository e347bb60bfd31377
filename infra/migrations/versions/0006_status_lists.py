"""Bitstring status lists: where each credential's status entry points, and each list as published

Revision ID: 0006
Revises: 0005
Created: 2026-12-05 23:30:00.000000

Credentials issued before this revision keep no status entry (both columns NULL); they verify
through the chain alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "status_lists",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("list", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_status_lists_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("issuer_id", "list", name=op.f("pk_status_lists")),
    )
    op.create_table(
        "published_status_lists",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("list", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=66), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"],
            name=op.f("fk_published_status_lists_issuer_id_issuers"),
        ),
        sa.PrimaryKeyConstraint(
            "issuer_id", "list", "purpose", name=op.f("pk_published_status_lists")
        ),
    )
    op.add_column("credentials", sa.Column("status_list", sa.Integer(), nullable=True))
    op.add_column("credentials", sa.Column("status_index", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Undo this revision; credentials lose where their status entries point."""
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_column("status_index")
        batch_op.drop_column("status_list")
    op.drop_table("published_status_lists")
    op.drop_table("status_lists")
