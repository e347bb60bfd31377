"""The W3C VC-API under /api/vc: verify credentials and presentations, issue credentials."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bank.accounts import new_operator_token
from credentials.contexts import EXAMPLES_V2, OB_V3, VC_V2
from credentials.dids import did_key, verification_method_id
from credentials.keys import SigningKey
from credentials.proofs import sign
from issuers.anchoring import AnchoringWorker
from issuers.batch import Batch
from issuers.registry import issuer_record
from portal.app import create_app
from portal.runtime import Runtime
from portal.vcapi import conformance_key
from tests.credentials.test_interop import independent_verify
from tests.support.issuer import accredited
from tests.support.paths import TESTS
from tests.support.portal import runtime_issuer
from tests.support.presenting import present
from verify import CHECKS, Context, Status, verify_credential

CHECK_NAMES = [check.NAME for check in CHECKS]
VERIFY = "/api/vc/credentials/verify"
ISSUE = "/api/vc/credentials/issue"
NATIONAL_ID = "110101199003074514"


@pytest.fixture
def client(runtime: Runtime):
    """A test client of the portal over the runtime, with a small rate limit."""
    app = create_app(runtime, {"TESTING": True, "RATE_LIMITS": {"verify": (8, 60)}})
    return app.test_client()


@pytest.fixture
def anchored(runtime: Runtime) -> tuple[dict, dict]:
    """A valid anchored credential, and one whose batch the issuer revoked on chain."""
    issuer = runtime_issuer(runtime)
    valid = issuer.anchor([issuer.sign(1)])[0]
    revoked_batch = [issuer.sign(2)]
    revoked = issuer.anchor(revoked_batch)[0]
    issuer.chain.ledger.transact(
        issuer.account, "CredentialAnchor", "revokeRoot", Batch.of(revoked_batch).root, 2
    )
    return valid, revoked


def failed(body: dict) -> list[tuple[str, str]]:
    """(check, code) of each problem the answer reports."""
    return [(problem["check"], problem["title"]) for problem in body["errors"]]


def test_a_valid_credential_is_verified_with_every_check(client, anchored) -> None:
    response = client.post(VERIFY, json={"verifiableCredential": anchored[0]})
    assert response.status_code == 200
    assert response.json == {
        "verified": True,
        "checks": CHECK_NAMES,
        "warnings": [],
        "errors": [],
        "problemDetails": [],
    }


def test_a_tampered_credential_is_not_verified_and_names_the_checks(client, anchored) -> None:
    tampered = json.loads(json.dumps(anchored[0]))
    tampered["credentialSubject"]["creditsEarned"] = 30
    response = client.post(
        VERIFY, json={"verifiableCredential": tampered, "options": {"checks": ["proof"]}}
    )
    assert response.status_code == 400
    body = response.json
    assert body["verified"] is False
    assert failed(body) == [
        ("proof", "SIGNATURE_INVALID"),
        ("anchor", "MERKLE_PROOF_INVALID"),
    ]
    assert body["errors"][0]["type"] == "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    assert body["problemDetails"] == body["errors"]
    assert "proof" not in body["checks"]


def test_a_revoked_credential_is_not_verified(client, anchored) -> None:
    response = client.post(VERIFY, json={"verifiableCredential": anchored[1]})
    body = response.json
    assert (response.status_code, body["verified"], failed(body)) == (
        400, False, [("status", "REVOKED_BATCH")])


def test_return_credential_gives_the_credential_back(client, anchored) -> None:
    body = client.post(
        VERIFY, json={"verifiableCredential": anchored[0], "options": {"returnCredential": True}}
    ).json
    assert (body["verified"], body["credential"]) == (True, anchored[0])


@pytest.mark.parametrize(
    ("request_body", "errors"),
    [
        ([], {"json": ["must be a JSON object"]}),
        ({}, {"verifiableCredential": ["must be a JSON object"]}),
        ({"verifiableCredential": "text"}, {"verifiableCredential": ["must be a JSON object"]}),
        ({"verifiableCredential": {}, "extra": 1}, {"extra": ["unknown member"]}),
        (
            {"verifiableCredential": {}, "options": {"skipStatus": True}},
            {"options": {"skipStatus": ["unknown option"]}},
        ),
        (
            {"verifiableCredential": {}, "options": {"returnCredential": "yes"}},
            {"options": {"returnCredential": ["must be a boolean"]}},
        ),
        (
            {"verifiableCredential": {}, "options": {"checks": ["proof", "magic"]}},
            {"options": {"checks": ["unknown check 'magic'"]}},
        ),
        ({"verifiableCredential": {}, "options": []}, {"options": ["must be a JSON object"]}),
    ],
)
def test_a_malformed_request_is_400_naming_the_member(client, request_body, errors) -> None:
    response = client.post(VERIFY, json=request_body)
    assert response.status_code == 400
    assert response.json["errors"] == errors


def test_a_repeated_member_or_a_body_that_is_not_json_is_400(client) -> None:
    repeated = b'{"verifiableCredential": {"id": "a", "id": "b"}}'
    response = client.post(VERIFY, data=repeated, content_type="application/json")
    assert (response.status_code, response.json["errors"]) == (
        400, {"json": ["repeats the member 'id'"]},
    )
    response = client.post(VERIFY, data=b"{", content_type="application/json")
    assert (response.status_code, response.json["errors"]) == (
        400, {"json": ["the body is not JSON"]},
    )


def test_a_credential_without_an_issuer_is_examined_and_found_wanting(client) -> None:
    response = client.post(VERIFY, json={"verifiableCredential": {"type": "nothing"}})
    body = response.json
    assert (response.status_code, body["verified"]) == (400, False)
    assert failed(body) == [("data_model", "MISSING_MEMBER")]
    assert body["errors"][0]["type"] == "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"


def test_an_unparseable_bank_credential_is_examined_and_found_wanting(client, runtime) -> None:
    did = f"did:web:{runtime.settings.did_host.replace(':', '%3A')}:issuers:nobody"
    credential = {"@context": ["https://example.org/unknown"], "issuer": did}
    response = client.post(VERIFY, json={"verifiableCredential": credential})
    assert response.status_code == 400
    assert response.json["errors"][0]["type"] == (
        "https://www.w3.org/TR/vc-data-model#PARSING_ERROR")


def test_verification_is_rate_limited(client) -> None:
    codes = [
        client.post(VERIFY, json={"verifiableCredential": {}}).status_code for _ in range(10)
    ]
    assert codes == [400] * 8 + [429] * 2


def test_presentation_options_are_checked(client) -> None:
    response = client.post(
        PRESENT, json={"verifiablePresentation": {}, "options": {"challenge": 5, "nonce": "x"}}
    )
    assert response.status_code == 400
    assert response.json["errors"] == {
        "options": {"challenge": ["must be a string"], "nonce": ["unknown option"]}
    }


PRESENT = "/api/vc/presentations/verify"
ASKED = {"challenge": "c-0S6_WzA2Mj", "domain": "verifier.example"}


def test_a_presentation_of_the_learners_credential_is_verified(client, anchored) -> None:
    presentation = present([anchored[0]], challenge=ASKED["challenge"], domain=ASKED["domain"])
    request_body = {"verifiablePresentation": presentation, "options": ASKED}
    body = client.post(PRESENT, json=request_body).json
    assert (body["verified"], body["errors"]) == (True, [])
    assert body["checks"] == ["parse", "format", "proof", "challenge", "holder_binding"]
    assert [result["verified"] for result in body["credentialResults"]] == [True]


def test_a_presentation_for_another_challenge_or_of_a_revoked_credential_is_not_verified(
    client, anchored
) -> None:
    other = present([anchored[0]], challenge="another", domain=ASKED["domain"])
    body = client.post(PRESENT, json={"verifiablePresentation": other, "options": ASKED}).json
    assert (body["verified"], failed(body)) == (False, [("challenge", "CHALLENGE_MISMATCH")])

    revoked = present([anchored[1]], challenge=ASKED["challenge"], domain=ASKED["domain"])
    body = client.post(PRESENT, json={"verifiablePresentation": revoked, "options": ASKED}).json
    assert (body["verified"], failed(body)) == (False, [("status", "REVOKED_BATCH")])
    assert body["errors"][0]["credential"] == 0


def test_an_unsigned_presentation_is_not_verified(client) -> None:
    presentation = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    response = client.post(
        PRESENT, json={"verifiablePresentation": presentation, "options": {"challenge": "abc"}}
    )
    assert response.status_code == 200
    body = response.json
    assert body["verified"] is False
    assert body["credentialResults"] == []
    assert body["errors"]


@pytest.fixture
def institution(runtime: Runtime):
    """An accredited issuer with a catalogue: its bearer headers, its DID and a worker."""
    accreditation = accredited(runtime)
    did = issuer_record(runtime.engine, "demo-university")["did"]
    worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings)
    return {"Authorization": f"Bearer {accreditation.token}"}, did, worker


def achievement_credential(did: str, **members: object) -> dict:
    """An unsigned AchievementCredential on CS101 for one learner, as a VC-API client sends it."""
    return {
        "@context": [VC_V2, OB_V3],
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": did,
        "validFrom": "2025-06-30T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "nationalIdentityNumber",
                    "hashed": False,
                    "identityHash": NATIONAL_ID,
                }
            ],
            "achievement": {"type": ["Achievement"], "humanCode": "CS101"},
            "result": [{"type": ["Result"], "value": "A"}],
            "term": "2025 spring",
            "creditsEarned": 3.5,
            "activityStartDate": "2025-02-20",
        },
        **members,
    }


def test_issue_signs_an_achievement_credential_that_verifies_once_anchored(
    runtime: Runtime, client, institution
) -> None:
    headers, did, worker = institution
    sent = achievement_credential(did)
    response = client.post(
        ISSUE,
        json={"credential": sent, "options": {"cryptosuite": "eddsa-jcs-2022"}},
        headers=headers,
    )
    assert response.status_code == 201
    signed = response.json["verifiableCredential"]
    assert signed["issuer"]["id"] == did
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert signed["credentialSubject"]["achievement"]["humanCode"] == "CS101"
    assert signed["credentialSubject"]["identifier"][0]["hashed"] is True
    assert NATIONAL_ID not in json.dumps(signed)

    record = client.get(f"/api/v1/credentials/{signed['id']}", headers=headers).json
    worker.drain({record["batch"]})
    anchored = client.get(f"/api/v1/credentials/{signed['id']}", headers=headers).json
    body = client.post(VERIFY, json={"verifiableCredential": anchored["credential"]}).json
    assert (body["verified"], body["errors"]) == (True, [])


def test_issue_needs_an_institution_token(client, institution) -> None:
    _headers, did, _worker = institution
    body = {"credential": achievement_credential(did)}
    assert client.post(ISSUE, json=body).status_code == 401
    wrong = {"Authorization": "Bearer cbi_not-a-token"}
    assert client.post(ISSUE, json=body, headers=wrong).status_code == 401


@pytest.mark.parametrize(
    ("members", "errors"),
    [
        ({"id": "urn:uuid:0b4d1f0e-4c5e-4c57-9f3c-2f1e1f0b0c0d"},
         {"/id": ["the bank assigns credential ids; leave it out"]}),
        ({"issuer": "did:web:elsewhere.example"},
         {"/issuer": ['the bank signs {"id": "DID"']}),
        ({"validFrom": "2025-06-30T12:00:00Z"},
         {"/validFrom": ["must be a date at midnight UTC, as YYYY-MM-DDT00:00:00Z"]}),
        ({"type": ["VerifiableCredential", "OpenBadgeCredential"]},
         {"/type": ["the bank signs ['VerifiableCredential', 'AchievementCredential']"]}),
        ({"credentialSubject": {"id": "did:example:learner"}},
         {"/credentialSubject/identifier": ["is required as a JSON array"]}),
        ({"name": "Not the unit's title"}, {"/name": ['the bank signs "Introduction']}),
        ({"credentialStatus": {"type": "BitstringStatusListEntry"}},
         {"/credentialStatus": None}),
    ],
)
def test_issue_refuses_what_it_would_not_sign_as_sent(
    client, institution, members, errors
) -> None:
    headers, did, _worker = institution
    response = client.post(
        ISSUE, json={"credential": achievement_credential(did, **members)}, headers=headers
    )
    assert response.status_code == 422
    found = response.json["errors"]["credential"]
    assert set(found) == set(errors)
    for pointer, expected in errors.items():
        if expected is not None:
            assert found[pointer][0].replace(did, "DID").startswith(expected[0])


def test_issue_names_the_member_of_an_unknown_unit_and_issues_nothing(
    client, institution
) -> None:
    headers, did, _worker = institution
    credential = achievement_credential(did)
    credential["credentialSubject"]["achievement"]["humanCode"] = "NOPE1"
    response = client.post(ISSUE, json={"credential": credential}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["credential"] == {
        "/credentialSubject/achievement/humanCode": ["unknown unit 'NOPE1'"]
    }
    again = client.post(ISSUE, json={"credential": achievement_credential(did)}, headers=headers)
    assert again.status_code == 201


def test_issue_refuses_unknown_options(client, institution) -> None:
    headers, did, _worker = institution
    body = {"credential": achievement_credential(did), "options": {"mandatoryPointers": []}}
    response = client.post(ISSUE, json=body, headers=headers)
    assert (response.status_code, response.json["errors"]) == (
        400, {"options": {"mandatoryPointers": ["unknown option"]}},
    )


def test_the_openapi_document_describes_the_vc_api(client) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/vc/credentials/verify", "/api/vc/presentations/verify",
            "/api/vc/credentials/issue", "/api/vc/conformance/credentials/issue"} <= set(paths)
    assert paths["/api/vc/credentials/issue"]["post"]["security"] == [{"bearerAuth": []}]
    conformance = paths["/api/vc/conformance/credentials/issue"]["post"]
    assert "never stored, anchored or accredited" in conformance["description"]


FOREIGN_KEY = SigningKey.from_seed(bytes(range(64, 96)))
FOREIGN_DID = did_key(FOREIGN_KEY.public_key)
OTHER_DID = did_key(SigningKey.from_seed(bytes(range(96, 128))).public_key)
W3C_CHECKS = ["parse", "data_model", "proof", "validity", "status"]
INTEROP = (TESTS / "js" / "node_modules").is_dir()


def example_credential(issuer: str = FOREIGN_DID, **members: object) -> dict:
    """An unsigned example credential (the W3C examples context) of `issuer`."""
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "alumniOf": "Example University"},
        **members,
    }


def foreign(credential: dict | None = None, key: SigningKey = FOREIGN_KEY) -> dict:
    """A credential signed by a did:key that is none of the bank's issuers."""
    method = verification_method_id(did_key(key.public_key), key.public_key)
    return sign(credential or example_credential(), key, verification_method=method)


