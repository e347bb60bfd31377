"""DataIntegrityProof with eddsa-rdfc-2022 and eddsa-jcs-2022: spec vectors, round trips, tamper."""

import copy
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import dids
from credentials.base58 import b58decode, b58encode
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


W3C_EDDSA = VECTORS / "w3c" / "vc-di-eddsa"
CHAINS = W3C_EDDSA / "proof-set-chain"
SUITE_FILES = {"eddsa-rdfc-2022": "DataInt", "eddsa-jcs-2022": "JCS"}
CHAIN_KEYS = {pair["publicKeyMultibase"]: pair for pair in
              json.loads((CHAINS / "multiKeyPairs.json").read_text()).values()}


def w3c_canonical(cryptosuite: str, document: dict) -> bytes:
    """The cryptosuite's canonical form of `document`."""
    return rdfc(document, loader=loader).encode() if cryptosuite == "eddsa-rdfc-2022" \
        else jcs(document)


@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_current_spec_vectors_reproduce_every_intermediate_value(cryptosuite: str) -> None:
    folder, suffix = W3C_EDDSA / cryptosuite, SUITE_FILES[cryptosuite]
    key_pair = json.loads((W3C_EDDSA / "keyPair.json").read_text())
    key = SigningKey.from_seed(b58decode(key_pair["privateKeyMultibase"][1:])[2:])
    text = (folder / f"signed{suffix}.json").read_text()
    signed = json.loads(text)
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    document = w3c_canonical(cryptosuite, unsigned)
    config = w3c_canonical(
        cryptosuite, json.loads((folder / f"proofConfig{suffix}.json").read_text()))
    combined = hashlib.sha256(config).digest() + hashlib.sha256(document).digest()
    signature = key.sign(combined)
    assert {
        "canonDoc": document.decode(), "proofCanon": config.decode(),
        "docHash": hashlib.sha256(document).hexdigest(),
        "proofHash": hashlib.sha256(config).hexdigest(),
        "combinedHash": combined.hex(), "sigHex": signature.hex(),
        "sigBTC58": "z" + b58encode(signature),
    } == {name: (folder / f"{name}{suffix}.txt").read_text() for name in (
        "canonDoc", "proofCanon", "docHash", "proofHash", "combinedHash", "sigHex", "sigBTC58")}
    proof = signed["proof"]
    again = sign(unsigned, key, verification_method=proof["verificationMethod"],
                 cryptosuite=cryptosuite, created=proof["created"], loader=loader)
    assert json.dumps(again, indent=2) == text
    assert verify(signed, proof, dids.public_key_of(proof["verificationMethod"]),
                  loader=loader) is True


def chain_vector(name: str) -> dict:
    """One signed document of the proof set and chain vectors."""
    return json.loads((CHAINS / name).read_text())


def verdicts(document: dict) -> dict[str, bool]:
    """Each proof's verification, by the key its verification method names."""
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    return {proof.get("id", "last"): verify(document, proof,
                                            dids.public_key_of(proof["verificationMethod"]),
                                            loader=loader)
            for proof in proofs}


SET_1, SET_2 = "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544", \
    "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54"
CHAIN_1 = "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"


@pytest.mark.parametrize(("name", "expected"), [
    ("signedProofSet1.json", {SET_1: True}),
    ("signedProofSet2.json", {SET_1: True, SET_2: True}),
    ("signedProofChain1.json", {SET_1: True, SET_2: True, CHAIN_1: True}),
    ("signedProofChain2.json", {SET_1: True, SET_2: True, CHAIN_1: True, "last": True}),
])
def test_proof_sets_and_chains_of_the_spec_verify(name: str, expected: dict) -> None:
    document = chain_vector(name)
    assert {method.split("#")[1] for method in
            (proof["verificationMethod"] for proof in document["proof"]
             if isinstance(document["proof"], list))} <= CHAIN_KEYS.keys()
    assert verdicts(document) == expected


def test_a_set_entry_verifies_alone_and_a_chained_proof_over_what_it_names() -> None:
    document = chain_vector("signedProofChain2.json")
    proofs = document["proof"]
    assert verdicts({**document, "proof": [proofs[1], proofs[0]]}) == {SET_2: True, SET_1: True}
    shuffled = {**document, "proof": [proofs[3], proofs[1], proofs[2], proofs[0]]}
    assert verdicts(shuffled) == {"last": True, SET_2: True, CHAIN_1: True, SET_1: True}
    stranger = dict(proofs[0], id="urn:uuid:0", created="2024-01-01T00:00:00Z")
    assert verdicts({**document, "proof": [*proofs, stranger]})[CHAIN_1] is True


def tampered_chain(change: str) -> dict:
    """The two-link chain vector with one change an attacker might make."""
    document = copy.deepcopy(chain_vector("signedProofChain2.json"))
    proofs = document["proof"]
    if change == "subject":
        document["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    elif change == "earlier proof":
        proofs[0]["created"] = "2023-02-25T23:36:38Z"
    elif change == "previousProof narrowed":
        proofs[2]["previousProof"] = proofs[2]["previousProof"][:1]
    elif change == "previousProof reordered":
        proofs[2]["previousProof"] = proofs[2]["previousProof"][::-1]
    elif change == "link renamed":
        proofs[1]["id"] = proofs[2]["previousProof"][1] = "urn:uuid:renamed"
    return document


@pytest.mark.parametrize(("change", "expected"), [
    ("subject", {SET_1: False, SET_2: False, CHAIN_1: False, "last": False}),
    ("earlier proof", {SET_1: False, SET_2: True, CHAIN_1: False, "last": True}),
    ("previousProof narrowed", {SET_1: True, SET_2: True, CHAIN_1: False, "last": False}),
    ("previousProof reordered", {SET_1: True, SET_2: True, CHAIN_1: True, "last": True}),
    ("link renamed", {SET_1: True, "urn:uuid:renamed": False, CHAIN_1: False, "last": False}),
])
def test_tampered_chains_fail_where_the_change_is_signed(change: str, expected: dict) -> None:
    """A chained proof covers the proofs it names; reordering previousProof (an RDF set) is none."""
    assert verdicts(tampered_chain(change)) == expected


@pytest.mark.parametrize(("change", "message"), [
    (lambda proofs: proofs.pop(0), "not one of the document's proofs"),
    (lambda proofs: proofs.append(dict(proofs[0], created="2024-01-01T00:00:00Z")),
     "more than one of the document's proofs has the id"),
    (lambda proofs: proofs[2].update(previousProof=5), "previousProof must be"),
    (lambda proofs: proofs[2].update(previousProof=[]), "previousProof must be"),
    (lambda proofs: proofs[2].update(previousProof=[SET_1, SET_1]), "previousProof must be"),
    (lambda proofs: proofs[2].update(id=7), "proof.id must be a string"),
])
def test_chains_that_cannot_be_followed_raise(change, message: str) -> None:
    document = copy.deepcopy(chain_vector("signedProofChain1.json"))
    change(document["proof"])
    chained = next(proof for proof in document["proof"] if "previousProof" in proof)
    with pytest.raises(MalformedProof, match=message):
        verify(document, chained, dids.public_key_of(chained["verificationMethod"]),
               loader=loader)
