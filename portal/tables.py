"""The portal's SQL tables (Core, on the shared metadata); times are unix seconds."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
)

from ledger.sql import metadata

SHARE_KINDS = ("credential", "transcript")
ROLES = ("learner", "institution", "operator")
STAFF_ROLES = ("institution", "operator")

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
    Column("learner_id", String(36), index=True),
    Column("subject_id", String(300)),
    CheckConstraint(f"kind IN {SHARE_KINDS!r}", name="kind"),
)

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

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key_sha256", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", Float, nullable=False),
    Column("last_failure", Float, nullable=False),
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("issuer_id", String(64)),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    CheckConstraint(f"role IN {STAFF_ROLES!r}", name="staff_role"),
)

oidc_links = Table(
    "oidc_links",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("learner_id", String(36), nullable=False, index=True),
    Column("linked_at", Float, nullable=False),
)
