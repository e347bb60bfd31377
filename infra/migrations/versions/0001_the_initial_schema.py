"""the initial schema

Revision ID: 0001
Revises: nothing
Created: 2026-11-22 18:21:07.445461
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_action_at", ["action", "at"], unique=False)
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "bank_learners",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("did", sa.String(length=200), nullable=False),
        sa.Column("identity_hash", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("activation_sha256", sa.String(length=64), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_learners")),
        sa.UniqueConstraint("did", name=op.f("uq_bank_learners_did")),
        sa.UniqueConstraint("identity_hash", name=op.f("uq_bank_learners_identity_hash")),
    )
    op.create_table(
        "bank_operator_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_bank_operator_tokens")),
    )
    op.create_table(
        "issuers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=128), nullable=False),
        sa.Column("chain_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=True),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("levels", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuers")),
        sa.UniqueConstraint("chain_id", name=op.f("uq_issuers_chain_id")),
        sa.UniqueConstraint("did", name=op.f("uq_issuers_did")),
    )
    op.create_table(
        "ledger_anchors",
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_ledger_anchors")),
    )
    with op.batch_alter_table("ledger_anchors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_anchors_issuer_id"), ["issuer_id"], unique=False
        )

    op.create_table(
        "ledger_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_cursor")),
    )
    op.create_table(
        "ledger_issuer_accounts",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_ledger_issuer_accounts")),
    )
    with op.batch_alter_table("ledger_issuer_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_issuer_accounts_issuer_id"), ["issuer_id"], unique=False
        )

    op.create_table(
        "ledger_issuers",
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("did", sa.String(length=128), nullable=False),
        sa.Column("kind_mask", sa.String(length=80), nullable=False),
        sa.Column("level_mask", sa.String(length=80), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_ledger_issuers")),
        sa.UniqueConstraint("did", name=op.f("uq_ledger_issuers_did")),
    )
    op.create_table(
        "ledger_revocations",
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("reason", sa.Integer(), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("root", "digest", name=op.f("pk_ledger_revocations")),
    )
    op.create_table(
        "ledger_rule_sets",
        sa.Column("rule_set_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("published_block", sa.BigInteger(), nullable=False),
        sa.Column("approved_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule_set_id", "version", name=op.f("pk_ledger_rule_sets")),
    )
    op.create_table(
        "ledger_signing_keys",
        sa.Column("issuer_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("retired_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", "public_key", name=op.f("pk_ledger_signing_keys")),
    )
    op.create_table(
        "oidc_links",
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("linked_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("pk_oidc_links")),
    )
    with op.batch_alter_table("oidc_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_links_learner_id"), ["learner_id"], unique=False)

    op.create_table(
        "shared_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("credential_json", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=True),
        sa.Column("subject_id", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "kind IN ('credential', 'transcript')", name=op.f("ck_shared_links_kind")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_shared_links")),
    )
    with op.batch_alter_table("shared_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shared_links_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "sign_in_failures",
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=False),
        sa.Column("last_failure", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key_sha256", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "role IN ('institution', 'operator')", name=op.f("ck_staff_accounts_staff_role")
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_staff_accounts")),
    )
    op.create_table(
        "verification_results",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_verification_results")),
    )
    with op.batch_alter_table("verification_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_results_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "web_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "role IN ('learner', 'institution', 'operator')",
            name=op.f("ck_web_sessions_web_session_role"),
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_api_tokens_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_api_tokens")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "bank_applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("rule_set_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("audit", sa.Text(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("set_aside", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["issuers.id"],
            name=op.f("fk_bank_applications_institution_id_issuers"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_applications_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_applications")),
    )
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_applications_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bank_applications_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "bank_deposits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=300), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("review_reasons", sa.Text(), nullable=True),
        sa.Column("deposited_at", sa.Float(), nullable=False),
        sa.Column("reviewed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_deposits_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_deposits")),
        sa.UniqueConstraint("learner_id", "credential_id", name="uq_bank_deposits_credential"),
    )
    with op.batch_alter_table("bank_deposits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_deposits_learner_id"), ["learner_id"], unique=False
        )
        batch_op.create_index("ix_bank_deposits_status", ["status"], unique=False)

    op.create_table(
        "bank_learner_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_learner_tokens_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_bank_learner_tokens")),
    )
    with op.batch_alter_table("bank_learner_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_learner_tokens_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "bank_targets",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("rule_set_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("chosen_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_targets_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_bank_targets")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("transaction_hash", sa.String(length=66), nullable=True),
        sa.Column("block", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("anchored_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_batches_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index("ix_batches_status_issuer", ["status", "issuer_id"], unique=False)

    op.create_table(
        "idempotency",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_idempotency_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("issuer_id", "key", name=op.f("pk_idempotency")),
    )
    op.create_table(
        "issuer_accounts",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_issuer_accounts_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_issuer_accounts")),
        sa.UniqueConstraint("address", name=op.f("uq_issuer_accounts_address")),
    )
    op.create_table(
        "issuer_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sealed_seed", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("retired_block", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_issuer_keys_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_issuer_keys_public_key")),
    )
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuer_keys_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "rule_sets",
        sa.Column("rule_set_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("transaction_hash", sa.String(length=66), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("approved_block", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_rule_sets_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("rule_set_id", "version", name=op.f("pk_rule_sets")),
    )
    op.create_table(
        "units",
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("framework", sa.String(length=64), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("eqf_level", sa.Integer(), nullable=True),
        sa.Column("credit_value", sa.Float(), nullable=False),
        sa.Column("credit_scheme", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("learning_outcomes", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_units_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("issuer_id", "code", "version", name=op.f("pk_units")),
    )
    op.create_table(
        "bank_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=False),
        sa.Column("appeal_deadline", sa.Float(), nullable=True),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.Column("flagged_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["bank_applications.id"],
            name=op.f("fk_bank_decisions_application_id_bank_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_decisions")),
        sa.UniqueConstraint("application_id", "sequence", name="uq_bank_decisions_sequence"),
    )
    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_bank_decisions_flagged", ["flagged", "in_force"], unique=False)

    op.create_table(
        "bank_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("excluded", sa.Text(), nullable=False),
        sa.Column("reviewed_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["bank_applications.id"],
            name=op.f("fk_bank_reviews_application_id_bank_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_reviews")),
        sa.UniqueConstraint("application_id", "stage", name="uq_bank_reviews_stage"),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("learner_did", sa.String(length=200), nullable=False),
        sa.Column("learner_hash", sa.String(length=80), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("unit_version", sa.Integer(), nullable=False),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("anchored", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_credentials_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_credentials_issuer_id_issuers")
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["issuer_keys.id"], name=op.f("fk_credentials_key_id_issuer_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint(
            "issuer_id", "learner_did", "unit_code", "session", name="uq_credentials_outcome"
        ),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index("ix_credentials_batch", ["batch_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credentials_learner_did"), ["learner_did"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credentials_learner_hash"), ["learner_hash"], unique=False
        )

    op.create_table(
        "bank_appeals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("filed_at", sa.Float(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["bank_decisions.id"],
            name=op.f("fk_bank_appeals_decision_id_bank_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_appeals")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_bank_appeals_decision_id")),
    )
    op.create_table(
        "bank_decision_credentials",
        sa.Column("decision_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=300), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["bank_decisions.id"],
            name=op.f("fk_bank_decision_credentials_decision_id_bank_decisions"),
        ),
        sa.PrimaryKeyConstraint(
            "decision_id", "credential_id", name=op.f("pk_bank_decision_credentials")
        ),
    )
    with op.batch_alter_table("bank_decision_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_decision_credentials_root"), ["root"], unique=False
        )

    op.create_table(
        "bank_transcripts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["credentials.id"], name=op.f("fk_bank_transcripts_id_credentials")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["bank_learners.id"],
            name=op.f("fk_bank_transcripts_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transcripts")),
    )
    with op.batch_alter_table("bank_transcripts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_transcripts_learner_id"), ["learner_id"], unique=False
        )

    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transaction_hash", sa.String(length=66), nullable=True),
        sa.Column("block", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_revocations_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_revocations_credential_id_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_id"], ["issuers.id"], name=op.f("fk_revocations_issuer_id_issuers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
        sa.UniqueConstraint("batch_id", "credential_id", name="uq_revocations_target"),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("revocations")
    with op.batch_alter_table("bank_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transcripts_learner_id"))

    op.drop_table("bank_transcripts")
    with op.batch_alter_table("bank_decision_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_decision_credentials_root"))

    op.drop_table("bank_decision_credentials")
    op.drop_table("bank_appeals")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_learner_hash"))
        batch_op.drop_index(batch_op.f("ix_credentials_learner_did"))
        batch_op.drop_index("ix_credentials_batch")

    op.drop_table("credentials")
    op.drop_table("bank_reviews")
    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_decisions_flagged")

    op.drop_table("bank_decisions")
    op.drop_table("units")
    op.drop_table("rule_sets")
    with op.batch_alter_table("issuer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuer_keys_issuer_id"))

    op.drop_table("issuer_keys")
    op.drop_table("issuer_accounts")
    op.drop_table("idempotency")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index("ix_batches_status_issuer")

    op.drop_table("batches")
    op.drop_table("bank_targets")
    with op.batch_alter_table("bank_learner_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_learner_tokens_learner_id"))

    op.drop_table("bank_learner_tokens")
    with op.batch_alter_table("bank_deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_deposits_status")
        batch_op.drop_index(batch_op.f("ix_bank_deposits_learner_id"))

    op.drop_table("bank_deposits")
    with op.batch_alter_table("bank_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_applications_learner_id"))
        batch_op.drop_index(batch_op.f("ix_bank_applications_institution_id"))

    op.drop_table("bank_applications")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_issuer_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("verification_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_results_expires_at"))

    op.drop_table("verification_results")
    op.drop_table("staff_accounts")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("shared_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_links_learner_id"))

    op.drop_table("shared_links")
    with op.batch_alter_table("oidc_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_links_learner_id"))

    op.drop_table("oidc_links")
    op.drop_table("ledger_signing_keys")
    op.drop_table("ledger_rule_sets")
    op.drop_table("ledger_revocations")
    op.drop_table("ledger_issuers")
    with op.batch_alter_table("ledger_issuer_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_issuer_accounts_issuer_id"))

    op.drop_table("ledger_issuer_accounts")
    op.drop_table("ledger_cursor")
    with op.batch_alter_table("ledger_anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_anchors_issuer_id"))

    op.drop_table("ledger_anchors")
    op.drop_table("issuers")
    op.drop_table("bank_operator_tokens")
    op.drop_table("bank_learners")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")
        batch_op.drop_index("ix_audit_log_action_at")

    op.drop_table("audit_log")
