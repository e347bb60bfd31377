"""A batch: signed credentials under one Merkle root, and the anchored credentials it yields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from credentials.anchoring import attach_anchor
from credentials.merkle import MerkleTree, credential_digest


@dataclass(frozen=True)
class Batch:
    """Signed credentials (without anchor proofs), their digests and the tree over them."""

    credentials: tuple[dict, ...]
    digests: tuple[bytes, ...]
    tree: MerkleTree

    @classmethod
    def of(cls, signed: Sequence[dict]) -> Batch:
        """Build the tree over signed credentials, in the order given."""
        digests = tuple(credential_digest(credential) for credential in signed)
        return cls(credentials=tuple(signed), digests=digests, tree=MerkleTree(digests))

    @property
    def root(self) -> bytes:
        """The root to anchor."""
        return self.tree.root

    def anchored(self, *, chain_id: int, contract: str, transaction_hash: str) -> list[dict]:
        """Each credential with its anchor proof (inclusion path, root, chain, contract, tx)."""
        return [
            attach_anchor(
                credential,
                chain_id=chain_id,
                contract=contract,
                transaction_hash=transaction_hash,
                root=self.root,
                path=self.tree.proof(index),
            )
            for index, credential in enumerate(self.credentials)
        ]
