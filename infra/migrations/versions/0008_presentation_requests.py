"""presentation requests (OID4VP): what a verifier asked a wallet for, and the report of
what it presented

Revision ID: 0008
Revises: 0007
Created: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "presentation_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("viewer_sha256", sa.String(length=64), nullable=False),
        sa.Column("dcql_query", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=False),
        sa.Column("response_uri", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("responded_at", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presentation_requests")),
        sa.UniqueConstraint("state", name=op.f("uq_presentation_requests_state")),
        sa.UniqueConstraint("viewer_sha256", name=op.f("uq_presentation_requests_viewer_sha256")),
    )
    with op.batch_alter_table("presentation_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_presentation_requests_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("presentation_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presentation_requests_expires_at"))
    op.drop_table("presentation_requests")
