"""The anchor proof entry: attach, parse strictly, and keep the Ed25519 proof verifiable."""

import pytest
from credential_samples import ISSUER_KEY, signed_credential

from credentials.anchoring import (
    ANCHOR_PROOF_TYPE,
    AnchorProof,
    anchor_proof_of,
    attach_anchor,
    integrity_proof_of,
    without_anchor,
)
from credentials.canon import rdfc
from credentials.errors import MalformedProof
from credentials.merkle import MerkleTree, credential_digest, root_from_proof
from credentials.proofs import CRYPTOSUITES, verify

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TX = "0x" + "1f" * 32


def anchored(cryptosuite: str = "eddsa-rdfc-2022") -> tuple[dict, dict, MerkleTree]:
    signed = signed_credential(cryptosuite)
    others = [credential_digest(signed_credential(cryptosuite, number)) for number in (2, 3)]
    tree = MerkleTree([credential_digest(signed), *others])
    return signed, attach_anchor(signed, chain_id=2021, contract=CONTRACT, transaction_hash=TX,
                                 root=tree.root, path=tree.proof(0)), tree


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_attached_anchor_round_trips_and_the_signature_still_verifies(cryptosuite: str) -> None:
    signed, credential, tree = anchored(cryptosuite)
    integrity = integrity_proof_of(credential)
    assert credential["proof"][0] == signed["proof"] == integrity
    assert anchor_proof_of(credential) == AnchorProof(
        chain_id=2021, contract=CONTRACT, transaction_hash=TX, root=tree.root,
        path=tuple(tree.proof(0)),
    )
    assert verify(credential, integrity, ISSUER_KEY.public_key) is True
    assert without_anchor(credential) == signed
    proof = anchor_proof_of(credential)
    assert root_from_proof(credential_digest(credential), proof.path) == proof.root
    assert anchor_proof_of(signed) is None


def test_anchored_credential_expands_without_dropping_terms() -> None:
    _, credential, tree = anchored()
    quads = rdfc(credential)
    assert f'"{"0x" + tree.root.hex()}"' in quads
    assert "<https://creditbank.org/vocab#MerkleAnchorProof2026>" in quads


@pytest.mark.parametrize(
    ("change", "message"),
    [({"extra": 1}, "unknown member"), ({"chainId": "2021"}, "chainId"),
     ({"chainId": True}, "chainId"), ({"anchorContract": "0x12"}, "anchorContract"),
     ({"transactionHash": "0x" + "AB" * 32}, "transactionHash"),
     ({"merkleRoot": "0x00"}, "merkleRoot"), ({"merklePath": "0x" + "00" * 32}, "merklePath")],
)
def test_anchor_parsing_is_strict(change: dict, message: str) -> None:
    _, credential, _ = anchored()
    credential["proof"][1] = {**credential["proof"][1], **change}
    with pytest.raises(MalformedProof, match=message):
        anchor_proof_of(credential)


def test_missing_member_and_duplicate_proofs_are_errors() -> None:
    signed, credential, _ = anchored()
    entry = dict(credential["proof"][1])
    del entry["merklePath"]
    with pytest.raises(MalformedProof, match="missing merklePath"):
        anchor_proof_of({**credential, "proof": [credential["proof"][0], entry]})
    with pytest.raises(MalformedProof, match="at most one"):
        anchor_proof_of({**credential, "proof": [*credential["proof"], credential["proof"][1]]})
    with pytest.raises(MalformedProof, match="exactly one"):
        integrity_proof_of({**credential, "proof": [credential["proof"][1]]})
    with pytest.raises(MalformedProof, match="already carries"):
        attach_anchor(credential, chain_id=1, contract=CONTRACT, transaction_hash=TX,
                      root=bytes(32), path=[])
    with pytest.raises(MalformedProof, match="unknown proof type"):
        integrity_proof_of({**signed, "proof": {"type": "Other"}})
    assert credential["proof"][1]["type"] == ANCHOR_PROOF_TYPE