def test_a_foreign_credential_is_verified_by_the_w3c_profile_with_a_warning(client) -> None:
    response = client.post(VERIFY, json={"verifiableCredential": foreign()})
    assert response.status_code == 200
    body = response.json
    assert (body["verified"], body["checks"], body["errors"]) == (True, W3C_CHECKS, [])
    assert [warning["title"] for warning in body["warnings"]] == ["ISSUER_NOT_ACCREDITED"]
    assert "not accredited by this credit bank" in body["warnings"][0]["detail"]


def test_a_tampered_foreign_credential_is_400_naming_the_proof(client) -> None:
    tampered = foreign()
    tampered["credentialSubject"]["alumniOf"] = "Another University"
    response = client.post(VERIFY, json={"verifiableCredential": tampered})
    assert (response.status_code, failed(response.json)) == (400, [("proof", "SIGNATURE_INVALID")])
    assert response.json["warnings"]


def test_a_credential_naming_a_bank_issuer_is_verified_strictly(client, institution) -> None:
    _headers, did, _worker = institution
    forged = foreign(example_credential(issuer=did))
    response = client.post(VERIFY, json={"verifiableCredential": forged})
    body = response.json
    assert (response.status_code, body["verified"], body["warnings"]) == (400, False, [])
    assert failed(body)[0] == ("parse", "UNSUPPORTED_TYPE")


