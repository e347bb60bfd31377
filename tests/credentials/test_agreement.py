"""The learning agreement credential: every term defined in our bundled, protected context, and a
verifier we did not write (Digital Bazaar's) accepts its signature under both cryptosuites."""

from __future__ import annotations

import pytest

from credentials.contexts import AGREEMENT_V1, FILES, context_document
from credentials.dids import did_document, did_web, verification_method_id
from credentials.errors import InvalidCredential
from credentials.keys import SigningKey
from credentials.model import (
    AgreedLine,
    AgreementTerms,
    IssuerProfile,
    PlannedUnit,
    agreement_credential,
    credential_kind,
    credential_level,
)
from credentials.proofs import CRYPTOSUITES, sign
from tests.credentials.test_contexts import all_terms
from tests.credentials.test_interop import (
    INVALID_SIGNATURE,
    VERIFY_VC,
    independent_verify,
    outcome,
    tampered,
    with_anchor,
)

ISSUER = did_web("localhost:8443", "issuers", "bjou")
LEARNER = did_web("localhost:8443", "learners", "0f3c")
TERMS = AgreementTerms(
    programme_code="LOG-ASSOC", programme_title="Associate in Logistics Management",
    rule_set_id="bjou:LOG-ASSOC", version=2, content_hash="0x" + "ab" * 32,
    units=(PlannedUnit(did_web("localhost:8443", "issuers", "hdvc"), "WH110",
                       "Warehouse Operations", 3, 1),
           PlannedUnit(did_web("localhost:8443", "issuers", "hdvc"), "MATH110",
                       "Applied Mathematics", 4.5, 2)),
    lines=(AgreedLine(("WH110",), did_web("localhost:8443", "issuers", "hdvc"), "transfer",
                      "hdvc-warehouse", "major", 3),
           AgreedLine(("MATH110",), did_web("localhost:8443", "issuers", "hdvc"), "transfer",
                      "hdvc-general", "general", 4.5)),
    complete_by="2026-06-30")


def agreement() -> dict:
    return agreement_credential(
        credential_id="urn:uuid:8d1f4c36-1c55-4a39-b7a5-0d9d4a2f3e61",
        issuer=IssuerProfile(did=ISSUER, name="Beijing Open University"),
        learner_did=LEARNER, terms=TERMS, valid_from="2026-01-20T08:00:00Z")


def test_the_agreement_context_defines_only_its_own_terms() -> None:
    ours = context_document(AGREEMENT_V1)["@context"]
    published: dict = {}
    for url in FILES:
        if url != AGREEMENT_V1:
            all_terms(context_document(url)["@context"], published)
    clashes = {term for term in ours if term in published and term not in ("id", "type")}
    assert (ours["@protected"], clashes) == (True, set())


def test_an_agreement_is_no_learning_outcome() -> None:
    credential = agreement()
    assert (credential_kind(credential), credential_level(credential)) == ("agreement", None)
    assert credential["credentialSubject"]["agreedCredits"] == 7.5
    with pytest.raises(InvalidCredential):
        agreement_credential(credential_id="urn:uuid:1", issuer=IssuerProfile(ISSUER, "B"),
                             learner_did=LEARNER, terms=AgreementTerms(
                                 **{**TERMS.__dict__, "lines": ()}),
                             valid_from="2026-01-20T08:00:00Z")


@pytest.mark.skipif(not (VERIFY_VC.parent / "node_modules").is_dir(),
                    reason="tests/js/node_modules is missing: run `bash tests/install.sh`")
@pytest.mark.parametrize("cryptosuite", CRYPTOSUITES)
def test_a_verifier_we_did_not_write_accepts_the_agreement(cryptosuite: str) -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    signed = sign(agreement(), key, verification_method=verification_method_id(
        ISSUER, key.public_key), cryptosuite=cryptosuite, created="2026-01-20T08:00:00Z")
    anchored = with_anchor(signed)
    documents = {ISSUER: did_document(ISSUER, [key.public_key])}
    assert independent_verify(anchored, documents) == outcome(anchored, verified=True)
    altered = tampered(anchored, "credentialSubject", "completeBy")
    assert independent_verify(altered, documents) == outcome(
        altered, verified=False, errors=INVALID_SIGNATURE)
