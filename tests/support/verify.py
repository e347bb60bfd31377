"""Support for verify's tests: an in-memory LedgerView (a stand-in for the chain only in unit tests
of the pipeline's logic; end-to-end tests run against a real node) and issuing helpers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from eth_hash.auto import keccak

from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import sign
from issuers.batch import Batch
from ledger.errors import LedgerUnavailable
from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation
from tests.support.samples import ISSUER_DID, ISSUER_KEY, unsigned_credential

CHAIN_ID = 2021
ANCHOR_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ALL_KINDS = (1 << 7) - 1
ALL_LEVELS = sum(1 << level for level in range(1, 9))
ANCHORED_AT = int(datetime(2025, 7, 2, tzinfo=UTC).timestamp())
ANCHOR_BLOCK = 10
ISSUER_ID = keccak(ISSUER_DID.encode())


class MemoryLedger:
    """Anchors, revocations, issuers and keys in dicts; counts calls; can be taken down."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.down = False
        self.anchors: dict[bytes, AnchorRecord] = {}
        self.transactions: dict[str, set[bytes]] = {}
        self.root_revocations: dict[bytes, Revocation] = {}
        self.leaf_revocations: dict[tuple[bytes, bytes], Revocation] = {}
        self.issuers: dict[str, IssuerRecord] = {}
        self.keys: dict[tuple[bytes, bytes], KeyRecord] = {}

    def accredit(
        self,
        did: str,
        *,
        kind_mask: int = ALL_KINDS,
        level_mask: int = ALL_LEVELS,
        valid_from: int = 0,
        valid_until: int = 0,
    ) -> IssuerRecord:
        """Accredit an issuer (issuer id = keccak256 of its DID, as on chain)."""
        record = IssuerRecord(
            keccak(did.encode()), did, kind_mask, level_mask, valid_from, valid_until, False
        )
        self.issuers[did] = record
        return record

    def register_key(
        self, issuer_id: bytes, public_key: bytes, *, block: int = 1, retired: int = 0
    ) -> None:
        """Register a signing key to an issuer from `block` (retired at `retired`, 0 = active)."""
        self.keys[issuer_id, public_key] = KeyRecord(public_key, block, retired)

    def record_anchor(self, root: bytes, issuer_id: bytes, *, block: int, timestamp: int) -> str:
        """Anchor a root in its own transaction; returns the transaction hash."""
        transaction_hash = "0x" + keccak(b"tx" + root).hex()
        self.anchors[root] = AnchorRecord(root, issuer_id, "0x" + "11" * 20, block, timestamp)
        self.transactions[transaction_hash] = {root}
        return transaction_hash

    def _answer(self, method: str) -> None:
        """Count a call, and fail it while the ledger is down."""
        self.calls[method] += 1
        if self.down:
            raise LedgerUnavailable("no ledger node answered")

    def chain_id(self) -> int:
        """The chain id."""
        self._answer("chain_id")
        return CHAIN_ID

    def anchor_contract(self) -> str:
        """The anchor contract address."""
        self._answer("anchor_contract")
        return ANCHOR_CONTRACT

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """The anchor of a root."""
        self._answer("anchor")
        return self.anchors.get(root)

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots a transaction anchored."""
        self._answer("anchored_in")
        return self.transactions.get(transaction_hash.lower(), set())

    def root_revocation(self, root: bytes) -> Revocation | None:
        """A batch revocation."""
        self._answer("root_revocation")
        return self.root_revocations.get(root)

    def leaf_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """A credential revocation."""
        self._answer("leaf_revocation")
        return self.leaf_revocations.get((root, leaf))

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """An issuer's record."""
        self._answer("issuer_by_did")
        return self.issuers.get(did)

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """A key registration."""
        self._answer("key")
        return self.keys.get((issuer_id, public_key))


def signed(number: int = 1, key: SigningKey = ISSUER_KEY, did: str = ISSUER_DID, **members) -> dict:
    """The sample credential `number`, with `members` replaced, signed by `key` under `did`."""
    unsigned = {**unsigned_credential(number), **members}
    return sign(unsigned, key, verification_method=verification_method_id(did, key.public_key))


def anchored(
    ledger: MemoryLedger,
    credentials: Sequence[dict],
    *,
    issuer_id: bytes = ISSUER_ID,
    chain_id: int = CHAIN_ID,
    contract: str = ANCHOR_CONTRACT,
) -> list[dict]:
    """The credentials batched into one Merkle tree whose root `issuer_id` anchors on `ledger`."""
    batch = Batch.of(credentials)
    transaction_hash = ledger.record_anchor(
        batch.root, issuer_id, block=ANCHOR_BLOCK, timestamp=ANCHORED_AT
    )
    return batch.anchored(chain_id=chain_id, contract=contract, transaction_hash=transaction_hash)