def test_a_presentation_of_foreign_credentials_is_verified_by_the_w3c_profile(client) -> None:
    presentation = present([foreign()], challenge=ASKED["challenge"], domain=ASKED["domain"])
    response = client.post(PRESENT, json={"verifiablePresentation": presentation,
                                          "options": ASKED})
    body = response.json
    assert (response.status_code, body["verified"], body["errors"]) == (200, True, [])
    assert body["checks"] == ["parse", "data_model", "proof", "challenge"]
    assert [w["credential"] for w in body["warnings"]] == [0]
    assert body["credentialResults"][0]["checks"] == W3C_CHECKS

    stolen = {**foreign(), "issuer": OTHER_DID}
    tampered = present([stolen], challenge=ASKED["challenge"], domain=ASKED["domain"])
    body = client.post(PRESENT, json={"verifiablePresentation": tampered,
                                      "options": ASKED}).json
    assert (body["verified"], failed(body)) == (False, [("proof", "WRONG_KEY_CONTROLLER")])


CONFORMANCE = "/api/vc/conformance/credentials/issue"


@pytest.fixture
def operator(runtime: Runtime) -> dict:
    """The bearer headers of an operator of the city centre."""
    token = new_operator_token(runtime.engine, "ops", actor="test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def conformance(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):
    """A client of the portal with the conformance issuer on, and that issuer's DID."""
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, conformance_issuer=True))
    app = create_app(runtime, {"TESTING": True, "RATE_LIMITS": {}})
    return app.test_client(), did_key(conformance_key(runtime.settings.master_key()).public_key)


