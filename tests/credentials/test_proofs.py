"""DataIntegrityProof with eddsa-rdfc-2022 and eddsa-jcs-2022: spec vectors, round trips, tamper."""

import copy
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.base58 import b58decode
from credentials.canon import jcs, rdfc
from credentials.contexts import context_document
from credentials.dids import verification_method_id
from credentials.errors import CredentialError, MalformedProof
from credentials.keys import SigningKey
from credentials.proofs import CRYPTOSUITES, sign, verify
from tests.support.paths import VECTORS
from tests.support.samples import ISSUER_DID, ISSUER_KEY, signed_credential, unsigned_credential

EXAMPLES_URL = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES = json.loads((VECTORS / "credentials-examples-v2.jsonld").read_text())
KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text())
SPEC_KEY = SigningKey.from_seed(b58decode(KEY_PAIR["privateKeyMultibase"][1:])[2:])
SIGNED = {
    "eddsa-rdfc-2022": VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json",
    "eddsa-jcs-2022": VECTORS / "eddsa-jcs-2022" / "signedJCS.json",
}


def loader(url: str) -> dict:
    """Bundled contexts plus the W3C examples context."""
    return EXAMPLES if url == EXAMPLES_URL else context_document(url)


def read(relative: str) -> str:
    return (VECTORS / relative).read_text()


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_spec_signed_document_reproduces_byte_for_byte(cryptosuite: str) -> None:
    signed = json.loads(SIGNED[cryptosuite].read_text())
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    proof = signed["proof"]
    again = sign(unsigned, SPEC_KEY, verification_method=proof["verificationMethod"],
                 cryptosuite=cryptosuite, created=proof["created"], loader=loader)
    assert json.dumps(again, indent=2) == SIGNED[cryptosuite].read_text()
    assert verify(signed, proof, SPEC_KEY.public_key, loader=loader) is True


def test_rdfc_spec_intermediate_values() -> None:
    signed = json.loads(read("eddsa-rdfc-2022/signedDataInt.json"))
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    config = json.loads(read("eddsa-rdfc-2022/proofConfigDataInt.json"))
    canonical_config = rdfc(config, loader=loader)
    assert canonical_config == read("eddsa-rdfc-2022/proofCanonDataInt.txt")
    combined = (hashlib.sha256(canonical_config.encode()).digest()
                + hashlib.sha256(rdfc(unsigned, loader=loader).encode()).digest())
    assert combined.hex() == read("eddsa-rdfc-2022/combinedHashDataInt.txt")


def test_jcs_spec_intermediate_values() -> None:
    signed = json.loads(read("eddsa-jcs-2022/signedJCS.json"))
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    assert jcs(unsigned).decode() == read("eddsa-jcs-2022/canonDocJCS.txt")
    assert hashlib.sha256(jcs(unsigned)).hexdigest() == read("eddsa-jcs-2022/docHashJCS.txt")
    config = json.loads(read("eddsa-jcs-2022/proofConfigJCS.json"))
    signature = SPEC_KEY.sign(hashlib.sha256(jcs(config)).digest()
                              + hashlib.sha256(jcs(unsigned)).digest())
    assert signature.hex() == read("eddsa-jcs-2022/sigHexJCS.txt")


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_round_trip_on_an_achievement_credential(cryptosuite: str) -> None:
    signed = signed_credential(cryptosuite)
    assert signed["proof"]["cryptosuite"] == cryptosuite
    assert verify(signed, signed["proof"], ISSUER_KEY.public_key) is True
    assert verify(signed, signed["proof"], SigningKey.generate().public_key) is False


def test_created_is_optional_and_proof_must_belong_to_the_document() -> None:
    signed = sign(unsigned_credential(), ISSUER_KEY,
                  verification_method=verification_method_id(ISSUER_DID, ISSUER_KEY.public_key))
    assert "created" not in signed["proof"]
    assert verify(signed, signed["proof"], ISSUER_KEY.public_key)
    stranger = dict(signed["proof"], proofPurpose="authentication")
    with pytest.raises(MalformedProof, match="not one of"):
        verify(signed, stranger, ISSUER_KEY.public_key)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"type": "Ed25519Signature2020"}, "type"), ({"cryptosuite": "eddsa-2022"}, "cryptosuite"),
     ({"proofValue": "u123"}, "proofValue"), ({"proofValue": "z3"}, "64-byte"),
     ({"extra": 1}, "unknown"), ({"created": 5}, "created")],
)
def test_malformed_proofs_raise(change: dict, message: str) -> None:
    signed = signed_credential()
    signed["proof"] = {**signed["proof"], **change}
    with pytest.raises(MalformedProof, match=message):
        verify(signed, signed["proof"], ISSUER_KEY.public_key)


def leaf_paths(value, path=()):
    """Every (path, scalar) and every (path, key) location in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield ("key", (*path, key))
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    else:
        yield ("value", path)


def mutate(document: dict, location: tuple, salt: int) -> dict:
    """Change one value or rename one key at `location` (never just reorder)."""
    kind, path = location
    changed = copy.deepcopy(document)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    last = path[-1]
    if kind == "key":
        holder[f"{last}x{salt}"] = holder.pop(last)
        return changed
    old = holder[last]
    if isinstance(old, bool):
        holder[last] = not old
    elif isinstance(old, int | float):
        holder[last] = old + 1 + salt
    elif isinstance(old, str):
        holder[last] = old[:-1] + ("Q" if old[-1:] != "Q" else "R") if old else "Q"
    return changed


SIGNED_SAMPLES = {suite: signed_credential(suite) for suite in CRYPTOSUITES}
LOCATIONS = {suite: list(leaf_paths(doc)) for suite, doc in SIGNED_SAMPLES.items()}


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(CRYPTOSUITES), st.data(), st.integers(0, 9))
def test_any_mutation_breaks_the_proof(cryptosuite: str, data, salt: int) -> None:
    location = data.draw(st.sampled_from(LOCATIONS[cryptosuite]))
    tampered = mutate(SIGNED_SAMPLES[cryptosuite], location, salt)
    proof = tampered.get("proof", SIGNED_SAMPLES[cryptosuite]["proof"])
    try:
        verified = verify(tampered, proof, ISSUER_KEY.public_key)
    except CredentialError:
        verified = False
    assert verified is False
