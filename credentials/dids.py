"""did:key and did:web identifiers, verification method ids, and DID documents."""

import re
from collections.abc import Sequence
from urllib.parse import quote

from credentials.errors import InvalidDid, InvalidKey
from credentials.jsontypes import JsonObject
from credentials.keys import multibase_of, public_key_from_multibase

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def did_key(public_key: bytes) -> str:
    """The did:key of an Ed25519 public key."""
    return "did:key:" + multibase_of(public_key)


def did_web(host: str, *path: str) -> str:
    """A did:web for `host` (a port becomes `%3A`) and optional path segments."""
    if not isinstance(host, str) or not _HOST.match(host):
        raise InvalidDid(f"did:web host {host!r} must be a hostname with an optional :port")
    segments = [host.lower().replace(":", "%3A")]
    for segment in path:
        if not isinstance(segment, str) or not segment:
            raise InvalidDid("did:web path segments must be non-empty strings")
        segments.append(quote(segment, safe="-._~"))
    return "did:web:" + ":".join(segments)


def verification_method_id(controller_did: str, public_key: bytes) -> str:
    """The id of a key's verification method: `<did>#<multibase>`."""
    _require_did(controller_did)
    return f"{controller_did}#{multibase_of(public_key)}"


def controller_of(verification_method_id: str) -> str:
    """The DID part of a verification method id."""
    did, _, _ = _split(verification_method_id)
    return did


def public_key_of(verification_method_id: str) -> bytes:
    """The Ed25519 public key named by a verification method id's multibase fragment."""
    did, _, fragment = _split(verification_method_id)
    try:
        public_key = public_key_from_multibase(fragment)
    except InvalidKey as exc:
        raise InvalidDid(f"verification method fragment is not a Multikey: {exc.message}") from None
    if did.startswith("did:key:") and did[len("did:key:"):] != fragment:
        raise InvalidDid("a did:key verification method fragment must repeat the key")
    return public_key


def did_document(did: str, public_keys: Sequence[bytes]) -> JsonObject:
    """A DID document listing Multikey verification methods for assertion and authentication."""
    _require_did(did)
    methods = [
        {
            "id": verification_method_id(did, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase_of(key),
        }
        for key in public_keys
    ]
    ids = [method["id"] for method in methods]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": list(ids),
        "authentication": list(ids),
    }


def _require_did(did: str) -> None:
    if not isinstance(did, str) or not re.match(r"^did:[a-z0-9]+:\S+$", did) or "#" in did:
        raise InvalidDid(f"{did!r} is not a DID")


def _split(verification_method_id: str) -> tuple[str, str, str]:
    if not isinstance(verification_method_id, str):
        raise InvalidDid("a verification method id must be a string")
    did, sep, fragment = verification_method_id.partition("#")
    if not sep or not fragment:
        raise InvalidDid(f"verification method id {verification_method_id!r} has no #fragment")
    _require_did(did)
    return did, sep, fragment
