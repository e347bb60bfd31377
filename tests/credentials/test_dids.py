"""did:key, did:web, verification method ids and DID documents."""

import pytest

from credentials.canon import rdfc
from credentials.dids import (
    controller_of,
    did_document,
    did_key,
    did_web,
    public_key_of,
    verification_method_id,
)
from credentials.errors import InvalidDid
from credentials.keys import SigningKey

KEY = SigningKey.from_seed(bytes(32))


def test_did_key_and_its_verification_method() -> None:
    did = did_key(KEY.public_key)
    assert did == "did:key:" + KEY.multibase
    method = verification_method_id(did, KEY.public_key)
    assert method == f"{did}#{KEY.multibase}"
    assert public_key_of(method) == KEY.public_key
    assert controller_of(method) == did


def test_did_web_encodes_port_and_path() -> None:
    assert did_web("example.com") == "did:web:example.com"
    assert did_web("localhost:8443", "issuers", "u1") == "did:web:localhost%3A8443:issuers:u1"
    assert did_web("Example.COM", "a b") == "did:web:example.com:a%20b"


@pytest.mark.parametrize("host", ["", "exa/mple.com", "host:port", "a b"])
def test_did_web_rejects_bad_hosts(host: str) -> None:
    with pytest.raises(InvalidDid):
        did_web(host)


@pytest.mark.parametrize(
    "method",
    ["did:web:example.com", "did:web:example.com#", "https://x#z6Mk", "did:web:example.com#abc",
     "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#" + SigningKey.generate().multibase],
)
def test_malformed_verification_methods_are_rejected(method: str) -> None:
    with pytest.raises(InvalidDid):
        public_key_of(method)


def test_did_document_lists_multikeys() -> None:
    did = did_web("creditbank.example", "issuers", "x")
    other = SigningKey.from_seed(bytes(range(32)))
    document = did_document(did, [KEY.public_key, other.public_key])
    ids = [verification_method_id(did, key) for key in (KEY.public_key, other.public_key)]
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": ids[0], "type": "Multikey", "controller": did,
             "publicKeyMultibase": KEY.multibase},
            {"id": ids[1], "type": "Multikey", "controller": did,
             "publicKeyMultibase": other.multibase},
        ],
        "assertionMethod": ids,
        "authentication": ids,
    }
    assert "<https://w3id.org/security#publicKeyMultibase>" in rdfc(document)
