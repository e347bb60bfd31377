"""The W3C profile: a credential of an issuer that is not the bank's (a did:key) is verified by its
form, the VC Data Model, its Data Integrity proof(s) and its dates; nothing is fetched."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from credentials import proofs
from credentials.base58 import b58encode
from credentials.contexts import EXAMPLES_V2, VC_V1, VC_V2
from credentials.dids import did_key, verification_method_id
from credentials.keys import SigningKey
from tests.support.presenting import present
from tests.support.samples import ISSUER_DID, LEARNER_KEY
from tests.support.verify import MemoryLedger, anchored, signed
from verify import Code, Context, Status
from verify.w3c import (
    UNACCREDITED,
    is_bank_credential,
    verify_any_credential,
    verify_w3c_credential,
    verify_w3c_presentation,
)

VALID, INVALID, INDETERMINATE, SKIPPED = Status
NOW = datetime(2026, 12, 5, tzinfo=UTC)
KEY = SigningKey.from_seed(bytes(range(64, 96)))
DID = did_key(KEY.public_key)
OTHER_KEY = SigningKey.from_seed(bytes(range(96, 128)))


def unsigned(**members: object) -> dict:
    """An example credential of the did:key issuer (the examples context's vocabulary)."""
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": DID,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "alumniOf": "Example University"},
        **members,
    }


def sign(document: dict, key: SigningKey = KEY, **options: object) -> dict:
    """The document signed by `key`'s did:key (eddsa-rdfc-2022 unless told otherwise)."""
    method = verification_method_id(did_key(key.public_key), key.public_key)
    return proofs.sign(document, key, verification_method=method, **options)


def check(raw: object, ledger: MemoryLedger | None = None):
    """The W3C profile's report on `raw`, at NOW."""
    return verify_w3c_credential(raw, Context(ledger or MemoryLedger(), clock=lambda: NOW))


def failures(report) -> list[tuple[str, Status, Code | None]]:
    """(check, status, code) of every check that did not pass."""
    return [(f.name, f.status, f.code) for f in report.fragments if f.status != VALID]


@pytest.mark.parametrize("cryptosuite", proofs.CRYPTOSUITES)
def test_a_did_key_credential_is_verified_by_form_signature_and_dates(cryptosuite: str) -> None:
    report = check(sign(unsigned(), cryptosuite=cryptosuite))
    assert report.verdict == VALID, report.to_json()
    assert [f.name for f in report.fragments] == [
        "parse", "data_model", "proof", "validity", "status"]
    assert report.credential["issuer"] == DID
    assert "not accredited" in UNACCREDITED


def test_a_credential_naming_a_status_is_never_verified_without_it() -> None:
    entry = {"id": "https://example.edu/status/1#94567", "type": "BitstringStatusListEntry",
             "statusPurpose": "revocation", "statusListIndex": "94567",
             "statusListCredential": "https://example.edu/status/1"}
    report = check(sign(unsigned(credentialStatus=entry)))
    assert (report.verdict, failures(report)) == (
        Status.INDETERMINATE, [("status", Status.INDETERMINATE, Code.STATUS_UNCHECKED)])


def test_a_tampered_credential_fails_its_proof() -> None:
    tampered = sign(unsigned())
    tampered["credentialSubject"]["alumniOf"] = "Another University"
    assert failures(check(tampered)) == [
        ("proof", INVALID, Code.SIGNATURE_INVALID),
        ("validity", SKIPPED, Code.PRECONDITION_FAILED),
        ("status", SKIPPED, Code.PRECONDITION_FAILED),
    ]


@pytest.mark.parametrize(("members", "field", "code"), [
    ({"credentialSubject": {}}, "/credentialSubject", Code.INVALID_MEMBER),
    ({"issuer": None}, "/issuer", Code.INVALID_MEMBER),
    ({"validFrom": "yesterday"}, "/validFrom", Code.INVALID_MEMBER),
    ({"credentialStatus": {"id": "https://example.org/s"}}, "/credentialStatus/type",
     Code.MISSING_MEMBER),
])
def test_a_credential_breaking_the_data_model_is_named(
        members: dict, field: str, code: Code) -> None:
    report = check(unsigned(**members))
    fragment = report.fragment("data_model")
    assert (fragment.status, fragment.code, fragment.details["field"]) == (INVALID, code, field)
    assert report.fragment("proof").status == SKIPPED


