"""What the issuer API and the consoles show of issuers, their batches, credentials and rule sets:
one shape for each, times in ISO 8601 UTC; an issuer's batches and credentials only to it."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import Engine, select

from infra.database import first_row
from infra.errors import NotFound
from infra.paging import keyset_page
from infra.times import iso_utc
from issuers.revocation import revocation_json, revocations_of
from issuers.tables import batches, credentials, issuers, revocations, rule_sets
from ledger.deployment import Deployment

PAGE_SIZE = 50


def issuer_list(engine: Engine) -> list[dict]:
    """Every accredited issuer, by name, with its scope and standing."""
    with engine.connect() as connection:
        rows = connection.execute(select(issuers).order_by(issuers.c.name)).mappings().all()
    return [
        {**dict(row), "kinds": row["kinds"].split(","), "levels": json.loads(row["levels"])}
        for row in rows
    ]


def credential_record(engine: Engine, issuer_id: str, credential_id: str) -> dict:
    """One of the issuer's credentials: status, batch, revocation and the credential itself (None
    once its learner closed their account and was erased: the entry stays, to revoke it)."""
    row = first_row(
        engine,
        select(credentials).where(
            credentials.c.id == credential_id, credentials.c.issuer_id == issuer_id
        ),
    )
    if row is None:
        raise NotFound(f"no credential {credential_id}")
    batch_revocations = revocations_of(engine, row["batch_id"])
    revocation = batch_revocations.get(row["id"]) or batch_revocations.get(None)
    if revocation is not None:
        status = "revoked" if revocation["status"] == "done" else "revoking"
    else:
        status = "signed" if row["anchored"] is None and row["signed"] is not None else "anchored"
    document = row["anchored"] or row["signed"]
    return {
        "id": row["id"],
        "status": status,
        "learner": row["learner_did"],
        "unit": row["unit_code"],
        "unit_version": row["unit_version"],
        "session": row["session"],
        "batch": row["batch_id"],
        "revocation": revocation,
        "credential": json.loads(document) if document is not None else None,
    }


def batch_record(engine: Engine, issuer_id: str, batch_id: str, deployment: Deployment) -> dict:
    """One of the issuer's batches, as `batch_json` shows it."""
    row = first_row(
        engine, select(batches).where(batches.c.id == batch_id, batches.c.issuer_id == issuer_id)
    )
    if row is None:
        raise NotFound(f"no batch {batch_id}")
    return batch_json(row, revocations_of(engine, batch_id).get(None), deployment)


def batch_page(
    engine: Engine,
    issuer_id: str,
    deployment: Deployment,
    *,
    after: str | None = None,
    status: str | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[dict], str | None]:
    """One page of the issuer's batches, newest first, after the cursor `after`, as `batch_json`
    shows them, and the next page's cursor (None on the last). The indexes on (issuer, opened,
    id) and (issuer, status, opened, id) serve it, so a page costs the same at any depth."""
    where = [batches.c.issuer_id == issuer_id]
    if status:
        where.append(batches.c.status == status)
    with engine.connect() as connection:
        page = keyset_page(connection, select(batches).where(*where),
                           (batches.c.opened_at, batches.c.id), after=after, limit=limit,
                           descending=True)
        revoked = {
            revocation["batch_id"]: revocation_json(dict(revocation))
            for revocation in connection.execute(
                select(revocations).where(
                    revocations.c.batch_id.in_([row["id"] for row in page.rows]),
                    revocations.c.credential_id.is_(None),
                )
            ).mappings()
        }
    return [batch_json(row, revoked.get(row["id"]), deployment) for row in page.rows], page.after


def batch_json(row: Mapping, revocation: dict | None, deployment: Deployment) -> dict:
    """A batch: status, and its root, transaction and block once anchored, with the revocation
    of the whole batch (or None)."""
    return {
        "id": row["id"],
        "status": row["status"],
        "size": row["size"],
        "root": _hex(row["root"]),
        "transaction_hash": row["transaction_hash"] if row["status"] == "anchored" else None,
        "block": row["block"],
        "chain_id": deployment.chain_id,
        "contract": deployment.credential_anchor,
        "error": row["error"],
        "opened_at": iso_utc(row["opened_at"]),
        "closed_at": iso_utc(row["closed_at"]),
        "anchored_at": iso_utc(row["anchored_at"]),
        "revocation": revocation,
    }


def batch_credentials(engine: Engine, issuer_id: str, batch_id: str, *,
                      after: str | None = None, before: str | None = None,
                      limit: int = PAGE_SIZE) -> tuple[list[dict], str | None, str | None]:
    """A page of the credentials of one of the issuer's batches, in leaf order, after the cursor
    `after` or before `before`, with their revocations; and the cursors of the next and previous
    pages. The index on (batch, position) serves it, the revocations' (batch, credential) the
    rest."""
    query = select(credentials.c.id, credentials.c.learner_did, credentials.c.unit_code,
                   credentials.c.unit_version, credentials.c.session, credentials.c.position
                   ).where(credentials.c.batch_id == batch_id,
                           credentials.c.issuer_id == issuer_id)
    with engine.connect() as connection:
        page = keyset_page(connection, query, (credentials.c.position,), after=after,
                           before=before, limit=limit)
        ids = [row["id"] for row in page.rows]
        revoked = {row["credential_id"]: revocation_json(dict(row))
                   for row in connection.execute(select(revocations).where(
                       revocations.c.batch_id == batch_id,
                       revocations.c.credential_id.in_(ids))).mappings()} if ids else {}
    return ([{**dict(row), "revocation": revoked.get(row["id"])} for row in page.rows],
            page.after, page.before)


def rule_set_list(engine: Engine, issuer_id: str | None = None) -> list[dict]:
    """Published rule-set versions (of one issuer, or all), newest first, with their programme."""
    query = select(rule_sets).order_by(
        rule_sets.c.published_at.desc(), rule_sets.c.rule_set_id, rule_sets.c.version.desc()
    )
    if issuer_id is not None:
        query = query.where(rule_sets.c.issuer_id == issuer_id)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    listed = []
    for row in rows:
        document = json.loads(row["document"])
        listed.append(
            {
                "rule_set_id": row["rule_set_id"],
                "version": row["version"],
                "issuer_id": row["issuer_id"],
                "programme": document["programme"],
                "valid_from": document.get("valid_from"),
                "rules": len(document["rules"]),
                "content_hash": _hex(row["content_hash"]),
                "transaction_hash": row["transaction_hash"],
                "block": row["block"],
                "approved_block": row["approved_block"],
                "document": json.dumps(document, ensure_ascii=False, indent=2),
            }
        )
    return listed


def _hex(value: bytes | None) -> str | None:
    return "0x" + bytes(value).hex() if value is not None else None
