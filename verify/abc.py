"""Verify's interfaces: the read-only ledger view it needs (ledger implements it) and a check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation

if TYPE_CHECKING:
    from verify.context import Context
    from verify.fragments import Fragment
    from verify.subject import Subject


class LedgerView(Protocol):
    """Read-only view of the anchor contract and the issuer registry; any call may raise
    `ledger.errors.LedgerUnavailable`."""

    def chain_id(self) -> int:
        """The chain id of the ledger."""
        ...

    def anchor_contract(self) -> str:
        """The checksum address of the CredentialAnchor contract."""
        ...

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """Who anchored `root` and in which block, or None if it never was."""
        ...

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots that transaction anchored through the anchor contract."""
        ...

    def root_revocation(self, root: bytes) -> Revocation | None:
        """The revocation of a whole batch, or None."""
        ...

    def leaf_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """The revocation of one credential (by its digest) inside a batch, or None."""
        ...

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The registry's record of the issuer with that DID, or None."""
        ...

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """The registration of an Ed25519 public key to an issuer, or None."""
        ...


class StatusListSource(Protocol):
    """Where the verifier reads the status list credentials entries point to."""

    def status_list(self, url: str) -> dict[str, Any] | None:
        """The signed BitstringStatusListCredential published at `url`, or None if it cannot
        be had (any failure to fetch it is None, not an exception)."""
        ...


class RevocationFeed(LedgerView, Protocol):
    """A ledger view that can also list the revocations sealed in a range of blocks (from
    events)."""

    def head(self) -> int:
        """The newest sealed block."""
        ...

    def revocations_between(
        self, first_block: int, last_block: int
    ) -> dict[tuple[bytes, bytes | None], Revocation]:
        """{(root, leaf digest or None for the batch): revocation} sealed in blocks
        `first_block`..`last_block`."""
        ...


class Check(Protocol):
    """One verification check (a module of verify.checks)."""

    @property
    def NAME(self) -> str:
        """The check's name, the key of its fragment in a report."""
        ...

    @property
    def REQUIRES(self) -> tuple[str, ...]:
        """The names of the checks that must pass before this one runs."""
        ...

    def run(self, subject: Subject, context: Context) -> Fragment:
        """The check's fragment; raises Invalid, PreconditionFailed or a ledger error instead."""
        ...
