"""A ledger view that remembers chain facts across requests: immutable facts for good, mutable
ones for a few seconds.

Immutable once seen: a root's anchor (who anchored it, in which block), the roots a mined
transaction anchored, the chain id and the anchor contract. Mutable, kept `ttl` seconds: an
issuer's accreditation (scope, window, suspension), a key's retirement, and the absence of an
anchor. Revocations are permanent on chain: they are read from the contract's events, every
revocation since the last block read, at most once every `ttl` seconds (not one call per
credential). The first read goes back `backfill` blocks from the head (the whole chain when it
is younger), so a process starts in a few queries on a chain of any age; a batch anchored before
that is asked of the contract once, at the head (nodes such as Besu keep no state of old
blocks), and the answer kept for good, since any later revocation is in the events. So a
revocation, a suspension or a key retirement is seen by verifiers at most `ttl` seconds after
it is sealed. Failed look-ups (ledger unreachable) are never kept: they stay INDETERMINATE. The
chain is assumed final once sealed (QBFT, or the embedded node).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation
from verify.abc import RevocationFeed

T = TypeVar("T")

DEFAULT_TTL = 5.0
DEFAULT_ENTRIES = 200_000
# Blocks of revocation events read on a process's first look: a day of 2-second blocks.
DEFAULT_BACKFILL = 43_200
FOREVER = float("inf")


class CachedLedgerView:
    """Wraps a ledger view with a revocation feed (thread-safe); share one per process."""

    def __init__(
        self,
        view: RevocationFeed,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_ENTRIES,
        backfill: int = DEFAULT_BACKFILL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 1 or backfill < 1:
            raise ValueError("ttl must be >= 0, max_entries and backfill >= 1")
        self.view = view
        self.ttl = ttl
        self.max_entries = max_entries
        self.backfill = backfill
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._revocations: dict[tuple[bytes, bytes | None], Revocation] = {}
        self._events_from = -1
        self._revocations_from = 0
        self._revocations_until = -FOREVER
        self._refresh = threading.Lock()

    def chain_id(self) -> int:
        """The chain id (kept for good)."""
        return self._get(("chain_id",), self.view.chain_id, lambda _: FOREVER)

    def anchor_contract(self) -> str:
        """The anchor contract's address (kept for good)."""
        return self._get(("anchor_contract",), self.view.anchor_contract, lambda _: FOREVER)

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """A root's anchor: kept for good once anchored, `ttl` seconds while not."""
        return self._get(("anchor", bytes(root)), lambda: self.view.anchor(root), self._final)

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots a transaction anchored: kept for good once mined with roots."""
        key = ("anchored_in", transaction_hash.lower())
        roots = self._get(key, lambda: frozenset(self.view.anchored_in(transaction_hash)),
                          self._final)
        return set(roots)

    def root_revocation(self, root: bytes) -> Revocation | None:
        """A batch's revocation, as of the events read at most `ttl` seconds ago."""
        return self._revocation(bytes(root), None)

    def leaf_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """A credential's revocation, as of the events read at most `ttl` seconds ago."""
        return self._revocation(bytes(root), bytes(leaf))

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """An issuer's accreditation (`ttl` seconds)."""
        return self._get(("issuer", did), lambda: self.view.issuer_by_did(did), self._mutable)

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """A key's registration and retirement (`ttl` seconds)."""
        return self._get(("key", bytes(issuer_id), bytes(public_key)),
                         lambda: self.view.key(issuer_id, public_key), self._mutable)

    def _revocation(self, root: bytes, leaf: bytes | None) -> Revocation | None:
        """A revocation from the events read, or else, for a batch anchored before the first of
        them, from the contract (kept for good: a later revocation is in the events)."""
        events_from, revoked = self._revoked()
        found = revoked.get((root, leaf))
        if found is not None or events_from == 0:
            return found
        anchored = self.anchor(root)
        if anchored is None or anchored.block >= events_from:
            return None
        if leaf is None:
            return self._get(("root_revocation", root),
                             lambda: self.view.root_revocation(root), lambda _: FOREVER)
        return self._get(("leaf_revocation", root, leaf),
                         lambda: self.view.leaf_revocation(root, leaf), lambda _: FOREVER)

    def _revoked(self) -> tuple[int, dict[tuple[bytes, bytes | None], Revocation]]:
        """The first block whose events were read, and every revocation from it up to a head
        read at most `ttl` seconds ago (one reader at a time reads the events sealed since)."""
        if self._revocations_until > self.clock():
            return self._events_from, self._revocations
        with self._refresh:
            now = self.clock()
            if self._revocations_until <= now:
                head = self.view.head()
                if self._events_from < 0:
                    self._revocations_from = max(0, head - self.backfill + 1)
                    self._events_from = self._revocations_from
                found = self.view.revocations_between(self._revocations_from, head)
                self._revocations = {**self._revocations, **found}
                self._revocations_from = max(self._revocations_from, head + 1)
                self._revocations_until = now + self.ttl
        return self._events_from, self._revocations

    def _final(self, value: object) -> float:
        """How long to keep an answer that never changes once present."""
        return FOREVER if value else self.ttl

    def _mutable(self, _value: object) -> float:
        return self.ttl

    def _get(self, key: Hashable, look_up: Callable[[], T], keep: Callable[[T], float]) -> T:
        """The kept answer for `key` while fresh, else a new look-up (kept unless it raised)."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                kept: T = found[1]
                return kept
        value = look_up()
        with self._lock:
            self._entries[key] = (now + keep(value), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


class VerifiedSignatures:
    """Signatures that verified, remembered by what they covered (thread-safe, bounded, least
    recently used out first): the same document under the same key verifies again, so a process
    checks it once. A signature that failed is never remembered; share one per process."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def digest(document: dict[str, Any], public_key: bytes) -> bytes:
        """What identifies one signature check: the whole document, proofs included, and the key."""
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(bytes(public_key) + text.encode()).digest()

    def __contains__(self, digest: bytes) -> bool:
        with self._lock:
            if digest in self._seen:
                self._seen.move_to_end(digest)
                return True
            return False

    def add(self, digest: bytes) -> None:
        """Remember a signature that verified."""
        with self._lock:
            self._seen[digest] = None
            self._seen.move_to_end(digest)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)


class VerifiedStatusLists:
    """Status lists whose form, issuer and signature checked out, remembered by URL, purpose and
    issuer for `ttl` seconds (thread-safe, bounded); share one per process. A list that could
    not be used is never remembered. The chain decides a credential's status, so a list seen up
    to `ttl` seconds late changes only what the report says of their agreement."""

    def __init__(self, *, ttl: float = DEFAULT_TTL, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, look_up: Callable[[], bytes | str]) -> bytes | str:
        """The remembered bitstring for `key` while fresh, else `look_up()`: a bitstring (kept)
        or the reason the list cannot be used (not kept)."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
        value = look_up()
        if isinstance(value, bytes):
            with self._lock:
                self._entries[key] = (now + self.ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value
