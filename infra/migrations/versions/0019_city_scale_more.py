"""city scale, more: indexes for the last paged lists

Revision ID: 0019
Revises: 0018
Created: 2026-12-06 11:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = {
    # H3: the consents lists (the learner's, the API's, the guardian's), newest first.
    "bank_consents": {"ix_bank_consents_learner_given": ["learner_id", "given_at", "id"]},
    # H3: the learner's transcripts, newest first.
    "bank_transcripts": {
        "ix_bank_transcripts_learner_requested": ["learner_id", "requested_at", "id"]},
}


def upgrade() -> None:
    """Create what this revision adds."""
    for table, indexes in INDEXES.items():
        for name, columns in indexes.items():
            op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    """Drop what this revision added."""
    for table, indexes in INDEXES.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
