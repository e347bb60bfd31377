"""Learner identity: a national id becomes a peppered DID and a hashed identifier (in
`issuers.outcomes`, which signing processes import without a database; the names stay importable
from here), and what the bank holds issued to a learner."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import Connection, Engine, select, tuple_

from issuers.outcomes import learner_pepper, learner_ref, normalise_national_id
from issuers.tables import credentials, issuers, units

__all__ = ["learner_pepper", "learner_ref", "normalise_national_id"]


def credentials_of_learner(
    engine: Engine, learner_did: str, *, issuer_ids: Collection[str] | None = None
) -> list[dict]:
    """Every anchored credential delivered to a learner (by these issuers only, if given),
    oldest first."""
    query = (
        select(credentials.c.anchored)
        .where(credentials.c.learner_did == learner_did, credentials.c.anchored.is_not(None))
        .order_by(credentials.c.issued_at, credentials.c.id)
    )
    if issuer_ids is not None:
        query = query.where(credentials.c.issuer_id.in_(list(issuer_ids)))
    with engine.connect() as connection:
        return [json.loads(row.anchored) for row in connection.execute(query)]


def delivered_summaries(
    target: Engine | Connection,
    learner_did: str,
    *,
    after: tuple[float, str] | None,
    limit: int,
    issuer_ids: Collection[str] | None = None,
    before: tuple[float, str] | None = None,
    from_end: bool = False,
) -> list[dict]:
    """Up to `limit` anchored course credentials of a learner (by these issuers only, if given)
    after the (issued_at, id) cursor, oldest first, listed from their stored columns (no document
    is parsed); with `before` (or `from_end`), the last `limit` before that cursor (or of all)
    instead, still oldest first."""
    query = (
        select(
            credentials.c.id,
            credentials.c.issued_at,
            issuers.c.did.label("issuer"),
            issuers.c.name.label("issuer_name"),
            issuers.c.name_zh.label("issuer_name_zh"),
            credentials.c.unit_code.label("unit"),
            units.c.title,
            units.c.kind,
            credentials.c.credits,
            credentials.c.completed_on,
            units.c.framework,
            units.c.level,
        )
        .join(issuers, issuers.c.id == credentials.c.issuer_id)
        .join(
            units,
            (units.c.issuer_id == credentials.c.issuer_id)
            & (units.c.code == credentials.c.unit_code)
            & (units.c.version == credentials.c.unit_version),
        )
        .where(credentials.c.learner_did == learner_did, credentials.c.anchored.is_not(None))
        .limit(limit)
    )
    position = tuple_(credentials.c.issued_at, credentials.c.id)
    backwards = before is not None or from_end
    if backwards:
        query = query.order_by(credentials.c.issued_at.desc(), credentials.c.id.desc())
    else:
        query = query.order_by(credentials.c.issued_at, credentials.c.id)
    if after is not None:
        query = query.where(position > after)
    if before is not None:
        query = query.where(position < before)
    if issuer_ids is not None:
        query = query.where(credentials.c.issuer_id.in_(list(issuer_ids)))
    if isinstance(target, Connection):
        found = [dict(row._mapping) for row in target.execute(query)]
    else:
        with target.connect() as connection:
            found = [dict(row._mapping) for row in connection.execute(query)]
    return found[::-1] if backwards else found
