"""Typed reads of the contracts' state and events, straight from the chain: the one way code
outside `ledger` reads a contract."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.logs import DISCARD
from web3.types import EventData

from ledger.client import Ledger
from ledger.deployment import Deployment
from ledger.errors import LedgerError, translated
from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation, RuleSetRecord

EMPTY = bytes(32)
# Blocks per eth_getLogs query: under the range limits of Besu (5,000 by default) and of ours.
LOG_STEP = 2_000


class ChainView:
    """The chain as plain records: anchors, revocations, accreditations, keys and rule sets."""

    def __init__(self, ledger: Ledger, *, log_step: int = LOG_STEP) -> None:
        if ledger.deployment is None:
            raise ValueError("a chain view needs a deployment (chain id and contract addresses)")
        if log_step < 1:
            raise ValueError("log_step must be at least 1")
        self.ledger = ledger
        self.deployment = ledger.deployment
        self.log_step = log_step

    @classmethod
    def connect(cls, urls: Sequence[str], deployment: Deployment) -> ChainView:
        """A view over JSON-RPC endpoints, failing over between them."""
        return cls(Ledger.connect(urls, deployment))

    def chain_id(self) -> int:
        """The chain id the deployment is trusted on."""
        return self.deployment.chain_id

    def anchor_contract(self) -> str:
        """The trusted anchor contract's checksum address."""
        return Web3.to_checksum_address(self.deployment.credential_anchor)

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """Who anchored a root, and when; None if it never was. The contract stores the issuer
        and the block; the block's `Anchored` event names the sender and the time."""
        issuer_id, block = self.ledger.read("CredentialAnchor", "anchorOf", root)
        if block == 0:
            return None
        logs = self._events("CredentialAnchor", "Anchored", block, block, {"root": root})
        if not logs:
            raise LedgerError(f"the node holds no Anchored event of the root in block {block}")
        return AnchorRecord(
            root=bytes(root),
            issuer_id=bytes(issuer_id),
            sender=logs[0]["args"]["sender"],
            block=block,
            timestamp=logs[0]["args"]["timestamp"],
        )

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots a transaction anchored through the trusted contract."""
        try:
            receipt = self.ledger.receipt(transaction_hash)
        except (ValueError, TypeError):
            return set()
        if receipt is None:
            return set()
        event = self.ledger._contract("CredentialAnchor").events.Anchored()
        with translated():
            logs = event.process_receipt(receipt, errors=DISCARD)
        return {bytes(log["args"]["root"]) for log in logs}

    def anchoring_transaction(self, root: bytes, block: int) -> str | None:
        """The hash of the transaction that anchored `root` in `block`; None if none did."""
        logs = self._events("CredentialAnchor", "Anchored", block, block, {"root": root})
        return "0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None

    def anchored_between(self, first_block: int, last_block: int) -> list[bytes]:
        """The roots anchored in blocks `first_block` (at the earliest, the deployment's) to
        `last_block`, in chain order, one per `Anchored` event."""
        return [
            bytes(log["args"]["root"])
            for log in self._events("CredentialAnchor", "Anchored", first_block, last_block)
        ]

    def root_revocation(self, root: bytes) -> Revocation | None:
        """A batch's revocation, if any."""
        return _revocation(self.ledger.read("CredentialAnchor", "rootRevocation", root))

    def leaf_revocation(self, root: bytes, digest: bytes) -> Revocation | None:
        """A single credential's revocation, if any."""
        return _revocation(self.ledger.read("CredentialAnchor", "leafRevocation", root, digest))

    def head(self) -> int:
        """The newest sealed block."""
        return self.ledger.block_number()

    def revocations_between(
        self, first_block: int, last_block: int
    ) -> dict[tuple[bytes, bytes | None], Revocation]:
        """Every revocation sealed in blocks `first_block` (at the earliest, the deployment's) to
        `last_block`, from the contract's events, `log_step` blocks a query:
        {(root, digest, or None for the whole batch): revocation}."""
        found: dict[tuple[bytes, bytes | None], Revocation] = {}
        for log in self._events("CredentialAnchor", "RootRevoked", first_block, last_block):
            revocation = Revocation(reason=log["args"]["reason"], block=log["blockNumber"])
            found[(bytes(log["args"]["root"]), None)] = revocation
        for log in self._events("CredentialAnchor", "LeafRevoked", first_block, last_block):
            revocation = Revocation(reason=log["args"]["reason"], block=log["blockNumber"])
            found[(bytes(log["args"]["root"]), bytes(log["args"]["digest"]))] = revocation
        return found

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """An issuer's accreditation by its DID; None if it was never accredited."""
        issuer_id = issuer_id_of(did)
        stored_did, kinds, levels, valid_from, valid_until, suspended, accredited = (
            self.ledger.read("IssuerRegistry", "issuer", issuer_id)
        )
        if not accredited:
            return None
        return IssuerRecord(
            issuer_id=issuer_id,
            did=stored_did,
            kind_mask=kinds,
            level_mask=levels,
            valid_from=valid_from,
            valid_until=valid_until,
            suspended=suspended,
        )

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """A signing key's registration window; None if the issuer never registered it."""
        registered, retired = self.ledger.read(
            "IssuerRegistry", "signingKey", issuer_id, public_key
        )
        if registered == 0:
            return None
        return KeyRecord(
            public_key=bytes(public_key), registered_block=registered, retired_block=retired
        )

    def rule_set(self, rule_set_key: bytes, version: int) -> RuleSetRecord | None:
        """A rule-set version as RuleRegistry holds it; None if it was never published."""
        owner_id, content_hash, published, approved = self.ledger.read(
            "RuleRegistry", "ruleSet", rule_set_key, version
        )
        if published == 0:
            return None
        return RuleSetRecord(
            rule_set_key=bytes(rule_set_key),
            version=version,
            owner_id=bytes(owner_id),
            content_hash=bytes(content_hash),
            published_block=published,
            approved_block=approved,
        )

    def rule_set_publication(self, rule_set_key: bytes, version: int, block: int) -> str | None:
        """The hash of the transaction that published a rule-set version in `block`; None if
        none did."""
        logs = self._events(
            "RuleRegistry",
            "RuleSetPublished",
            block,
            block,
            {"ruleSetId": rule_set_key, "version": version},
        )
        return "0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None

    def _events(
        self,
        contract: str,
        event: str,
        first_block: int,
        last_block: int,
        filters: dict[str, Any] | None = None,
    ) -> list[EventData]:
        """One contract event's decoded logs in blocks `first_block` (at the earliest, the
        deployment's) to `last_block`, in chain order, `log_step` blocks a query."""
        found: list[EventData] = []
        source = self.ledger._contract(contract).events[event]
        for start in range(max(first_block, self.deployment.block), last_block + 1,
                           self.log_step):
            end = min(start + self.log_step - 1, last_block)
            with translated():
                found += source.get_logs(from_block=start, to_block=end, argument_filters=filters)
        return found


def issuer_id_of(did: str) -> bytes:
    """An issuer's on-chain id: keccak256 of its DID."""
    return bytes(Web3.keccak(text=did))


def open_view(urls: Sequence[str], deployment: str | Path) -> ChainView:
    """A chain view from ledger URLs and a deployment file."""
    return ChainView.connect(urls, Deployment.load(Path(deployment)))


def _revocation(values: tuple[int, int]) -> Revocation | None:
    reason, block = values
    return Revocation(reason=reason, block=block) if block else None
