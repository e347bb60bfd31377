"""the public credit bank: catalogue search (the newest version of each unit marked, its code
and title kept in lower case, and indexes in the catalogue's order)

Revision ID: 0009
Revises: 0008
Created: 2026-12-06 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHUNK = 5_000
INDEXES = {
    "ix_units_latest_issuer_code": ["latest", "issuer_id", "code", "search_text"],
    "ix_units_latest_kind": ["latest", "kind", "issuer_id", "code"],
    "ix_units_latest_level": ["latest", "level", "issuer_id", "code"],
    "ix_units_latest_category": ["latest", "category", "issuer_id", "code"],
}

units = sa.table(
    "units",
    sa.column("issuer_id", sa.String),
    sa.column("code", sa.String),
    sa.column("version", sa.Integer),
    sa.column("title", sa.String),
    sa.column("latest", sa.Boolean),
    sa.column("search_text", sa.String),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("latest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("search_text", sa.String(length=400), nullable=False, server_default="")
        )
    connection = op.get_bind()
    _mark_latest(connection)
    _fill_search_text(connection)
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.alter_column("latest", server_default=None)
        batch_op.alter_column("search_text", server_default=None)
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("units", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column("search_text")
        batch_op.drop_column("latest")


def _mark_latest(connection: sa.Connection) -> None:
    """Mark the newest version of each (issuer, code) as the latest."""
    newer = units.alias("newer")
    connection.execute(
        units.update()
        .where(
            ~sa.exists()
            .where(
                newer.c.issuer_id == units.c.issuer_id,
                newer.c.code == units.c.code,
                newer.c.version > units.c.version,
            )
            .correlate(units)
        )
        .values(latest=True)
    )


def _fill_search_text(connection: sa.Connection) -> None:
    """Every version's code and title in lower case, a chunk at a time (Python's lower case,
    as the catalogue writes it, so every letter folds alike on SQLite and PostgreSQL)."""
    after = ("", "", 0)
    while True:
        rows = connection.execute(
            sa.select(units.c.issuer_id, units.c.code, units.c.version, units.c.title)
            .where(sa.tuple_(units.c.issuer_id, units.c.code, units.c.version) > after)
            .order_by(units.c.issuer_id, units.c.code, units.c.version)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        connection.execute(
            units.update()
            .where(
                units.c.issuer_id == sa.bindparam("key_issuer"),
                units.c.code == sa.bindparam("key_code"),
                units.c.version == sa.bindparam("key_version"),
            )
            .values(search_text=sa.bindparam("text")),
            [{"key_issuer": row.issuer_id, "key_code": row.code, "key_version": row.version,
              "text": f"{row.code} {row.title}".lower()} for row in rows],
        )
        after = (rows[-1].issuer_id, rows[-1].code, rows[-1].version)
