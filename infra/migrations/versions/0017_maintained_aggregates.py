"""maintained aggregates for the operator's statistics and the scale indexes

Revision ID: 0017
Revises: 0016
Created: 2026-12-06 08:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from infra.aggregates import rebuild

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = {
    "batches": {
        "ix_batches_issuer_opened": ["issuer_id", "opened_at", "id"],
        "ix_batches_issuer_status_opened": ["issuer_id", "status", "opened_at", "id"],
    },
    "bank_applications": {
        "ix_bank_applications_institution_status": ["institution_id", "status", "submitted_at",
                                                    "id"],
        "ix_bank_applications_status_submitted": ["status", "submitted_at", "id"],
        "ix_bank_applications_institution_submitted": ["institution_id", "submitted_at", "id"],
        "ix_bank_applications_learner_submitted": ["learner_id", "submitted_at", "id"],
    },
    "audit_log": {
        "ix_audit_log_actor_at": ["actor", "at", "id"],
        "ix_audit_log_subject_at": ["subject", "at", "id"],
    },
    "bank_notices": {
        "ix_bank_notices_unread": ["recipient_kind", "recipient_id", "read_at"],
    },
    "bank_deposits": {
        "ix_bank_deposits_status_deposited": ["status", "deposited_at", "id"],
        # R3: a learner's own deposits, newest first.
        "ix_bank_deposits_learner_deposited": ["learner_id", "deposited_at", "id"],
    },
    # R3: the correction queues (waiting oldest first, answered latest first, the API's whole
    # queue; a learner's own, newest first) and the agreements' lists (an institution's
    # waiting, decided and whole queue; a learner's own) in their keyset orders.
    "bank_corrections": {
        "ix_bank_corrections_routed_status_requested": ["routed_to", "status", "requested_at",
                                                        "id"],
        "ix_bank_corrections_routed_requested": ["routed_to", "requested_at", "id"],
        "ix_bank_corrections_routed_answered": ["routed_to", "answered_at", "id"],
        "ix_bank_corrections_learner_requested": ["learner_id", "requested_at", "id"],
    },
    "shared_links": {  # R3: a learner's own share links, newest first.
        "ix_shared_links_learner_created": ["learner_id", "created_at", "token"],
    },
    "bank_agreements": {
        "ix_bank_agreements_institution_status_requested": ["institution_id", "status",
                                                            "requested_at", "id"],
        "ix_bank_agreements_institution_requested": ["institution_id", "requested_at", "id"],
        "ix_bank_agreements_institution_decided": ["institution_id", "decided_at", "id"],
        "ix_bank_agreements_learner_requested": ["learner_id", "requested_at", "id"],
    },
}
"""Indexes in each keyset-paged list's order (table -> name -> columns)."""


def upgrade() -> None:
    """Apply this revision: the aggregates table, filled from the base tables."""
    op.create_table(
        "aggregates",
        sa.Column("series", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("series", "key", "month", "part", name=op.f("pk_aggregates")),
    )
    for table, indexes in INDEXES.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)
    rebuild(op.get_bind())


def downgrade() -> None:
    """Undo this revision."""
    for table, indexes in INDEXES.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
    op.drop_table("aggregates")
