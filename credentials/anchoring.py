"""The anchor proof: a second proof-set entry linking a signed credential to its on-chain root."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from credentials.errors import MalformedProof
from credentials.jsontypes import JsonObject

ANCHOR_PROOF_TYPE = "MerkleAnchorProof2026"
INTEGRITY_PROOF_TYPE = "DataIntegrityProof"
_MEMBERS = ("type", "chainId", "anchorContract", "transactionHash", "merkleRoot", "merklePath")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-f]{64}$")
_PROOF_MEMBER = ',"proof":'


@dataclass(frozen=True)
class AnchorProof:
    """Where a credential's batch root was anchored and the Merkle path up to it."""

    chain_id: int
    contract: str
    transaction_hash: str
    root: bytes
    path: tuple[bytes, ...]

    def to_json(self) -> JsonObject:
        """The proof-set entry for this anchor."""
        return {
            "type": ANCHOR_PROOF_TYPE,
            "chainId": self.chain_id,
            "anchorContract": self.contract,
            "transactionHash": self.transaction_hash,
            "merkleRoot": _hex(self.root),
            "merklePath": [_hex(node) for node in self.path],
        }


def attach_anchor(signed: JsonObject, *, chain_id: int, contract: str, transaction_hash: str,
                  root: bytes, path: Sequence[bytes]) -> JsonObject:
    """A copy of `signed` whose proof becomes `[integrity proof, anchor proof]`."""
    integrity = integrity_proof_of(signed)
    if anchor_proof_of(signed) is not None:
        raise MalformedProof("the credential already carries an anchor proof")
    anchor = _parse({
        "type": ANCHOR_PROOF_TYPE,
        "chainId": chain_id,
        "anchorContract": contract,
        "transactionHash": transaction_hash,
        "merkleRoot": _hex(root) if isinstance(root, bytes) else root,
        "merklePath": [_hex(node) if isinstance(node, bytes) else node for node in path],
    })
    return {**signed, "proof": [integrity, anchor.to_json()]}


def attach_anchor_text(signed_text: str, *, chain_id: int, contract: str,
                       transaction_hash: str, root: bytes, path: Sequence[bytes]) -> str:
    """`attach_anchor` on compact JSON text (`separators=(",", ":")`, `ensure_ascii=False`).

    Returns the text `json.dumps` would give for the anchored credential. When the credential's
    last member is its DataIntegrityProof object (as `proofs.sign` leaves it), the anchor entry
    is spliced in after that object's text without parsing the rest; otherwise the document is
    parsed and re-serialised.
    """
    start = signed_text.rfind(_PROOF_MEMBER)
    integrity_text = signed_text[start + len(_PROOF_MEMBER):-1]
    try:
        integrity = json.loads(integrity_text) if start > 0 and signed_text.endswith("}") else None
    except ValueError:
        integrity = None
    if not isinstance(integrity, dict) or integrity.get("type") != INTEGRITY_PROOF_TYPE:
        anchored = attach_anchor(json.loads(signed_text), chain_id=chain_id, contract=contract,
                                 transaction_hash=transaction_hash, root=root, path=path)
        return json.dumps(anchored, ensure_ascii=False, separators=(",", ":"))
    _check_location(chain_id, contract, transaction_hash)
    if not all(isinstance(node, bytes) and len(node) == 32 for node in (root, *path)):
        raise MalformedProof("anchor proof: merkleRoot and merklePath entries must be 32 bytes")
    anchor = AnchorProof(chain_id, contract, transaction_hash, root, tuple(path))
    anchor_text = json.dumps(anchor.to_json(), ensure_ascii=False, separators=(",", ":"))
    return f"{signed_text[:start]}{_PROOF_MEMBER}[{integrity_text},{anchor_text}]}}"


def anchor_proof_of(credential: JsonObject) -> AnchorProof | None:
    """The credential's anchor proof, None if it has none; strict about its members."""
    anchors = [proof for proof in _proofs(credential) if proof["type"] == ANCHOR_PROOF_TYPE]
    if len(anchors) > 1:
        raise MalformedProof("a credential may carry at most one anchor proof")
    return _parse(anchors[0]) if anchors else None


def integrity_proof_of(credential: JsonObject) -> JsonObject:
    """The credential's single DataIntegrityProof."""
    proofs = [proof for proof in _proofs(credential) if proof["type"] == INTEGRITY_PROOF_TYPE]
    if len(proofs) != 1:
        raise MalformedProof(
            f"a credential must carry exactly one {INTEGRITY_PROOF_TYPE}, found {len(proofs)}"
        )
    return proofs[0]


def without_anchor(credential: JsonObject) -> JsonObject:
    """A copy of the credential whose `proof` is just its DataIntegrityProof object."""
    return {**credential, "proof": integrity_proof_of(credential)}


def _proofs(credential: JsonObject) -> list[JsonObject]:
    if not isinstance(credential, dict) or "proof" not in credential:
        raise MalformedProof("the credential has no proof")
    proofs = credential["proof"]
    proofs = proofs if isinstance(proofs, list) else [proofs]
    for proof in proofs:
        if not isinstance(proof, dict):
            raise MalformedProof("each proof must be a JSON object")
        if proof.get("type") not in (INTEGRITY_PROOF_TYPE, ANCHOR_PROOF_TYPE):
            raise MalformedProof(f"unknown proof type {proof.get('type')!r}")
    return proofs


def _parse(entry: JsonObject) -> AnchorProof:
    unknown = sorted(set(entry) - set(_MEMBERS))
    missing = [name for name in _MEMBERS if name not in entry]
    if unknown or missing:
        detail = "; ".join(
            part for part in (
                f"unknown member(s) {', '.join(unknown)}" if unknown else "",
                f"missing {', '.join(missing)}" if missing else "",
            ) if part
        )
        raise MalformedProof(f"anchor proof: {detail}")
    chain_id, contract = entry["chainId"], entry["anchorContract"]
    transaction_hash = entry["transactionHash"]
    _check_location(chain_id, contract, transaction_hash)
    path = entry["merklePath"]
    if not isinstance(path, list):
        raise MalformedProof("anchor proof: merklePath must be a list")
    return AnchorProof(
        chain_id=chain_id,
        contract=contract,
        transaction_hash=transaction_hash,
        root=_bytes32(entry["merkleRoot"], "merkleRoot"),
        path=tuple(_bytes32(node, "merklePath") for node in path),
    )


def _check_location(chain_id: object, contract: object, transaction_hash: object) -> None:
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise MalformedProof("anchor proof: chainId must be a positive integer")
    if not isinstance(contract, str) or not _ADDRESS.match(contract):
        raise MalformedProof("anchor proof: anchorContract must be a 0x-prefixed 20-byte address")
    if not isinstance(transaction_hash, str) or not _HASH.match(transaction_hash):
        raise MalformedProof("anchor proof: transactionHash must be 0x + 64 lowercase hex digits")


def _bytes32(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _HASH.match(value):
        raise MalformedProof(f"anchor proof: {name} entries must be 0x + 64 lowercase hex digits")
    return bytes.fromhex(value[2:])


def _hex(data: bytes) -> str:
    return "0x" + data.hex()
