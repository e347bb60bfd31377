"""The portal's own SQL tables: web sessions and city sign-on links (Core, on the shared
metadata); times are unix seconds."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    Integer,
    String,
    Table,
)

from infra.metadata import metadata

ROLES = ("learner", "institution", "operator", "guardian")

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("label", String(200), nullable=False),
    Column("username", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    CheckConstraint(f"role IN {ROLES!r}", name="web_session_role"),
)

oidc_links = Table(
    "oidc_links",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("subject_hash", String(64), primary_key=True),
    Column("learner_id", String(36), nullable=False, index=True),
    Column("linked_at", Float, nullable=False),
)
"""City identities linked to learner accounts: the provider's subject is kept only as a keyed hash
(`KeyRing.tag("oidc subject", issuer + newline + subject)`)."""

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", BigInteger, primary_key=True),
    Column("window_end", BigInteger, primary_key=True, index=True),
    Column("count", Integer, nullable=False),
)
"""Requests counted per (scope, client) and fixed window by every portal host, when the database
is PostgreSQL (UNLOGGED there: counters need not survive a crash). `key` is a 64-bit hash of
the scope and client address keyed with a secret derived from the master key; rows are deleted
once their window has ended."""
