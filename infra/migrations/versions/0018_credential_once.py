"""a credential stored once: an anchored credential keeps only its anchored document

The anchored document is the signed one plus its anchor proof, so `credentials.signed` is
emptied once `anchored` is written (issuers.anchoring does it in the same UPDATE from now on);
readers take `anchored` when present, else `signed`. The downgrade writes `signed` back: the
anchored document without its anchor proof, checked against the credential's Merkle digest (the
digest of exactly that document), and refuses if a document does not give it back.

Revision ID: 0018
Revises: 0017
Created: 2026-12-06 09:30:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

from credentials.anchoring import without_anchor
from credentials.errors import MalformedProof
from credentials.merkle import credential_digest
from infra.errors import MasterKeyError
from infra.sealing import KeyRing, ring_of
from infra.secrets import MASTER_KEY_ENV

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BATCH = 5_000
"""Credentials a statement reads or changes."""

CREDENTIALS = sa.table("credentials", sa.column("id"), sa.column("digest"), sa.column("signed"),
                       sa.column("anchored"))
"""The credentials' columns as stored (sealed values are not opened here)."""


def upgrade() -> None:
    """Empty `signed` where `anchored` holds the same document with its anchor proof."""
    connection = op.get_bind()
    for first, last in _ranges(connection):
        connection.execute(sa.update(CREDENTIALS).where(
            CREDENTIALS.c.id >= first, CREDENTIALS.c.id <= last,
            CREDENTIALS.c.anchored.is_not(None), CREDENTIALS.c.signed.is_not(None),
        ).values(signed=None))


def downgrade() -> None:
    """Write `signed` back from `anchored` (the document without its anchor proof)."""
    connection = op.get_bind()
    ring: KeyRing | None = None
    for first, last in _ranges(connection):
        rows = connection.execute(sa.select(CREDENTIALS.c.id, CREDENTIALS.c.digest,
                                            CREDENTIALS.c.anchored).where(
            CREDENTIALS.c.id >= first, CREDENTIALS.c.id <= last,
            CREDENTIALS.c.anchored.is_not(None), CREDENTIALS.c.signed.is_(None),
        )).all()
        if not rows:
            continue
        ring = ring or _ring(len(rows))
        connection.execute(
            sa.update(CREDENTIALS).where(CREDENTIALS.c.id == sa.bindparam("key"))
            .values(signed=sa.bindparam("signed")),
            [{"key": row.id, "signed": ring.seal(_signed(ring, row), "credentials.signed")}
             for row in rows])


def _ranges(connection: sa.Connection) -> Iterator[tuple[str, str]]:
    """The credentials' ids in ranges of `BATCH`, by the primary key (first and last id)."""
    after: str | None = None
    while True:
        query = sa.select(CREDENTIALS.c.id).order_by(CREDENTIALS.c.id).limit(BATCH)
        if after is not None:
            query = query.where(CREDENTIALS.c.id > after)
        ids: Sequence[str] = connection.execute(query).scalars().all()
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


def _signed(ring: KeyRing, row: sa.Row) -> str:
    """The signed text of an anchored credential; refuses when it is not exactly recovered."""
    try:
        document = without_anchor(json.loads(ring.open(row.anchored, "credentials.anchored")))
        recovered = credential_digest(document) == bytes(row.digest)
    except (ValueError, MalformedProof):
        recovered = False
    if not recovered:
        raise RuntimeError(
            f"credential {row.id}: its anchored document without the anchor proof does not "
            f"give back the signed credential its digest was computed over: the downgrade "
            f"stops here (its transaction is rolled back)")
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _ring(count: int) -> KeyRing:
    """The key ring of the engine running the migration; a clear error naming the master key's
    variable when there is none."""
    try:
        return ring_of(op.get_bind().dialect)
    except MasterKeyError:
        raise MasterKeyError(
            f"the database holds {count} or more anchored credentials whose signed documents this "
            f"downgrade writes back sealed with the master key: set {MASTER_KEY_ENV} (or keep "
            f"the data dir's master.key) and run it again") from None
