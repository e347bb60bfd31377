"""Merkle batches: shape, proofs, odd promotion and second-preimage safety."""

import hashlib

import pytest
from eth_hash.auto import keccak

from credentials.anchoring import attach_anchor
from credentials.canon import jcs
from credentials.errors import MerkleError
from credentials.merkle import MerkleTree, credential_digest, inner_node, leaf_node, root_from_proof
from tests.support.samples import signed_credential


def digests(count: int) -> list[bytes]:
    return [hashlib.sha256(str(index).encode()).digest() for index in range(count)]


def test_node_shapes() -> None:
    a, b = digests(2)
    assert leaf_node(a) == keccak(b"\x00" + a)
    low, high = sorted((a, b))
    assert inner_node(a, b) == inner_node(b, a) == keccak(b"\x01" + low + high)


def test_small_trees_have_the_documented_shape() -> None:
    a, b, c = digests(3)
    assert MerkleTree([a]).root == leaf_node(a)
    assert MerkleTree([a]).proof(0) == []
    assert MerkleTree([a, b]).root == inner_node(leaf_node(a), leaf_node(b))
    three = MerkleTree([a, b, c])
    assert three.root == inner_node(inner_node(leaf_node(a), leaf_node(b)), leaf_node(c))
    assert three.proof(2) == [inner_node(leaf_node(a), leaf_node(b))]
    assert three.proof(0) == [leaf_node(b), leaf_node(c)]
    assert len(three) == 3


@pytest.mark.parametrize("size", range(1, 41))
def test_every_leaf_proves_its_root(size: int) -> None:
    items = digests(size)
    tree = MerkleTree(items)
    for index, digest in enumerate(items):
        assert root_from_proof(digest, tree.proof(index)) == tree.root
    assert root_from_proof(hashlib.sha256(b"outsider").digest(), tree.proof(0)) != tree.root


def test_an_inner_node_presented_as_a_leaf_never_verifies() -> None:
    items = digests(8)
    tree = MerkleTree(items)
    inner = inner_node(leaf_node(items[0]), leaf_node(items[1]))
    upper_path = tree.proof(0)[1:]
    assert root_from_proof(inner, upper_path) != tree.root
    forged = MerkleTree([inner, *items[2:]])
    assert forged.root != tree.root


def test_second_preimage_of_a_pair_is_not_a_leaf() -> None:
    a, b = digests(2)
    left, right = sorted((leaf_node(a), leaf_node(b)))
    assert leaf_node(keccak(left + right)) != inner_node(left, right)
    assert MerkleTree([a, b]).root != MerkleTree([keccak(left + right)]).root


def test_bad_input_is_rejected() -> None:
    with pytest.raises(MerkleError, match="at least one"):
        MerkleTree([])
    with pytest.raises(MerkleError, match="32 bytes"):
        MerkleTree([b"short"])
    with pytest.raises(MerkleError, match="outside"):
        MerkleTree(digests(3)).proof(3)


def test_credential_digest_ignores_the_anchor_entry() -> None:
    signed = signed_credential()
    assert credential_digest(signed) == keccak(jcs(signed))
    anchored = attach_anchor(signed, chain_id=2021, contract="0x" + "ab" * 20,
                             transaction_hash="0x" + "cd" * 32, root=bytes(32), path=[])
    assert credential_digest(anchored) == credential_digest(signed)
