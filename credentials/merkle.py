"""Merkle batches of credential digests, shared with the CredentialAnchor contract.

Shape (keccak256 everywhere):
- digest(credential) = keccak256(JCS(signed credential without the anchor proof entry)),
  where `proof` is the single Ed25519 DataIntegrityProof object;
- leaf node  = keccak256(0x00 ‖ digest);
- inner node = keccak256(0x01 ‖ min(a, b) ‖ max(a, b)) — children sorted bytewise, so a proof
  needs no left/right flags;
- a level with an odd count promotes its last node unchanged to the next level;
- a one-leaf tree's root is that leaf node; an empty batch is an error;
- a proof lists sibling nodes from the leaf level upward (a promoted node adds no sibling).
The 0x00/0x01 domain prefixes keep a leaf and an inner node from ever hashing alike, so an
inner node presented as a leaf cannot verify (second-preimage safety).
"""

from collections.abc import Sequence

from eth_hash.auto import keccak

from credentials.anchoring import without_anchor
from credentials.canon import jcs
from credentials.errors import MerkleError
from credentials.jsontypes import JsonObject

keccak(b"")
_keccak = keccak.hasher
_LEAF = b"\x00"
_INNER = b"\x01"


def credential_digest(signed_credential: JsonObject) -> bytes:
    """keccak256 of the JCS form of the credential with only its Ed25519 proof."""
    return _keccak(jcs(without_anchor(signed_credential)))


def leaf_node(digest: bytes) -> bytes:
    """The leaf node of a 32-byte credential digest."""
    if len(digest) != 32:
        raise MerkleError("a credential digest must be 32 bytes")
    return _keccak(_LEAF + digest)


def inner_node(a: bytes, b: bytes) -> bytes:
    """The parent of two nodes (order-independent)."""
    return _keccak(_INNER + a + b if a <= b else _INNER + b + a)


class MerkleTree:
    """A Merkle tree over credential digests, keeping every level for proofs."""

    __slots__ = ("_levels",)

    def __init__(self, digests: Sequence[bytes]) -> None:
        if not digests:
            raise MerkleError("a Merkle batch needs at least one credential")
        if set(map(len, digests)) != {32}:
            raise MerkleError("a credential digest must be 32 bytes")
        hasher = _keccak
        level = [hasher(_LEAF + digest) for digest in digests]
        levels = [level]
        while len(level) > 1:
            lefts, rights = level[0::2], level[1::2]
            parents = [
                hasher(_INNER + a + b if a <= b else _INNER + b + a)
                for a, b in zip(lefts, rights, strict=False)
            ]
            if len(lefts) > len(rights):
                parents.append(lefts[-1])
            level = parents
            levels.append(level)
        self._levels = levels

    @property
    def root(self) -> bytes:
        """The 32-byte root to anchor on chain."""
        return self._levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Sibling nodes from the leaf at `index` up to the root."""
        if not isinstance(index, int) or not 0 <= index < len(self):
            raise MerkleError(f"leaf index {index!r} is outside the batch of {len(self)}")
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index //= 2
        return path

    def __len__(self) -> int:
        return len(self._levels[0])


def root_from_proof(digest: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by a credential digest and its proof."""
    node = leaf_node(digest)
    for sibling in proof:
        if len(sibling) != 32:
            raise MerkleError("a Merkle proof node must be 32 bytes")
        node = inner_node(node, sibling)
    return node
