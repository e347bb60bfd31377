"""The portal's SQL tables (Core, on the shared metadata); times are unix seconds."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Engine, Float, String, Table, Text

from ledger.sql import metadata

SHARE_KINDS = ("credential", "transcript")

verification_results = Table(
    "verification_results",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("credential", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

shared_links = Table(
    "shared_links",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("credential_json", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    CheckConstraint(f"kind IN {SHARE_KINDS!r}", name="kind"),
)

TABLES = (verification_results, shared_links)


def create_tables(engine: Engine) -> None:
    """Create the portal's tables if they do not exist yet."""
    metadata.create_all(engine, tables=list(TABLES))
