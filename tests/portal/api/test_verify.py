"""POST /api/v1/verify: the public endpoint behind the verification page."""

from __future__ import annotations

import io
import json

import pytest

from portal.app import create_app
from portal.runtime import Runtime
from tests.support.chains import TestChain
from tests.support.issuing import Issuer
from tests.support.jsonld_attacks import learner_swapped
from tests.support.samples import ISSUER_DID, ISSUER_KEY
from verify import CHECKS

CHECK_NAMES = [check.NAME for check in CHECKS]


@pytest.fixture
def anchored(runtime: Runtime) -> list[dict]:
    """Two credentials of an accredited issuer, anchored on the runtime's chain."""
    chain = TestChain(
        ledger=runtime.ledger,
        operator=runtime.chain.operator(),
        deployment=runtime.deployment,
        node=runtime.node,
        allow=runtime.node.allow,
    )
    issuer = Issuer(chain, ISSUER_DID, ISSUER_KEY)
    return issuer.anchor([issuer.sign(1), issuer.sign(2)])


@pytest.fixture
def client(runtime: Runtime):
    """A test client of the portal over the runtime, with a small rate limit."""
    app = create_app(runtime, {"TESTING": True, "RATE_LIMITS": {"verify": (5, 60)}})
    return app.test_client()


def statuses(body: dict) -> list[tuple[str, str]]:
    """(check, status) rows of a report."""
    return [(check["name"], check["status"]) for check in body["checks"]]


def test_a_valid_credential_as_json_body(client, anchored) -> None:
    response = client.post("/api/v1/verify", json=anchored[0])
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "VALID"
    assert statuses(body) == [(name, "VALID") for name in CHECK_NAMES]


def test_a_tampered_upload_names_the_failing_check(client, anchored) -> None:
    tampered = json.loads(json.dumps(anchored[1]))
    tampered["credentialSubject"]["creditsEarned"] = 30
    upload = {"file": (io.BytesIO(json.dumps(tampered).encode()), "credential.json")}
    response = client.post("/api/v1/verify", data=upload, content_type="multipart/form-data")
    body = response.get_json()
    assert (response.status_code, body["verdict"]) == (200, "INVALID")
    assert [(c["name"], c["code"]) for c in body["checks"] if c["status"] == "INVALID"] == [
        ("proof", "SIGNATURE_INVALID"),
        ("anchor", "MERKLE_PROOF_INVALID"),
    ]


def test_a_credential_whose_json_names_another_learner_fails_its_proof(client, anchored) -> None:
    swapped = json.loads(json.dumps(anchored[0]))
    learner_swapped(swapped)
    body = client.post("/api/v1/verify", json=swapped).get_json()
    assert body["verdict"] == "INVALID"
    assert [(c["name"], c["code"]) for c in body["checks"] if c["status"] == "INVALID"] == [
        ("proof", "JSONLD_AMBIGUOUS"),
        ("anchor", "MERKLE_PROOF_INVALID"),
    ]


def test_empty_body_is_a_clear_400(client) -> None:
    response = client.post("/api/v1/verify", data=b"", content_type="application/json")
    assert (response.status_code, response.get_json()) == (
        400,
        {
            "code": 400,
            "status": "Bad Request",
            "message": "send the credential as the JSON body or as a file named 'file'",
        },
    )


def test_not_json_is_reported_invalid_by_the_parse_check(client) -> None:
    body = client.post("/api/v1/verify", data=b"{nope", content_type="application/json").get_json()
    assert (body["verdict"], body["checks"][0]["code"]) == ("INVALID", "NOT_JSON")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("9" * 5000, "UNSAFE_NUMBER"),
        (str(2**53), "UNSAFE_NUMBER"),
        (str(-(2**53)), "UNSAFE_NUMBER"),
        ("1e400", "UNSAFE_NUMBER"),
        ("NaN", "NOT_JSON"),
    ],
    ids=["5000 digits", "2^53", "-2^53", "1e400", "NaN"],
)
def test_numbers_json_cannot_carry_exactly_are_invalid(client, anchored, number, code) -> None:
    text = json.dumps(anchored[0])
    assert '"creditsEarned": 3.5' in text
    body = text.replace('"creditsEarned": 3.5', f'"creditsEarned": {number}').encode()
    answers = [
        client.post("/api/v1/verify", data=body, content_type="application/json"),
        client.post("/api/v1/verify", data={"file": (io.BytesIO(body), "credential.json")},
                    content_type="multipart/form-data"),
    ]
    expected = [("parse", "INVALID", code)] + [(name, "SKIPPED", "PRECONDITION_FAILED")
                                               for name in CHECK_NAMES[1:]]
    for answer in answers:
        report = answer.get_json()
        assert (answer.status_code, report["verdict"]) == (200, "INVALID")
        assert [(check["name"], check["status"], check["code"])
                for check in report["checks"]] == expected


def test_oversize_body_is_413_json(client) -> None:
    response = client.post("/api/v1/verify", data=b"x" * (9 * 1024 * 1024))
    assert (response.status_code, response.get_json()["code"]) == (413, 413)


def test_public_endpoint_is_rate_limited(client, anchored) -> None:
    codes = [client.post("/api/v1/verify", json=anchored[0]).status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2


def test_openapi_document_describes_the_endpoint(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/verify"]) == {"post"}
