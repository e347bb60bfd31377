"""Bitstring status lists: each credential's entries, allocated at issuance, and each list
published from the chain, signed by its issuer.

A credential gets the same index in its issuer's `revocation` and `suspension` lists of one list
number. Positions are handed out in order by a counter per issuer and list (claimed in runs, so
a batch of issuance costs one update), then mapped to indexes by a keyed permutation per issuer
and list, so an index tells nothing of when a credential was issued and two never collide.

The chain stays the source of truth: a revocation bit is set when the batch root, or the
credential's digest in its batch, is revoked on chain (the indexer's `ledger_revocations`, synced
first), and a suspension list is all ones while the registry says the issuer is suspended.

Freshness: the anchoring worker (`creditbank worker`, and the thread in every portal process)
republishes every PUBLISH_PERIOD seconds, and answers may be cached for MAX_AGE seconds, so a
revocation shows to any verifier within PUBLISH_PERIOD + MAX_AGE (+ the build, about 1 ms a
list) = about 7 s of its block, inside the 10 s the bank promises.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import sign
from credentials.status import (
    LIST_SIZE,
    PURPOSES,
    IndexPermutation,
    StatusEntry,
    bitstring_of,
    list_credential,
)
from infra.errors import NotFound
from infra.secrets import derive_secret
from infra.times import iso_utc
from issuers.registry import signing_key
from issuers.tables import batches, credentials, issuers, published_status_lists, status_lists
from ledger.client import Ledger
from ledger.indexer import EMPTY_DIGEST, Indexer
from ledger.indexer import revocations as chain_revocations
from ledger.views import ChainView

logger = logging.getLogger(__name__)

STATUS_PATH = "/status"
MAX_AGE = 5
PUBLISH_PERIOD = 2.0
LIST_CRYPTOSUITE = "eddsa-rdfc-2022"
MEDIA_TYPE = "application/vc+ld+json"


@dataclass(frozen=True)
class Placement:
    """Where one credential's status lives: its issuer's list number and its index there."""

    list: int
    index: int


@dataclass(frozen=True)
class Published:
    """A list credential as published: its JSON text, strong ETag, and when it was built."""

    document: str
    etag: str
    block: int
    built_at: float


def list_url(public_url: str, issuer_id: str, list_number: int, purpose: str) -> str:
    """The stable URL of one of an issuer's list credentials."""
    return f"{public_url.rstrip('/')}{STATUS_PATH}/{issuer_id}/{list_number}/{purpose}"


def entries(public_url: str, issuer_id: str, placement: Placement) -> tuple[StatusEntry, ...]:
    """A credential's entries: the same index in the revocation and suspension lists."""
    return tuple(
        StatusEntry(purpose, list_url(public_url, issuer_id, placement.list, purpose),
                    placement.index)
        for purpose in PURPOSES
    )


def permutation(master_key: bytes, issuer_id: str, list_number: int) -> IndexPermutation:
    """The keyed permutation of one of an issuer's lists (its key derived from the master key)."""
    return _permutation(master_key, issuer_id, list_number)


@lru_cache(maxsize=64)
def _permutation(master_key: bytes, issuer_id: str, list_number: int) -> IndexPermutation:
    secret = derive_secret(master_key, f"creditbank status list {issuer_id} {list_number}".encode())
    return IndexPermutation(secret, LIST_SIZE)


def allocate(connection: Connection, master_key: bytes, issuer_id: str,
             count: int) -> list[Placement]:
    """Places for `count` new credentials of the issuer, claimed in runs of its lists' counters
    on the caller's transaction (a full list is followed by a new one)."""
    placements: list[Placement] = []
    now = time.time()
    while len(placements) < count:
        current = connection.execute(
            select(status_lists.c.list, status_lists.c.allocated)
            .where(status_lists.c.issuer_id == issuer_id)
            .order_by(status_lists.c.list.desc())
            .limit(1)
        ).first()
        if current is None or current.allocated >= LIST_SIZE:
            number = 0 if current is None else current.list + 1
            try:
                with connection.begin_nested():
                    connection.execute(insert(status_lists).values(
                        issuer_id=issuer_id, list=number, allocated=0, opened_at=now))
            except IntegrityError:
                pass  # another transaction opened this list first: claim from it
            continue
        take = min(count - len(placements), LIST_SIZE - current.allocated)
        claimed = connection.execute(
            update(status_lists)
            .where(status_lists.c.issuer_id == issuer_id, status_lists.c.list == current.list,
                   status_lists.c.allocated == current.allocated)
            .values(allocated=current.allocated + take)
        )
        if claimed.rowcount == 1:
            permute = permutation(master_key, issuer_id, current.list)
            placements.extend(Placement(current.list, permute(position)) for position in
                              range(current.allocated, current.allocated + take))
    return placements