def test_the_conformance_issuer_is_off_by_default(client, operator) -> None:
    body = {"credential": example_credential()}
    assert client.post(CONFORMANCE, json=body, headers=operator).status_code == 404


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_the_conformance_issuer_signs_what_verifies_everywhere_but_the_bank(
    runtime: Runtime, conformance, operator, cryptosuite: str
) -> None:
    client, did = conformance
    response = client.post(CONFORMANCE, headers=operator, json={
        "credential": example_credential(did), "options": {"cryptosuite": cryptosuite}})
    assert response.status_code == 201
    signed = response.json["verifiableCredential"]
    assert (signed["issuer"], signed["proof"]["cryptosuite"]) == (did, cryptosuite)

    body = client.post(VERIFY, json={"verifiableCredential": signed}).json
    assert (body["verified"], body["checks"]) == (True, W3C_CHECKS)
    assert [warning["title"] for warning in body["warnings"]] == ["ISSUER_NOT_ACCREDITED"]
    strict = verify_credential(signed, Context(runtime.chain_facts))
    assert strict.verdict == Status.INVALID
    if INTEROP:
        status, result = independent_verify(signed, {})
        assert (status, result["verified"]) == (0, True), result


@pytest.mark.parametrize(("credential", "errors"), [
    ({"credentialSubject": {}}, {"/credentialSubject": ["must make at least one claim"]}),
    ({"validFrom": "2030-01-01T00:00:00Z", "validUntil": "2020-01-01T00:00:00Z"},
     {"/validUntil": ["must not be earlier than validFrom"]}),
    ({"issuer": OTHER_DID},
     {"/issuer": ["must be the conformance issuer's DID DID"]}),
    ({"type": ["VerifiableCredential", "Undefined"], "@context": [VC_V2],
      "credentialSubject": {"id": "did:example:alice"}},
     {"/@context": ["does not give the document a JSON-LD meaning: type: 'Undefined' is a "
                    "relative IRI and there is no base"]}),
])
def test_the_conformance_issuer_refuses_what_breaks_the_data_model(
    conformance, operator, credential: dict, errors: dict
) -> None:
    client, did = conformance
    body = {"credential": {**example_credential(did), **credential}}
    response = client.post(CONFORMANCE, json=body, headers=operator)
    assert response.status_code == 422
    assert {pointer: [message.replace(did, "DID") for message in messages]
            for pointer, messages in response.json["errors"]["credential"].items()} == errors


def test_the_conformance_issuer_is_for_operators_only(conformance, institution) -> None:
    client, did = conformance
    headers, _did, _worker = institution
    body = {"credential": example_credential(did)}
    assert client.post(CONFORMANCE, json=body).status_code == 401
    assert client.post(CONFORMANCE, json=body, headers=headers).status_code == 403
