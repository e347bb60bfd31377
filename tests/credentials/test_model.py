"""OB3 AchievementCredential and CLR 2.0 builders, accessors, and safe JSON-LD expansion."""

import json

import pytest

from credentials.canon import rdfc
from credentials.contexts import context_document
from credentials.errors import InvalidCredential
from credentials.jsonld import to_quads
from credentials.model import (
    KINDS,
    Result,
    achievement_credential,
    clr_credential,
    credential_kind,
    credential_level,
    hashed_identifier,
    issuer_did,
    kind_bit,
)
from tests.support.pyld_reference import pyld_expand, pyld_rdfc
from tests.support.samples import (
    ISSUER,
    ISSUER_DID,
    NATIONAL_ID,
    achievement,
    learner,
    signed_credential,
    unsigned_credential,
)


def test_achievement_credential_expands_safely_and_matches_pyld() -> None:
    credential = unsigned_credential()
    quads = to_quads(credential, context_document)
    assert not any("issuer-dependent" in part for quad in quads for part in quad)
    assert rdfc(credential) == pyld_rdfc(credential)
    expanded = json.dumps(pyld_expand(credential))
    for term in ("kind", "creditScheme", "learningHours", "qualificationLevel", "eqfLevel",
                 "levelNumber", "levelFramework", "learningOutcome", "nameZh"):
        assert f"https://creditbank.org/vocab#{term}" in expanded


def test_achievement_credential_shape() -> None:
    credential = unsigned_credential()
    subject = credential["credentialSubject"]
    assert credential["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert credential["issuer"] == {
        "id": ISSUER_DID, "type": ["Profile"], "name": "Demo University",
        "nameZh": "示范大学", "url": "https://demo.example.edu/",
    }
    assert subject["achievement"]["achievementType"] == "Course"
    assert subject["achievement"]["qualificationLevel"] == {
        "type": "QualificationLevel", "levelFramework": "CQF", "levelNumber": 6, "eqfLevel": 6}
    assert subject["result"] == [{
        "type": ["Result"],
        "resultDescription": subject["achievement"]["resultDescription"][0]["id"],
        "value": "A",
        "status": "Completed",
    }]
    assert (subject["creditsEarned"], subject["term"]) == (3.5, "2025 spring")


def test_no_plaintext_identifier_anywhere() -> None:
    text = json.dumps(signed_credential(), ensure_ascii=False)
    assert NATIONAL_ID not in text
    assert hashed_identifier(NATIONAL_ID, "demo-pepper-0123456789") == {
        "type": "IdentityObject",
        "identityHash": "sha256$db9ba5fcd17defcef6ae3c237dd742747135c5bcfbac9baa56c3501f5df8a645",
        "identityType": "nationalIdentityNumber",
        "hashed": True,
    }


def test_accessors() -> None:
    credential = unsigned_credential()
    assert credential_kind(credential) == "course"
    assert credential_level(credential) == 6
    assert issuer_did(credential) == ISSUER_DID
    assert issuer_did({"issuer": "did:key:z6Mk"}) == "did:key:z6Mk"
    with pytest.raises(InvalidCredential, match="issuer"):
        issuer_did({"issuer": {"id": "https://not-a-did"}})
    with pytest.raises(InvalidCredential, match="achievement"):
        credential_kind({"type": ["VerifiableCredential"]})


def test_kind_bits_follow_the_kinds_order() -> None:
    assert [kind_bit(kind) for kind in KINDS] == list(range(len(KINDS)))
    with pytest.raises(InvalidCredential, match="kind"):
        kind_bit("diploma")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_builds_a_valid_document(kind: str) -> None:
    credential = unsigned_credential(kind=kind)
    assert credential_kind(credential) == kind
    assert rdfc(credential).count("\n") > 40


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"valid_from": "2025-07-01"}, "valid_from"),
     ({"credential_id": "not an iri"}, "credential_id"),
     ({"result": Result("A", "stars")}, "result.scale"), ({"credits_earned": -1}, "credits_earned"),
     ({"activity_start": "July"}, "activity_start")],
)
def test_bad_builder_input_names_the_field(arguments: dict, message: str) -> None:
    base = dict(credential_id="urn:uuid:1", issuer=ISSUER, learner=learner(),
                achievement=achievement(), result=Result("A"), credits_earned=3,
                valid_from="2025-07-01T00:00:00Z")
    with pytest.raises(InvalidCredential, match=message):
        achievement_credential(**{**base, **arguments})


def test_clr_credential_bundles_signed_credentials() -> None:
    parts = [signed_credential(number=1), signed_credential("eddsa-jcs-2022", number=2)]
    clr = clr_credential(credential_id="urn:uuid:cafe0000-0000-4000-8000-000000000001",
                         issuer=ISSUER, learner=learner(), credentials=parts,
                         valid_from="2025-08-01T00:00:00Z")
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    assert clr["credentialSubject"]["verifiableCredential"] == parts
    assert credential_kind(clr) == "transcript"
    assert credential_level(clr) is None
    assert rdfc(clr) == pyld_rdfc(clr)
