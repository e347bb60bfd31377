"""The VC Data Model 2.0 MUSTs: a conforming credential or presentation has no violation; each
broken MUST is one violation naming its member."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credentials.contexts import EXAMPLES_V2, VC_V1, VC_V2
from credentials.datamodel import (
    Violation,
    credential_violations,
    date_time_stamp,
    jsonld_violation,
    presentation_violations,
)
from tests.support.documents import changed

CREDENTIAL = {
    "@context": [VC_V2, EXAMPLES_V2],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "ExampleAlumniCredential"],
    "issuer": {"id": "did:example:issuer", "name": "Example University"},
    "name": {"@value": "Alumni", "@language": "en"},
    "description": [{"@value": "Alumni", "@language": "en"}, "校友"],
    "validFrom": "2024-01-01T00:00:00Z",
    "validUntil": "2030-01-01T00:00:00.123+08:00",
    "credentialSubject": {"id": "did:example:alice", "alumniOf": "Example University"},
    "credentialStatus": {"id": "https://example.org/status/1#3", "type": "ExampleStatus"},
    "credentialSchema": [{"id": "https://example.org/schema.json", "type": "JsonSchema"}],
    "evidence": {"type": ["ExampleEvidence"]},
    "termsOfUse": [{"type": "ExamplePolicy", "id": "https://example.org/policy"}],
    "refreshService": {"type": "ExampleRefresh"},
    "relatedResource": [{"id": "https://example.org/logo.png", "digestSRI": "sha384-abc"}],
}


def test_a_conforming_credential_has_no_violation() -> None:
    assert credential_violations(CREDENTIAL) == []
    assert jsonld_violation(CREDENTIAL) is None


def test_the_smallest_credential_conforms() -> None:
    smallest = {"@context": [VC_V2], "type": "VerifiableCredential",
                "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                "credentialSubject": {"name": "Alice"}}
    assert credential_violations(smallest) == []


@pytest.mark.parametrize(("path", "value", "member", "message"), [
    (("@context",), ..., "/@context", "is required"),
    (("@context",), VC_V2, "/@context", "must be an ordered set"),
    (("@context",), [EXAMPLES_V2, VC_V2], "/@context/0", f"must be {VC_V2}"),
    (("@context", 1), 42, "/@context/1", "must be a URL or a context object"),
    (("@context", 1), "not a url", "/@context/1", "must be a URL or a context object"),
    (("type",), ..., "/type", "is required"),
    (("type",), ["ExampleAlumniCredential"], "/type", "must include VerifiableCredential"),
    (("type",), ["VerifiableCredential", 3], "/type", "must be a term or URL"),
    (("id",), None, "/id", "must be a single URL"),
    (("id",), ["urn:a", "urn:b"], "/id", "must be a single URL"),
    (("issuer",), ..., "/issuer", "is required"),
    (("issuer",), None, "/issuer", "must be a URL or an object whose id is a URL"),
    (("issuer",), "Example University", "/issuer", "must be a URL"),
    (("issuer", "id"), None, "/issuer/id", "must be a URL"),
    (("issuer", "name"), 7, "/issuer/name", "must be a string or a language value object"),
    (("credentialSubject",), ..., "/credentialSubject", "is required"),
    (("credentialSubject",), {}, "/credentialSubject", "must make at least one claim"),
    (("credentialSubject",), [], "/credentialSubject", "must hold at least one subject"),
    (("credentialSubject",), [{"a": 1}, {}], "/credentialSubject/1",
     "must make at least one claim"),
    (("credentialSubject",), "did:example:alice", "/credentialSubject", "must be an object"),
    (("credentialSubject", "id"), ["did:a", "did:b"], "/credentialSubject/id",
     "must be a single URL"),
    (("validFrom",), "2024-01-01", "/validFrom", "must be an XML Schema dateTimeStamp"),
    (("validFrom",), "2024-01-01T00:00:00", "/validFrom", "must be an XML Schema dateTimeStamp"),
    (("validUntil",), "Sat Feb 25 2023", "/validUntil", "must be an XML Schema dateTimeStamp"),
    (("validFrom",), "2031-01-01T00:00:00Z", "/validUntil", "must not be earlier than validFrom"),
    (("name",), {"@value": "Alumni", "@language": "en", "url": "x"}, "/name",
     "may not hold 'url'"),
    (("name",), {"@language": "en"}, "/name", "must hold its text as a string @value"),
    (("name",), {"@value": "Alumni", "@direction": "up"}, "/name", "ltr or rtl"),
    (("description", 0), {"@value": "x", "@language": "not a tag"}, "/description/0",
     "BCP 47"),
    (("credentialStatus",), {"id": "https://example.org/s"}, "/credentialStatus/type",
     "is required"),
    (("credentialStatus", "id"), ["urn:a", "urn:b"], "/credentialStatus/id",
     "must be a single URL"),
    (("credentialStatus", "type"), 2, "/credentialStatus/type", "must be a term or URL"),
    (("credentialSchema", 0, "type"), ..., "/credentialSchema/0/type", "is required"),
    (("credentialSchema", 0, "id"), ..., "/credentialSchema/0/id", "is required"),
    (("credentialSchema", 0, "id"), "schema.json", "/credentialSchema/0/id",
     "must be a single URL"),
    (("evidence",), {"id": "https://example.org/e"}, "/evidence/type", "is required"),
    (("termsOfUse", 0, "type"), ..., "/termsOfUse/0/type", "is required"),
    (("refreshService",), [], "/refreshService", "must hold at least one object"),
    (("refreshService",), {"url": "https://example.org"}, "/refreshService/type",
     "is required"),
    (("relatedResource", 0, "digestSRI"), ..., "/relatedResource/0",
     "must hold a digestSRI or a digestMultibase"),
    (("relatedResource", 0, "id"), ..., "/relatedResource/0/id", "is required as a URL"),
    (("relatedResource",), [{"id": "urn:a", "digestSRI": "x"}, {"id": "urn:a",
                                                                 "digestMultibase": "z"}],
     "/relatedResource/1/id", "must be unique"),
])
def test_each_broken_must_is_named(
        path: tuple, value: object, member: str, message: str) -> None:
    violations = credential_violations(changed(CREDENTIAL, path, value))
    assert [violation.member for violation in violations] == [member]
    assert message in violations[0].message


def test_a_document_that_is_not_an_object_is_one_violation() -> None:
    assert credential_violations(["VerifiableCredential"]) == [
        Violation("", "must be a JSON object")
    ]
    assert str(Violation("", "must be a JSON object")) == "/ must be a JSON object"


@pytest.mark.parametrize(("context", "message"), [
    ([VC_V2, {"VerifiableCredential": "https://example.org/#Bad"}], "protected term"),
    ([VC_V2, {"@vocab": None}], "relative IRI"),
    ([VC_V2, "https://example.org/unknown/v1"], "not bundled"),
])
def test_a_credential_without_a_json_ld_meaning_is_named_at_its_context(
        context: list, message: str) -> None:
    violation = jsonld_violation(changed(CREDENTIAL, ("@context",), context))
    assert violation is not None and violation.member == "/@context"
    assert message in violation.message


def test_a_vc_1_1_credential_is_held_to_vc_1_1() -> None:
    credential = {"@context": [VC_V1], "type": ["VerifiableCredential"],
                  "issuer": "did:example:issuer", "issuanceDate": "2020-03-16T22:37:26.544Z",
                  "credentialSubject": {"id": "did:example:alice"}}
    assert credential_violations(credential) == []
    assert jsonld_violation(credential) is None
    assert [v.member for v in credential_violations(changed(credential, ("issuanceDate",), ...))
            ] == ["/issuanceDate"]
    late = changed(credential, ("expirationDate",), "2019-01-01T00:00:00Z")
    assert [str(v) for v in credential_violations(late)] == [
        "/expirationDate must not be earlier than issuanceDate"
    ]


@pytest.mark.parametrize(("text", "instant"), [
    ("2024-02-29T12:00:00Z", datetime(2024, 2, 29, 12, tzinfo=UTC)),
    ("2024-01-01T08:00:00.5+08:00", datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("4023-02-26T01:02:58.447123456Z", datetime(4023, 2, 26, 1, 2, 58, 447123, tzinfo=UTC)),
    ("2024-01-01T00:00:00", None),
    ("2024-02-30T00:00:00Z", None),
    ("2024-01-01T24:00:00Z", None),
    ("2024-01-01T00:00:00+15:00", None),
    (20240101, None),
])
def test_date_time_stamps_need_their_offset(text: object, instant: datetime | None) -> None:
    assert date_time_stamp(text) == instant


PRESENTATION = {
    "@context": [VC_V2],
    "id": "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
    "type": ["VerifiablePresentation"],
    "holder": {"id": "did:example:alice"},
    "verifiableCredential": [CREDENTIAL],
}


def test_a_conforming_presentation_has_no_violation() -> None:
    assert presentation_violations(PRESENTATION) == []
    bare = {"@context": [VC_V2], "type": "VerifiablePresentation"}
    assert presentation_violations(bare) == []


@pytest.mark.parametrize(("path", "value", "member"), [
    (("@context",), ..., "/@context"),
    (("@context",), [EXAMPLES_V2, VC_V2], "/@context/0"),
    (("type",), ..., "/type"),
    (("type",), ["VerifiableCredential"], "/type"),
    (("id",), "not a url", "/id"),
    (("holder",), "Alice", "/holder"),
    (("holder",), {"name": "Alice"}, "/holder/id"),
    (("verifiableCredential",), "https://example.org/credential", "/verifiableCredential"),
    (("verifiableCredential",), [{"type": "Thing"}], "/verifiableCredential/0/type"),
])
def test_each_broken_presentation_must_is_named(path: tuple, value: object, member: str) -> None:
    violations = presentation_violations(changed(PRESENTATION, path, value))
    assert [violation.member for violation in violations] == [member]
