"""Data Integrity proofs with the W3C EdDSA cryptosuites `eddsa-rdfc-2022` and `eddsa-jcs-2022`."""

import functools
import hashlib
from collections.abc import Iterable

from credentials.base58 import b58decode, b58encode
from credentials.canon import jcs, rdfc
from credentials.errors import InvalidCredential, InvalidKey, MalformedProof
from credentials.jsontypes import JsonObject, Loader
from credentials.keys import SigningKey, verify_signature

CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
PROOF_TYPE = "DataIntegrityProof"
_OPTIONAL = frozenset({"@context", "id", "created", "expires", "domain", "challenge", "nonce",
                       "previousProof"})
_REQUIRED = frozenset({"type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue"})


def sign(document: JsonObject, key: SigningKey, *, verification_method: str,
         cryptosuite: str = "eddsa-rdfc-2022", created: str | None = None,
         proof_purpose: str = "assertionMethod", loader: Loader | None = None) -> JsonObject:
    """Return a copy of `document` secured by one DataIntegrityProof (`created` omitted if None)."""
    if not isinstance(document, dict):
        raise InvalidCredential("only a JSON object can be signed")
    if "proof" in document:
        raise InvalidCredential("the document already has a proof; sign it without one")
    if cryptosuite not in CRYPTOSUITES:
        raise MalformedProof(f"cryptosuite must be one of {', '.join(CRYPTOSUITES)}")
    options: JsonObject = {"type": PROOF_TYPE, "cryptosuite": cryptosuite}
    if created is not None:
        options["created"] = created
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    if cryptosuite == "eddsa-jcs-2022" and "@context" in document:
        options["@context"] = document["@context"]
    signature = key.sign(_hash_data(document, options, cryptosuite, loader))
    return {**document, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def verify(document: JsonObject, proof: JsonObject, public_key: bytes, *,
           loader: Loader | None = None) -> bool:
    """Check ONE DataIntegrityProof of `document` against `public_key`.

    The proof must be one of the document's proofs. A proof signs the document without any
    `proof` member, so entries of a proof set verify independently; a chained proof signs it
    with the proofs its `previousProof` names as the `proof` member (Data Integrity 1.0 §4.5).
    """
    if not isinstance(document, dict):
        raise InvalidCredential("only a JSON object can be verified")
    proofs = _check_member(document, proof)
    signature = _check_shape(proof)
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    if "previousProof" in proof:
        unsecured["proof"] = _previous_proofs(proofs, proof["previousProof"])
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    if "@context" in options:
        if not _starts_with(unsecured.get("@context"), options["@context"]):
            return False
        unsecured["@context"] = options["@context"]
    hash_data = _hash_data(unsecured, options, proof["cryptosuite"], loader)
    return verify_signature(public_key, signature, hash_data)


def _hash_data(unsecured: JsonObject, options: JsonObject, cryptosuite: str,
               loader: Loader | None) -> bytes:
    if cryptosuite == "eddsa-rdfc-2022":
        context = unsecured.get("@context")
        if loader is None and _all_text(options.values()) and isinstance(context, list) \
                and _all_text(context):
            proof_hash = _proof_hash(tuple(options.items()), tuple(context))
        else:
            proof_hash = _rdfc_hash({**options, "@context": context}, loader)
        return proof_hash + _rdfc_hash(unsecured, loader)
    return hashlib.sha256(jcs(options)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def _rdfc_hash(document: JsonObject, loader: Loader | None) -> bytes:
    return hashlib.sha256(rdfc(document, loader=loader).encode("utf-8")).digest()


def _all_text(values: Iterable[object]) -> bool:
    return {*map(type, values)} <= {str}


@functools.lru_cache(maxsize=256)
def _proof_hash(options: tuple[tuple[str, str], ...], context: tuple[str, ...]) -> bytes:
    """The hash of a proof configuration whose members and contexts are all strings (one
    issuer key, suite and creation time serve a whole batch, so it is worked out once)."""
    return _rdfc_hash({**dict(options), "@context": list(context)}, None)


def _check_member(document: JsonObject, proof: JsonObject) -> list[object]:
    """The document's proofs, checking that `proof` is one of them."""
    proofs = document.get("proof")
    candidates = proofs if isinstance(proofs, list) else [proofs]
    if not any(candidate is proof or candidate == proof for candidate in candidates):
        raise MalformedProof("the proof under test is not one of the document's proofs")
    return candidates


def _previous_proofs(proofs: list[object], previous: str | list[str]) -> list[object]:
    """The proofs a chained proof's `previousProof` names, in the order it names them."""
    names = previous if isinstance(previous, list) else [previous]
    chained: list[object] = []
    for name in names:
        matching = [candidate for candidate in proofs
                    if isinstance(candidate, dict) and candidate.get("id") == name]
        if not matching:
            raise MalformedProof(f"proof.previousProof names {name[:200]!r}, which is not one "
                                 "of the document's proofs")
        if len(matching) > 1:
            raise MalformedProof(f"more than one of the document's proofs has the id "
                                 f"{name[:200]!r}")
        chained.append(matching[0])
    return chained


def _check_shape(proof: JsonObject) -> bytes:
    if not isinstance(proof, dict):
        raise MalformedProof("a proof must be a JSON object")
    missing = sorted(_REQUIRED - proof.keys())
    if missing:
        raise MalformedProof(f"proof is missing {', '.join(missing)}")
    unknown = sorted(proof.keys() - _REQUIRED - _OPTIONAL)
    if unknown:
        raise MalformedProof(f"proof has unknown member(s) {', '.join(unknown)}")
    if proof["type"] != PROOF_TYPE:
        raise MalformedProof(f"proof.type must be {PROOF_TYPE}")
    if proof["cryptosuite"] not in CRYPTOSUITES:
        raise MalformedProof(f"proof.cryptosuite must be one of {', '.join(CRYPTOSUITES)}")
    for name in ("id", "verificationMethod", "proofPurpose", "created", "expires"):
        if name in proof and not isinstance(proof[name], str):
            raise MalformedProof(f"proof.{name} must be a string")
    if "previousProof" in proof and not _names_proofs(proof["previousProof"]):
        raise MalformedProof("proof.previousProof must be a proof id or a non-empty list of them")
    value = proof["proofValue"]
    if not isinstance(value, str) or not value.startswith("z"):
        raise MalformedProof("proof.proofValue must be a base58btc multibase string ('z…')")
    try:
        signature = b58decode(value[1:])
    except InvalidKey:
        raise MalformedProof("proof.proofValue is not valid base58btc") from None
    if len(signature) != 64:
        raise MalformedProof("proof.proofValue must hold a 64-byte Ed25519 signature")
    return signature


def _names_proofs(previous: object) -> bool:
    """Whether `previous` is a proof id or a non-empty list of distinct proof ids."""
    if isinstance(previous, str):
        return True
    return (isinstance(previous, list) and bool(previous)
            and all(isinstance(name, str) for name in previous)
            and len(set(previous)) == len(previous))


def _starts_with(context: object, prefix: object) -> bool:
    whole = context if isinstance(context, list) else [context]
    head = prefix if isinstance(prefix, list) else [prefix]
    return whole[: len(head)] == head
