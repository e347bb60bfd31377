"""data protection: column keys, sealed columns, guardians, consents, corrections, the access log

Revision ID: 0014
Revises: 0013
Created: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from credentials.datamodel import valid_until_seconds
from infra.errors import MasterKeyError
from infra.sealing import (
    PREFIX,
    KeyRing,
    Sealed,
    generation_of,
    oidc_subject_hash,
    ring_of,
    store,
    stored_batches,
)
from infra.secrets import MASTER_KEY_ENV

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SESSION_ROLES = "role IN ('learner', 'institution', 'operator', 'guardian')"
OLD_SESSION_ROLES = "role IN ('learner', 'institution', 'operator')"
SEALED = {
    "bank_deposits": (("id",), ("credential", "report", "evidence", "review_reasons")),
    "bank_applications": (("id",), ("audit", "credentials", "set_aside")),
    "bank_reviews": (("id",), ("reasons",)),
    "bank_decisions": (("id",), ("document", "flag_reason")),
    "bank_appeals": (("id",), ("grounds", "reasons")),
    "verification_results": (("token",), ("credential",)),
    "shared_links": (("token",), ("credential_json",)),
    "presentation_requests": (("id",), ("report",)),
    "credentials": (("id",), ("signed", "anchored")),
    "idempotency": (("issuer_id", "key"), ("response",)),
    "bank_agreements": (("id",), ("reasons",)),
    "revocations": (("id",), ("note",)),
}
"""The columns this revision seals that held plain values before it: table -> (its primary
key, the sealed columns)."""


def upgrade() -> None:
    """Apply this revision."""
    _check_master_key()
    op.create_table(
        "column_keys",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("retired_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("generation", name=op.f("pk_column_keys")),
    )
    op.create_table(
        "bank_access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["bank_learners.id"],
            name=op.f("fk_bank_access_log_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_access_log")),
    )
    with op.batch_alter_table("bank_access_log", schema=None) as batch_op:
        batch_op.create_index("ix_bank_access_log_at", ["at"], unique=False)
        batch_op.create_index("ix_bank_access_log_learner_at", ["learner_id", "at"], unique=False)

    op.create_table(
        "bank_consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("text_version", sa.String(length=64), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("given_at", sa.Float(), nullable=False),
        sa.Column("withdrawn_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["bank_learners.id"],
            name=op.f("fk_bank_consents_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_consents")),
    )
    with op.batch_alter_table("bank_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bank_consents_learner_purpose", ["learner_id", "purpose"], unique=False
        )

    op.create_table(
        "bank_corrections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("about", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("routed_to", sa.String(length=64), nullable=False),
        sa.Column("request", Sealed("bank_corrections.request"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", Sealed("bank_corrections.answer"), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "about IN ('credential', 'deposit', 'decision', 'account')",
            name=op.f("ck_bank_corrections_correction_about"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'corrected', 'refused')",
            name=op.f("ck_bank_corrections_correction_status"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["bank_learners.id"],
            name=op.f("fk_bank_corrections_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_corrections")),
    )
    with op.batch_alter_table("bank_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_corrections_learner_id"), ["learner_id"], unique=False
        )
        batch_op.create_index(
            "ix_bank_corrections_routed_status", ["routed_to", "status"], unique=False
        )

    op.create_table(
        "bank_guardians",
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("guardian_did", sa.String(length=200), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["bank_consents.id"],
            name=op.f("fk_bank_guardians_consent_id_bank_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["bank_learners.id"],
            name=op.f("fk_bank_guardians_learner_id_bank_learners"),
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_bank_guardians")),
    )
    with op.batch_alter_table("bank_guardians", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_guardians_guardian_did"), ["guardian_did"], unique=False
        )

    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits", sa.Float(), nullable=True))

    with op.batch_alter_table("bank_learners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("birth_date", Sealed("bank_learners.birth_date"), nullable=True)
        )
        batch_op.add_column(sa.Column("closing_at", sa.Float(), nullable=True))

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_until", sa.Float(), nullable=True))
        batch_op.alter_column("signed", existing_type=sa.TEXT(), nullable=True)

    _recreate_web_sessions(SESSION_ROLES)
    links = op.get_bind().execute(sa.text(
        "SELECT issuer, subject, learner_id, linked_at FROM oidc_links")).all()
    op.drop_table("oidc_links")
    _create_oidc_links("subject_hash", sa.String(length=64))
    _seal_stored_values()
    _hash_city_links(links)


def downgrade() -> None:
    """Undo this revision: sealed values are opened back to plain; city links (kept only as
    keyed hashes) and web sessions are dropped."""
    _open_sealed_values()
    op.drop_table("oidc_links")
    _create_oidc_links("subject", sa.String(length=255))
    _recreate_web_sessions(OLD_SESSION_ROLES)
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.alter_column("signed", existing_type=sa.TEXT(), nullable=False)
        batch_op.drop_column("valid_until")
    with op.batch_alter_table("bank_learners", schema=None) as batch_op:
        batch_op.drop_column("closing_at")
        batch_op.drop_column("birth_date")
    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.drop_column("credits")
    op.drop_table("bank_guardians")
    op.drop_table("bank_corrections")
    op.drop_table("bank_consents")
    op.drop_table("bank_access_log")
    op.drop_table("column_keys")


def _recreate_web_sessions(roles: str) -> None:
    """Web sessions are short-lived: a new role check recreates their table (everyone signs in
    again)."""
    op.drop_table("web_sessions")
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
        sa.CheckConstraint(roles, name=op.f("ck_web_sessions_web_session_role")),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False
        )


def _create_oidc_links(subject: str, subject_type: sa.types.TypeEngine) -> None:
    op.create_table(
        "oidc_links",
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column(subject, subject_type, nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("linked_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", subject, name=op.f("pk_oidc_links")),
    )
    with op.batch_alter_table("oidc_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_links_learner_id"), ["learner_id"], unique=False
        )


def _ring(needed_for: str) -> KeyRing:
    """The key ring of the engine running the migration; a clear error naming the master key's
    variable when the database holds values that need it."""
    try:
        return ring_of(op.get_bind().dialect)
    except MasterKeyError:
        raise MasterKeyError(
            f"the database holds {needed_for}, which this upgrade seals with the master key: set "
            f"{MASTER_KEY_ENV} (or keep the data dir's master.key) and run it again") from None


def _check_master_key() -> None:
    """Refuse before changing anything when the database holds values to seal or city links to
    hash and the engine has no master key."""
    connection = op.get_bind()
    for table_name, (_keys, names) in SEALED.items():
        for name in names:
            value: sa.ColumnClause = sa.column(name)
            if connection.execute(sa.select(value).select_from(sa.table(table_name, value))
                                  .where(value.is_not(None)).limit(1)).first() is not None:
                _ring(f"values in {table_name}.{name}")
    if connection.execute(sa.text("SELECT 1 FROM oidc_links")).first() is not None:
        _ring("city sign-on links")


def _seal_stored_values() -> None:
    """Seal every plain value of the sealed columns (a value already sealed is left), filling
    the decisions' credits and the credentials' expiry from their documents on the way."""
    connection = op.get_bind()
    keys_table = sa.table("column_keys", sa.column("generation"), sa.column("created_at"))
    connection.execute(sa.insert(keys_table).values(generation=1, created_at=time.time()))
    found: dict[str, Callable[[str], dict]] = {
        "bank_decisions.document": lambda text: {"credits": _credits(text)},
        "credentials.signed": lambda text: {"valid_until": valid_until_seconds(text)},
        "credentials.anchored": lambda text: {"valid_until": valid_until_seconds(text)},
    }
    ring: KeyRing | None = None
    for table_name, (keys, names) in SEALED.items():
        for name in names:
            column = f"{table_name}.{name}"
            also = found.get(column, lambda _text: {})
            for rows in stored_batches(connection, table_name, keys, name, skip_prefix=PREFIX):
                ring = ring or _ring(f"plain values in {column}")
                for row in rows:
                    plain = row[-1]
                    store(connection, table_name, keys, row, name, ring.seal(plain, column),
                          **also(plain))


def _credits(document: str) -> float | None:
    """A decision document's total credits."""
    try:
        credits = json.loads(document).get("credits")
    except (ValueError, AttributeError):
        return None
    return float(credits) if isinstance(credits, int | float) else None


def _hash_city_links(links: Sequence[sa.Row]) -> None:
    """Keep the city links of the dropped table, their subjects as keyed hashes."""
    if not links:
        return
    ring = _ring(f"{len(links)} city sign-on links")
    links_table = sa.table("oidc_links", sa.column("issuer"), sa.column("subject_hash"),
                           sa.column("learner_id"), sa.column("linked_at"))
    op.get_bind().execute(sa.insert(links_table), [
        {"issuer": link.issuer, "subject_hash": oidc_subject_hash(ring, link.issuer, link.subject),
         "learner_id": link.learner_id, "linked_at": link.linked_at} for link in links])


def _open_sealed_values() -> None:
    """Open every sealed value back to the plain text it holds."""
    connection = op.get_bind()
    ring: KeyRing | None = None
    for table_name, (keys, names) in SEALED.items():
        for name in names:
            column = f"{table_name}.{name}"
            for rows in stored_batches(connection, table_name, keys, name):
                for row in rows:
                    if generation_of(row[-1]) is not None:
                        ring = ring or _ring(f"sealed values in {column}")
                        store(connection, table_name, keys, row, name, ring.open(row[-1], column))