def test_a_credential_without_json_ld_meaning_is_refused_before_its_proof() -> None:
    credential = unsigned(**{"@context": [VC_V2]})
    assert failures(check(credential))[0] == ("data_model", INVALID, Code.JSONLD_INVALID_IRI)
    credential["type"] = ["VerifiableCredential"]
    assert failures(check(credential))[0] == ("data_model", INVALID, Code.JSONLD_UNDEFINED)


def test_an_unbundled_context_is_refused_without_fetching_it() -> None:
    report = check(unsigned(**{"@context": [VC_V2, "https://example.org/context/v1"]}))
    assert failures(report)[0] == ("parse", INVALID, Code.UNKNOWN_CONTEXT)


@pytest.mark.parametrize(("change", "code"), [
    (lambda p: p.pop("proofPurpose"), Code.MALFORMED_PROOF),
    (lambda p: p.update(proofPurpose="authentication"), Code.MALFORMED_PROOF),
    (lambda p: p.update(type="Ed25519Signature2020"), Code.MALFORMED_PROOF),
    (lambda p: p.update(cryptosuite="ecdsa-rdfc-2019"), Code.UNSUPPORTED_CRYPTOSUITE),
    (lambda p: p.update(proofValue="not base58"), Code.MALFORMED_PROOF),
    (lambda p: p.update(created="yesterday"), Code.MALFORMED_PROOF),
    (lambda p: p.update(expires="2025-01-01T00:00:00Z"), Code.MALFORMED_PROOF),
])
def test_a_malformed_proof_is_refused(change, code: Code) -> None:
    credential = sign(unsigned())
    change(credential["proof"])
    assert failures(check(credential))[0] == ("proof", INVALID, code)


def test_the_key_must_be_the_issuers_did_key() -> None:
    other = sign(unsigned(), OTHER_KEY)
    assert failures(check(other))[0] == ("proof", INVALID, Code.WRONG_KEY_CONTROLLER)
    missing = unsigned()
    assert failures(check(missing))[0] == ("proof", INVALID, Code.PROOF_MISSING)


def proof_by_hand(secured: dict, **members: object) -> dict:
    """A DataIntegrityProof by KEY (eddsa-rdfc-2022) with extra members (an id, a
    previousProof) over `secured`, which holds the proofs a chained proof covers."""
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
               "verificationMethod": verification_method_id(DID, KEY.public_key),
               "proofPurpose": "assertionMethod", **members}
    hash_data = proofs._hash_data(secured, options, "eddsa-rdfc-2022", None)
    return {**options, "proofValue": "z" + b58encode(KEY.sign(hash_data))}


def test_every_proof_of_a_set_must_verify() -> None:
    first = sign(unsigned(), cryptosuite="eddsa-jcs-2022")
    second = sign(unsigned())
    proof_set = {**first, "proof": [first["proof"], second["proof"]]}
    assert check(proof_set).verdict == VALID
    broken = copy.deepcopy(proof_set)
    broken["proof"][1]["proofValue"] = first["proof"]["proofValue"]
    assert failures(check(broken))[0] == ("proof", INVALID, Code.SIGNATURE_INVALID)


def test_a_chained_proof_verifies_with_the_proof_it_names() -> None:
    head = proof_by_hand(unsigned(), id="urn:uuid:first")
    tail = proof_by_hand({**unsigned(), "proof": [head]}, previousProof="urn:uuid:first")
    assert check({**unsigned(), "proof": [head, tail]}).verdict == VALID
    dangling = {**unsigned(), "proof": [head, {**tail, "previousProof": "urn:uuid:missing"}]}
    assert failures(check(dangling))[0] == ("proof", INVALID, Code.MALFORMED_PROOF)
    failing_head = {**head, "proofValue": tail["proofValue"]}
    assert failures(check({**unsigned(), "proof": [failing_head, tail]}))[0] == (
        "proof", INVALID, Code.SIGNATURE_INVALID)


