"""What verification runs against: the ledger view, the clock, input limits and cached look-ups."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation
from verify.abc import LedgerView, StatusListSource

if TYPE_CHECKING:
    from verify.cache import VerifiedSignatures, VerifiedStatusLists

T = TypeVar("T")

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
DEPTH_CEILING = 256


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass
class Context:
    """The ledger, clock, limits and trusted chain of one verification batch; caches chain look-ups.

    Use one context per request or batch: look-ups are cached for its lifetime (failures are not),
    so a batch costs one chain look-up per batch root, issuer and key.
    `trusted_chain_id` / `trusted_anchor_contract` pin the chain a credential must be anchored on;
    when None, the ledger's own chain id and anchor contract are expected. `signatures`, shared by
    a process, spares it checking the same signature twice. `status_lists`, when given, is
    where the status check reads the lists a credential's status entries point to (the chain
    alone decides without it); `verified_lists`, shared by a process, spares it reading and
    checking the same list again for a few seconds.
    """

    ledger: LedgerView
    clock: Callable[[], datetime] = utc_now
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    trusted_chain_id: int | None = None
    trusted_anchor_contract: str | None = None
    signatures: VerifiedSignatures | None = None
    status_lists: StatusListSource | None = None
    verified_lists: VerifiedStatusLists | None = None
    _cache: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or not 1 <= self.max_depth <= DEPTH_CEILING:
            raise ValueError(f"max_bytes must be positive and max_depth in 1..{DEPTH_CEILING}")

    def now(self) -> datetime:
        """The current time (timezone-aware) by the context's clock."""
        return self.clock()

    def expected_chain_id(self) -> int:
        """The chain id an anchor must name."""
        if self.trusted_chain_id is not None:
            return self.trusted_chain_id
        return self._cached(("chain_id",), self.ledger.chain_id)

    def expected_anchor_contract(self) -> str:
        """The anchor contract address an anchor must name."""
        if self.trusted_anchor_contract is not None:
            return self.trusted_anchor_contract
        return self._cached(("anchor_contract",), self.ledger.anchor_contract)

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """The anchor of a batch root (cached)."""
        return self._cached(("anchor", root), lambda: self.ledger.anchor(root))

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots a transaction anchored (cached)."""
        key = ("anchored_in", transaction_hash.lower())
        return self._cached(key, lambda: self.ledger.anchored_in(transaction_hash))

    def root_revocation(self, root: bytes) -> Revocation | None:
        """The revocation of a batch root (cached)."""
        return self._cached(("root_revocation", root), lambda: self.ledger.root_revocation(root))

    def leaf_revocation(self, root: bytes, digest: bytes) -> Revocation | None:
        """The revocation of one credential digest in a batch (cached)."""
        key = ("leaf_revocation", root, digest)
        return self._cached(key, lambda: self.ledger.leaf_revocation(root, digest))

    def issuer(self, did: str) -> IssuerRecord | None:
        """The registry record of an issuer DID (cached)."""
        return self._cached(("issuer", did), lambda: self.ledger.issuer_by_did(did))

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """The registration of a public key to an issuer (cached)."""
        key = ("key", issuer_id, public_key)
        return self._cached(key, lambda: self.ledger.key(issuer_id, public_key))

    def status_list(self, url: str) -> dict[str, Any] | None:
        """The list credential published at `url` from the status-list source (cached), or
        None without a source or when it cannot be had."""
        source = self.status_lists
        if source is None:
            return None
        return self._cached(("status_list", url), lambda: source.status_list(url))

    def remember(self, key: Hashable, look_up: Callable[[], T]) -> T:
        """A fact a check derives, looked up once for this context's lifetime."""
        return self._cached(("remembered", key), look_up)

    def _cached(self, key: Hashable, look_up: Callable[[], T]) -> T:
        """The cached answer for `key`, looking it up once; a look-up that raises is not cached."""
        if key not in self._cache:
            self._cache[key] = look_up()
        answer: T = self._cache[key]
        return answer
