"""Revocation requests for a credential or a whole batch; the worker puts them on chain."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from infra.audit import record
from infra.errors import Conflict, InfraError, NotFound
from issuers.schemas import reason_name
from issuers.tables import batches, credentials, revocations


def request_revocation(
    connection: Connection,
    issuer_id: str,
    *,
    reason: int,
    credential_id: str | None = None,
    batch_id: str | None = None,
    note: str | None = None,
    actor: str,
) -> dict:
    """Record that the issuer revokes one credential or one batch (exactly one of them)."""
    if (credential_id is None) == (batch_id is None):
        raise ValueError("revoke either a credential or a batch")
    if credential_id is not None:
        batch_id = connection.execute(
            select(credentials.c.batch_id).where(
                credentials.c.id == credential_id, credentials.c.issuer_id == issuer_id
            )
        ).scalar_one_or_none()
        if batch_id is None:
            raise NotFound(f"no credential {credential_id}")
    elif (
        connection.execute(
            select(batches.c.id).where(batches.c.id == batch_id, batches.c.issuer_id == issuer_id)
        ).first()
        is None
    ):
        raise NotFound(f"no batch {batch_id}")
    existing = connection.execute(
        select(revocations.c.id).where(
            revocations.c.batch_id == batch_id,
            revocations.c.credential_id == credential_id
            if credential_id
            else revocations.c.credential_id.is_(None),
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{credential_id or batch_id} is already revoked")
    try:
        result = connection.execute(
            insert(revocations).values(
                issuer_id=issuer_id,
                batch_id=batch_id,
                credential_id=credential_id,
                reason=reason,
                note=note,
                status="pending",
                requested_at=time.time(),
            )
        )
    except IntegrityError:
        raise Conflict(f"{credential_id or batch_id} is already revoked") from None
    record(connection, actor=actor, action="credential.revoke" if credential_id else "batch.revoke",
           subject=credential_id or str(batch_id), details={"reason": reason, "batch": batch_id})
    key = result.inserted_primary_key
    if key is None:
        raise InfraError("the database returned no id for the new revocation")
    row = (
        connection.execute(select(revocations).where(revocations.c.id == key[0]))
        .mappings()
        .one()
    )
    return revocation_json(dict(row))


def revocations_of(engine: Engine, batch_id: str) -> dict[str | None, dict]:
    """The revocations in a batch, by credential id (None: the whole batch)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(revocations).where(revocations.c.batch_id == batch_id)
        ).mappings()
        return {row["credential_id"]: revocation_json(dict(row)) for row in rows}


def revocation_json(row: dict) -> dict:
    """A revocation as the API shows it."""
    return {
        "id": row["id"],
        "batch": row["batch_id"],
        "credential": row["credential_id"],
        "reason": reason_name(row["reason"]),
        "note": row["note"],
        "status": row["status"],
        "transaction_hash": row["transaction_hash"],
        "block": row["block"],
    }
