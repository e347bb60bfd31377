"""The issuer service's SQL tables (Core, on the shared metadata); times are unix seconds."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    table,
)

from infra.metadata import metadata
from infra.sealing import Sealed

issuers = Table(
    "issuers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("did", String(128), nullable=False, unique=True),
    Column("chain_id", LargeBinary(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_zh", String(200)),
    Column("url", String(300)),
    Column("kinds", String(200), nullable=False),
    Column("levels", String(200), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

issuer_keys = Table(
    "issuer_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False, index=True),
    Column("public_key", LargeBinary(32), nullable=False, unique=True),
    Column("sealed_seed", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("registered_block", BigInteger, nullable=False),
    Column("retired_block", BigInteger),
)

issuer_accounts = Table(
    "issuer_accounts",
    metadata,
    Column("issuer_id", String(64), ForeignKey("issuers.id"), primary_key=True),
    Column("address", String(42), nullable=False, unique=True),
    Column("sealed_key", Text, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("issuer_id", String(64), ForeignKey("issuers.id"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("framework", String(64)),
    Column("level", Integer),
    Column("eqf_level", Integer),
    Column("credit_value", Float, nullable=False),
    Column("credit_scheme", String(64), nullable=False),
    Column("hours", Float),
    Column("category", String(200)),
    Column("learning_outcomes", Text, nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_until", String(10)),
    Column("created_at", Float, nullable=False),
    Column("latest", Boolean, nullable=False, default=True),
    Column("search_text", String(400), nullable=False),
    Index("ix_units_latest_issuer_code", "latest", "issuer_id", "code", "search_text"),
    Index("ix_units_latest_kind", "latest", "kind", "issuer_id", "code"),
    Index("ix_units_latest_level", "latest", "level", "issuer_id", "code"),
    Index("ix_units_latest_category", "latest", "category", "issuer_id", "code"),
)
"""Every version of every unit; `latest` marks the newest version of each (issuer, code), the
one the public catalogue lists and searches, and `search_text` is its code and title in lower
case (what a text search reads). Each index serves a filter in the catalogue's own order
(issuer, code), so a page stops at its last row instead of sorting every match."""

batches = Table(
    "batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("root", LargeBinary(32)),
    Column("transaction_hash", String(66)),
    Column("block", BigInteger),
    Column("error", Text),
    Column("opened_at", Float, nullable=False),
    Column("closed_at", Float),
    Column("sent_at", Float),
    Column("anchored_at", Float),
    Index("ix_batches_status_issuer", "status", "issuer_id"),
    Index("ix_batches_issuer_opened", "issuer_id", "opened_at", "id"),
    Index("ix_batches_issuer_status_opened", "issuer_id", "status", "opened_at", "id"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False),
    Column("learner_did", String(200), nullable=False, index=True),
    Column("learner_hash", String(80), nullable=False, index=True),
    Column("unit_code", String(64), nullable=False),
    Column("unit_version", Integer, nullable=False),
    Column("session", String(64), nullable=False),
    Column("key_id", Integer, ForeignKey("issuer_keys.id"), nullable=False),
    Column("batch_id", String(36), ForeignKey("batches.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("signed", Sealed("credentials.signed")),
    Column("anchored", Sealed("credentials.anchored")),
    Column("issued_at", Float, nullable=False),
    Column("credits", Float),
    Column("completed_on", String(10)),
    Column("valid_until", Float),
    Column("status_list", Integer),
    Column("status_index", Integer),
    UniqueConstraint(
        "issuer_id", "learner_did", "unit_code", "session", name="uq_credentials_outcome"
    ),
    Index("ix_credentials_batch", "batch_id", "position"),
    Index("ix_credentials_learner_issued", "learner_did", "issued_at", "id"),
)

stored_credentials = table(
    "credentials",
    *(column(each.name, each.type.impl if isinstance(each.type, Sealed) else each.type)
      for each in credentials.columns),
)
"""The credentials table with its sealed columns read and written as stored (sealed already by a
signing process, opened there): issuance's bulk insert and anchoring's update."""

status_lists = Table(
    "status_lists",
    metadata,
    Column("issuer_id", String(64), ForeignKey("issuers.id"), primary_key=True),
    Column("list", Integer, primary_key=True, autoincrement=False),
    Column("allocated", Integer, nullable=False),
    Column("opened_at", Float, nullable=False),
)

published_status_lists = Table(
    "published_status_lists",
    metadata,
    Column("issuer_id", String(64), ForeignKey("issuers.id"), primary_key=True),
    Column("list", Integer, primary_key=True, autoincrement=False),
    Column("purpose", String(16), primary_key=True),
    Column("document", Text, nullable=False),
    Column("etag", String(66), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("built_at", Float, nullable=False),
)

revocations = Table(
    "revocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False),
    Column("batch_id", String(36), ForeignKey("batches.id"), nullable=False),
    Column("credential_id", String(64), ForeignKey("credentials.id")),
    Column("reason", Integer, nullable=False),
    Column("note", Sealed("revocations.note")),
    Column("status", String(16), nullable=False),
    Column("transaction_hash", String(66)),
    Column("block", BigInteger),
    Column("error", Text),
    Column("requested_at", Float, nullable=False),
    Column("done_at", Float),
    UniqueConstraint("batch_id", "credential_id", name="uq_revocations_target"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("issuer_id", String(64), ForeignKey("issuers.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", Sealed("idempotency.response"), nullable=False),
    Column("created_at", Float, nullable=False),
)

rule_sets = Table(
    "rule_sets",
    metadata,
    Column("rule_set_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("issuer_id", String(64), ForeignKey("issuers.id"), nullable=False),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("document", Text, nullable=False),
    Column("transaction_hash", String(66), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("approved_block", BigInteger),
    Column("published_at", Float, nullable=False),
)
