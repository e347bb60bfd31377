"""The anchor proof entry: attach, parse strictly, and keep the Ed25519 proof verifiable."""

import json

import pytest

from credentials.anchoring import (
    ANCHOR_PROOF_TYPE,
    AnchorProof,
    anchor_proof_of,
    attach_anchor,
    attach_anchor_text,
    integrity_proof_of,
    without_anchor,
)
from credentials.canon import rdfc
from credentials.errors import MalformedProof
from credentials.merkle import MerkleTree, credential_digest, root_from_proof
from credentials.model import clr_credential
from credentials.proofs import CRYPTOSUITES, sign, verify
from tests.support.samples import ISSUER, ISSUER_KEY, learner, signed_credential

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


def compact(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def signed_clr() -> dict:
    """A CLR whose bundled credentials carry proofs of their own before its own proof."""
    _, bundled, _ = anchored()
    unsigned = clr_credential(credential_id="urn:uuid:5e1f0c1e-0000-4000-8000-000000000001",
                              issuer=ISSUER, learner=learner(), credentials=[bundled],
                              valid_from="2025-07-01T00:00:00Z")
    return sign(unsigned, ISSUER_KEY, verification_method=f"{ISSUER.did}#key-1")


@pytest.mark.parametrize(
    "signed",
    [signed_credential("eddsa-rdfc-2022"), signed_credential("eddsa-jcs-2022"), signed_clr()],
    ids=["rdfc", "jcs", "clr"],
)
def test_anchor_attached_to_text_is_the_text_of_the_anchored_credential(signed: dict) -> None:
    tree = MerkleTree([credential_digest(signed), bytes(32), bytes(range(32))])
    where = {"chain_id": 2021, "contract": CONTRACT, "transaction_hash": TX, "root": tree.root,
             "path": tree.proof(0)}
    text = attach_anchor_text(compact(signed), **where)
    assert text == compact(attach_anchor(signed, **where))
    assert credential_digest(json.loads(text)) == credential_digest(signed)


def test_anchor_attached_to_text_in_another_shape_is_parsed() -> None:
    signed = signed_credential()
    proof_first = {"proof": signed["proof"], **{k: v for k, v in signed.items() if k != "proof"}}
    where = {"chain_id": 2021, "contract": CONTRACT, "transaction_hash": TX, "root": bytes(32),
             "path": [bytes(32)]}
    assert attach_anchor_text(compact(proof_first), **where) == compact(
        attach_anchor(proof_first, **where)
    )
    assert attach_anchor_text(json.dumps(signed, indent=1), **where) == compact(
        attach_anchor(signed, **where)
    )
    anchored_once = attach_anchor_text(compact(signed), **where)
    with pytest.raises(MalformedProof, match="already carries"):
        attach_anchor_text(anchored_once, **where)
    with pytest.raises(MalformedProof, match="transactionHash"):
        attach_anchor_text(compact(signed), **{**where, "transaction_hash": "0x12"})
