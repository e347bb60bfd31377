"""What the issuer API shows of its credentials and batches, always scoped to one issuer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from issuers.errors import NotFound
from issuers.revocation import revocations_of
from issuers.tables import batches, credentials
from ledger.deployment import Deployment


def credential_record(engine: Engine, issuer_id: str, credential_id: str) -> dict:
    """One of the issuer's credentials: status, batch, revocation and the credential itself."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(credentials).where(
                    credentials.c.id == credential_id, credentials.c.issuer_id == issuer_id
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(f"no credential {credential_id}")
    batch_revocations = revocations_of(engine, row["batch_id"])
    revocation = batch_revocations.get(row["id"]) or batch_revocations.get(None)
    if revocation is not None:
        status = "revoked" if revocation["status"] == "done" else "revoking"
    else:
        status = "anchored" if row["anchored"] is not None else "signed"
    return {
        "id": row["id"],
        "status": status,
        "learner": row["learner_did"],
        "unit": row["unit_code"],
        "unit_version": row["unit_version"],
        "session": row["session"],
        "batch": row["batch_id"],
        "revocation": revocation,
        "credential": json.loads(row["anchored"] or row["signed"]),
    }


def batch_record(engine: Engine, issuer_id: str, batch_id: str, deployment: Deployment) -> dict:
    """One of the issuer's batches: status and, once anchored, its root, transaction and block."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(batches).where(batches.c.id == batch_id, batches.c.issuer_id == issuer_id)
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(f"no batch {batch_id}")
    return {
        "id": row["id"],
        "status": row["status"],
        "size": row["size"],
        "root": "0x" + bytes(row["root"]).hex() if row["root"] is not None else None,
        "transaction_hash": row["transaction_hash"] if row["status"] == "anchored" else None,
        "block": row["block"],
        "chain_id": deployment.chain_id,
        "contract": deployment.credential_anchor,
        "error": row["error"],
        "opened_at": _iso(row["opened_at"]),
        "closed_at": _iso(row["closed_at"]),
        "anchored_at": _iso(row["anchored_at"]),
        "revocation": revocations_of(engine, batch_id).get(None),
    }


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