@pytest.mark.parametrize(("members", "code"), [
    ({"validFrom": "2027-01-01T00:00:00Z"}, Code.NOT_YET_VALID),
    ({"validUntil": "2026-01-01T00:00:00Z"}, Code.EXPIRED),
])
def test_the_validity_period_is_checked(members: dict, code: Code) -> None:
    assert failures(check(sign(unsigned(**members)))) == [
        ("validity", INVALID, code), ("status", SKIPPED, Code.PRECONDITION_FAILED)]


def test_a_vc_1_1_credential_is_verified_by_its_own_dates() -> None:
    credential = {"@context": [VC_V1, "https://w3id.org/security/data-integrity/v2"],
                  "type": ["VerifiableCredential"], "issuer": DID,
                  "issuanceDate": "2020-03-16T22:37:26.544Z",
                  "expirationDate": "2026-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:alice"}}
    assert failures(check(sign(credential))) == [
        ("validity", INVALID, Code.EXPIRED), ("status", SKIPPED, Code.PRECONDITION_FAILED)]
    credential.pop("expirationDate")
    assert check(sign(credential)).verdict == VALID


def test_only_the_banks_issuers_go_through_the_banks_pipeline(ledger: MemoryLedger) -> None:
    context = Context(ledger, clock=lambda: NOW)
    bank = anchored(ledger, [signed(1)])[0]
    assert is_bank_credential(bank, context, bank_did_host="creditbank.example")
    assert is_bank_credential({"issuer": {"id": ISSUER_DID}}, context,
                              bank_did_host="other.example")
    assert is_bank_credential({"issuer": "did:web:bank.example:issuers:x"}, context,
                              bank_did_host="bank.example")
    assert not is_bank_credential(unsigned(), context, bank_did_host="creditbank.example")
    assert is_bank_credential(b"{}", context, bank_did_host="creditbank.example")
    foreign = sign(unsigned())
    assert verify_any_credential(foreign, context, bank_did_host="creditbank.example").verdict \
        == VALID
    forged = {**foreign, "issuer": ISSUER_DID}
    strict = verify_any_credential(forged, context, bank_did_host="creditbank.example")
    assert strict.verdict == INVALID and "accreditation" in [f.name for f in strict.fragments]


def test_a_presentation_of_did_key_credentials_is_verified_by_the_w3c_profile() -> None:
    holder = did_key(LEARNER_KEY.public_key)
    presentation = present([sign(unsigned())], LEARNER_KEY, challenge="c-1", domain="v.example")
    context = Context(MemoryLedger(), clock=lambda: NOW)
    report = verify_w3c_presentation(presentation, context, challenge="c-1", domain="v.example")
    assert report.verdict == VALID, report.to_json()
    assert [f.name for f in report.fragments] == ["parse", "data_model", "proof", "challenge"]
    assert (report.holder, [r.verdict for r in report.credentials]) == (holder, [VALID])

    empty = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": holder}
    signed_empty = proofs.sign(empty, LEARNER_KEY, proof_purpose="authentication",
                               verification_method=verification_method_id(
                                   holder, LEARNER_KEY.public_key))
    report = verify_w3c_presentation(signed_empty, context, challenge=None, domain=None)
    assert (report.verdict, report.credentials) == (VALID, ())

    other = verify_w3c_presentation(presentation, context, challenge="c-2", domain=None)
    assert other.fragment("challenge").code == Code.CHALLENGE_MISMATCH
    bad = {**presentation, "holder": "Alice"}
    assert verify_w3c_presentation(bad, context, challenge=None, domain=None).fragment(
        "data_model").details["field"] == "/holder"