class StatusLists:
    """Builds, signs and stores an issuer's list credentials from the chain's state."""

    def __init__(self, engine: Engine, ledger: Ledger, *, master_key: bytes,
                 public_url: str) -> None:
        self.engine = engine
        self.ledger = ledger
        self.view = ChainView(ledger)
        self.master_key = master_key
        self.public_url = public_url

    def refresh(self) -> int:
        """Index the chain's new revocations, then republish every list whose state changed;
        returns how many list credentials were published."""
        Indexer(self.ledger, self.engine).sync()
        block = Indexer(self.ledger, self.engine).indexed_block()
        with self.engine.connect() as connection:
            lists = connection.execute(
                select(status_lists.c.issuer_id, status_lists.c.list, issuers.c.did)
                .join(issuers, issuers.c.id == status_lists.c.issuer_id)
            ).all()
            stored = {(row.issuer_id, row.list, row.purpose): row.fingerprint
                      for row in connection.execute(select(
                          published_status_lists.c.issuer_id, published_status_lists.c.list,
                          published_status_lists.c.purpose,
                          published_status_lists.c.fingerprint))}
        revoked = self._revoked()
        signers: dict[str, tuple[SigningKey, bool] | None] = {}
        count = 0
        for issuer_id, number, did in lists:
            if issuer_id not in signers:
                signers[issuer_id] = self._signer(issuer_id, did)
            signer = signers[issuer_id]
            if signer is None:
                continue
            key, suspended = signer
            for purpose in PURPOSES:
                state: object = (sorted(revoked.get((issuer_id, number), ()))
                                 if purpose == "revocation" else suspended)
                count += self._publish(issuer_id, did, number, purpose, block, key, state,
                                       stored.get((issuer_id, number, purpose)))
        return count

    def _signer(self, issuer_id: str, did: str) -> tuple[SigningKey, bool] | None:
        """The issuer's active key and whether the chain says it is suspended (None, and
        nothing published, for an issuer without an active key)."""
        try:
            _, key = signing_key(self.engine, self.master_key, issuer_id)
        except NotFound:
            logger.warning("issuer %s has no active key; its status lists stay as they are",
                           issuer_id)
            return None
        record = self.view.issuer_by_did(did)
        return key, record is not None and record.suspended

    def published(self, issuer_id: str, list_number: int, purpose: str) -> Published | None:
        """The list credential as published, built now if the list exists but was never
        published; None for a list that does not exist."""
        found = _published(self.engine, issuer_id, list_number, purpose)
        if found is not None or purpose not in PURPOSES:
            return found
        with self.engine.connect() as connection:
            exists = connection.scalar(select(status_lists.c.list).where(
                status_lists.c.issuer_id == issuer_id, status_lists.c.list == list_number))
        if exists is None:
            return None
        self.refresh()
        return _published(self.engine, issuer_id, list_number, purpose)

    def _revoked(self) -> dict[tuple[str, int], set[int]]:
        """The indexes, by issuer and list, of credentials whose batch or digest is revoked."""
        query = (
            select(credentials.c.issuer_id, credentials.c.status_list, credentials.c.status_index)
            .select_from(chain_revocations)
            .join(batches, batches.c.root == chain_revocations.c.root)
            .join(credentials, and_(
                credentials.c.batch_id == batches.c.id,
                or_(chain_revocations.c.digest == EMPTY_DIGEST,
                    chain_revocations.c.digest == credentials.c.digest)))
            .where(credentials.c.status_list.is_not(None))
        )
        found: dict[tuple[str, int], set[int]] = defaultdict(set)
        with self.engine.connect() as connection:
            for issuer_id, number, index in connection.execute(query):
                found[(issuer_id, number)].add(index)
        return found

    def _publish(self, issuer_id: str, did: str, number: int, purpose: str, block: int,
                 key: SigningKey, state: object, stored: str | None) -> int:
        """Sign and store one list credential unless its state (the revoked indexes, or
        whether the issuer is suspended) is the one stored; returns 0 or 1."""
        fingerprint = hashlib.sha256(json.dumps(
            [did, number, purpose, key.public_key.hex(), state]).encode()).hexdigest()
        if fingerprint == stored:
            return 0
        if isinstance(state, list):
            bitstring = bitstring_of(state)
        else:
            bitstring = bitstring_of((), value=1 if state else 0)
        now = time.time()
        url = list_url(self.public_url, issuer_id, number, purpose)
        unsigned = list_credential(list_url=url, issuer=did, purpose=purpose,
                                   bitstring=bitstring, valid_from=iso_utc(now))
        signed = sign(unsigned, key, verification_method=verification_method_id(
            did, key.public_key), cryptosuite=LIST_CRYPTOSUITE, created=iso_utc(now))
        text = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
        values = {"document": text, "etag": f'"{hashlib.sha256(text.encode()).hexdigest()}"',
                  "fingerprint": fingerprint, "block": block, "built_at": now}
        key_columns = {"issuer_id": issuer_id, "list": number, "purpose": purpose}
        with self.engine.begin() as connection:
            updated = connection.execute(update(published_status_lists).where(
                *(published_status_lists.c[name] == value for name, value in
                  key_columns.items())).values(**values))
            if updated.rowcount == 0:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(published_status_lists).values(
                            **key_columns, **values))
                except IntegrityError:
                    logger.info("status list %s was published by another process", url)
                    return 0
        return 1


class PublishedStatusLists:
    """The status-list source of our own verifier: the lists this bank published, read from
    the database by URL (None for any other URL or a list not yet published)."""

    def __init__(self, engine: Engine, public_url: str) -> None:
        self.engine = engine
        self.prefix = public_url.rstrip("/") + STATUS_PATH + "/"

    def status_list(self, url: str) -> dict | None:
        """The signed list credential published at `url`, or None."""
        if not url.startswith(self.prefix) or urlsplit(url).query or "#" in url:
            return None
        parts = url[len(self.prefix):].split("/")
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 9:
            return None
        found = _published(self.engine, parts[0], int(parts[1]), parts[2])
        return None if found is None else json.loads(found.document)


def _published(engine: Engine, issuer_id: str, list_number: int,
               purpose: str) -> Published | None:
    """The stored list credential, or None."""
    with engine.connect() as connection:
        row = connection.execute(
            select(published_status_lists.c.document, published_status_lists.c.etag,
                   published_status_lists.c.block, published_status_lists.c.built_at)
            .where(published_status_lists.c.issuer_id == issuer_id,
                   published_status_lists.c.list == list_number,
                   published_status_lists.c.purpose == purpose)
        ).first()
    return None if row is None else Published(row.document, row.etag, row.block, row.built_at)
