"""credential summary columns: credits and completion date beside each credential, filled in

Revision ID: 0002
Revises: 0001
Created: 2026-11-22 18:27:30.678949
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHUNK = 5_000

credentials = sa.table(
    "credentials",
    sa.column("id", sa.String),
    sa.column("signed", sa.Text),
    sa.column("credits", sa.Float),
    sa.column("completed_on", sa.String),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("completed_on", sa.String(length=10), nullable=True))
        batch_op.create_index(
            "ix_credentials_learner_issued", ["learner_did", "issued_at", "id"], unique=False
        )
    _fill_summaries(op.get_bind())


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index("ix_credentials_learner_issued")
        batch_op.drop_column("completed_on")
        batch_op.drop_column("credits")


def _fill_summaries(connection: sa.Connection) -> None:
    """Read credits and completion date out of every stored credential, a chunk at a time."""
    after = ""
    while True:
        rows = connection.execute(
            sa.select(credentials.c.id, credentials.c.signed)
            .where(credentials.c.id > after)
            .order_by(credentials.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        updates = [{"key": row.id, **_summary(row.signed)} for row in rows]
        connection.execute(
            credentials.update()
            .where(credentials.c.id == sa.bindparam("key"))
            .values(credits=sa.bindparam("credits"), completed_on=sa.bindparam("completed_on")),
            updates,
        )
        after = rows[-1].id


def _summary(signed: str) -> dict:
    subject = json.loads(signed).get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    credits = subject.get("creditsEarned")
    return {
        "credits": float(credits) if isinstance(credits, int | float) else None,
        "completed_on": subject.get("activityEndDate"),
    }
