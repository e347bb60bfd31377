"""What the consoles list: issuers, an issuer's batches and their credentials, rule sets."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from issuers.revocation import revocations_of
from issuers.tables import batches, credentials, issuers, revocations, rule_sets

PAGE_SIZE = 50


def issuer_list(engine: Engine) -> list[dict]:
    """Every accredited issuer, by name, with its scope and standing."""
    with engine.connect() as connection:
        rows = connection.execute(select(issuers).order_by(issuers.c.name)).mappings().all()
    return [{**dict(row), "kinds": row["kinds"].split(","), "levels": json.loads(row["levels"])}
            for row in rows]


def batch_page(engine: Engine, issuer_id: str, *, page: int = 1,
               status: str | None = None) -> tuple[list[dict], int]:
    """One page of the issuer's batches, newest first, and how many there are in all."""
    where = [batches.c.issuer_id == issuer_id]
    if status:
        where.append(batches.c.status == status)
    revoked = (select(revocations.c.status).where(revocations.c.batch_id == batches.c.id,
                                                  revocations.c.credential_id.is_(None))
               .scalar_subquery())
    query = (select(batches, revoked.label("revocation")).where(*where)
             .order_by(batches.c.opened_at.desc(), batches.c.id)
             .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(batches).where(*where))
        count = int(total.scalar_one())
        rows = connection.execute(query).mappings().all()
    return [_batch_row(dict(row)) for row in rows], count


def batch_credentials(engine: Engine, issuer_id: str, batch_id: str) -> list[dict]:
    """The credentials of one of the issuer's batches, in leaf order, with revocation status."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(credentials.c.id, credentials.c.learner_did, credentials.c.unit_code,
                   credentials.c.unit_version, credentials.c.session, credentials.c.position)
            .where(credentials.c.batch_id == batch_id, credentials.c.issuer_id == issuer_id)
            .order_by(credentials.c.position)).mappings().all()
    revoked = revocations_of(engine, batch_id)
    return [{**dict(row), "revocation": revoked.get(row["id"])} for row in rows]


def rule_set_list(engine: Engine, issuer_id: str | None = None) -> list[dict]:
    """Published rule-set versions (of one issuer, or all), newest first, with their programme."""
    query = select(rule_sets).order_by(rule_sets.c.published_at.desc(),
                                       rule_sets.c.rule_set_id, rule_sets.c.version.desc())
    if issuer_id is not None:
        query = query.where(rule_sets.c.issuer_id == issuer_id)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    listed = []
    for row in rows:
        document = json.loads(row["document"])
        listed.append({
            "rule_set_id": row["rule_set_id"],
            "version": row["version"],
            "issuer_id": row["issuer_id"],
            "programme": document["programme"],
            "valid_from": document.get("valid_from"),
            "rules": len(document["rules"]),
            "content_hash": "0x" + bytes(row["content_hash"]).hex(),
            "transaction_hash": row["transaction_hash"],
            "block": row["block"],
            "approved_block": row["approved_block"],
            "document": json.dumps(document, ensure_ascii=False, indent=2),
        })
    return listed


def _batch_row(row: dict) -> dict:
    return {
        "id": row["id"],
        "status": row["status"],
        "size": row["size"],
        "root": "0x" + bytes(row["root"]).hex() if row["root"] is not None else None,
        "transaction_hash": row["transaction_hash"],
        "block": row["block"],
        "error": row["error"],
        "opened_at": row["opened_at"],
        "anchored_at": row["anchored_at"],
        "revocation": row["revocation"],
    }
