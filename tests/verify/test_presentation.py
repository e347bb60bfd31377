"""Tests of verify_presentation: the presentation's own checks, its credentials and the verdict."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from credentials.dids import did_key
from credentials.keys import SigningKey, ed25519_jwk, jwk_thumbprint
from ledger.records import Revocation
from tests.support import presenting
from tests.support.samples import LEARNER_KEY
from tests.support.verify import MemoryLedger, anchored, signed
from verify import Code, Context, Status
from verify.presentation import PresentationReport, verify_presentation

VALID, INVALID, INDETERMINATE, SKIPPED = Status
NOW = datetime(2026, 1, 15, tzinfo=UTC)
NONCE = "n-0S6_WzA2Mj"
CLIENT_ID = "redirect_uri:https://bank.example/oid4vp/response"
OTHER_KEY = SigningKey.from_seed(bytes(range(100, 132)))


def present(credentials: list[dict], key: SigningKey = LEARNER_KEY, *,
            challenge: str | None = NONCE, domain: str | None = CLIENT_ID,
            **options: object) -> dict:
    """A presentation of `credentials` by `key`, for NONCE and CLIENT_ID unless told otherwise."""
    return presenting.present(credentials, key, challenge=challenge, domain=domain, **options)


def check(raw: object, ledger: MemoryLedger, **options: object) -> PresentationReport:
    """The report on a presentation, asking for NONCE and CLIENT_ID unless told otherwise."""
    arguments: dict = {"challenge": NONCE, "domain": CLIENT_ID, **options}
    return verify_presentation(raw, Context(ledger, clock=lambda: NOW), **arguments)


def statuses(report: PresentationReport) -> list[tuple[str, Status, Code | None]]:
    """The (check, status, code) of each of the presentation's own fragments."""
    return [(fragment.name, fragment.status, fragment.code) for fragment in report.fragments]


@pytest.fixture
def credential(ledger: MemoryLedger) -> dict:
    """One anchored sample credential whose subject is the learner's did:key."""
    return anchored(ledger, [signed(1)])[0]


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_valid_presentation(ledger: MemoryLedger, credential: dict, cryptosuite: str) -> None:
    presentation = present([credential], cryptosuite=cryptosuite)
    report = check(json.dumps(presentation).encode(), ledger)
    assert report.verdict == VALID, report.to_json()
    assert [name for name, status, _ in statuses(report) if status == VALID] == [
        "parse", "format", "proof", "challenge", "holder_binding"]
    assert report.holder == did_key(LEARNER_KEY.public_key)
    [credential_report] = report.credentials
    assert credential_report.verdict == VALID
    assert report.fragment("holder_binding").details["credentials"] == [
        {"credential": credential["id"], "by": "subject"}]
    assert json.loads(json.dumps(report.to_json()))["credentials"][0]["verdict"] == "VALID"


def test_tampered_credential_fails_its_proof_check(ledger: MemoryLedger, credential: dict) -> None:
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Advanced Programming"
    report = check(present([tampered]), ledger)
    assert report.verdict == INVALID
    assert report.fragment("proof").status == VALID
    proof = report.credentials[0].fragment("proof")
    assert (proof.status, proof.code) == (INVALID, Code.SIGNATURE_INVALID)


def test_tampered_presentation_fails_the_holder_signature(ledger: MemoryLedger,
                                                          credential: dict) -> None:
    presentation = present([credential])
    presentation["holder"] = did_key(OTHER_KEY.public_key)
    report = check(presentation, ledger)
    assert report.fragment("proof").code == Code.HOLDER_KEY_MISMATCH
    presentation = present([credential], id="urn:uuid:1")
    presentation["id"] = "urn:uuid:2"
    report = check(presentation, ledger)
    assert (report.verdict, report.fragment("proof").code) == (INVALID, Code.SIGNATURE_INVALID)
    assert report.fragment("holder_binding").status == SKIPPED


@pytest.mark.parametrize(("options", "code"), [
    ({"challenge": "another nonce"}, Code.CHALLENGE_MISMATCH),
    ({"domain": "redirect_uri:https://evil.example/cb"}, Code.DOMAIN_MISMATCH),
])
def test_wrong_challenge_or_domain(ledger: MemoryLedger, credential: dict, options: dict,
                                   code: Code) -> None:
    report = check(present([credential]), ledger, **options)
    assert report.verdict == INVALID
    assert (report.fragment("challenge").status, report.fragment("challenge").code) == (
        INVALID, code)


def test_missing_challenge_is_refused_when_asked(ledger: MemoryLedger, credential: dict) -> None:
    report = check(present([credential], challenge=None), ledger)
    assert report.fragment("challenge").code == Code.CHALLENGE_MISMATCH
    assert check(present([credential], challenge=None, domain=None), ledger,
                 challenge=None, domain=None).verdict == VALID


def test_holder_binding_refused_for_another_learners_credential(ledger: MemoryLedger,
                                                                credential: dict) -> None:
    report = check(present([credential], OTHER_KEY), ledger)
    binding = report.fragment("holder_binding")
    assert (report.verdict, binding.status, binding.code) == (
        INVALID, INVALID, Code.HOLDER_NOT_BOUND)
    assert binding.details["credential"] == credential["id"]
    assert report.credentials[0].verdict == VALID


def test_holder_binding_by_delivery_to_the_wallet_key(ledger: MemoryLedger,
                                                      credential: dict) -> None:
    thumbprint = jwk_thumbprint(ed25519_jwk(OTHER_KEY.public_key))
    asked: list[tuple[str, str]] = []

    def delivered(credential_id: str, presenting: str) -> float | None:
        asked.append((credential_id, presenting))
        return 1_767_000_000.0 if presenting == thumbprint else None

    report = check(present([credential], OTHER_KEY), ledger, holder_binding=delivered)
    assert report.verdict == VALID
    assert asked == [(credential["id"], thumbprint)]
    assert report.fragment("holder_binding").details["credentials"][0]["by"] == "delivery"
    third = SigningKey.from_seed(bytes(range(140, 172)))
    report = check(present([credential], third), ledger, holder_binding=delivered)
    assert report.fragment("holder_binding").code == Code.HOLDER_NOT_BOUND


@pytest.mark.parametrize(("change", "check_name", "code"), [
    ({"termsOfUse": {"type": "x"}}, "format", Code.UNKNOWN_MEMBER),
    ({"verifiableCredential": []}, "format", Code.NO_CREDENTIAL),
    ({"verifiableCredential": ["a credential"]}, "format", Code.INVALID_MEMBER),
    ({"type": ["VerifiableCredential"]}, "parse", Code.NOT_A_PRESENTATION),
    ({"@context": ["https://example.org/unknown/v1"]}, "parse", Code.UNKNOWN_CONTEXT),
])
def test_malformed_presentations_are_refused(ledger: MemoryLedger, credential: dict,
                                             change: dict, check_name: str, code: Code) -> None:
    presentation = {**present([credential]), **change}
    report = check(presentation, ledger)
    assert (report.verdict, report.fragment(check_name).code) == (INVALID, code)
    assert report.credentials == ()


def test_proof_must_be_for_authentication_by_a_did_key(ledger: MemoryLedger,
                                                       credential: dict) -> None:
    presentation = present([credential])
    presentation["proof"] = {**presentation["proof"], "proofPurpose": "assertionMethod"}
    assert check(presentation, ledger).fragment("format").code == Code.INVALID_MEMBER
    del presentation["proof"]
    assert check(presentation, ledger).fragment("format").code == Code.PROOF_MISSING


def test_not_json_and_duplicate_members(ledger: MemoryLedger) -> None:
    assert check(b"{not json", ledger).fragment("parse").code == Code.NOT_JSON
    assert check(b'{"type": 1, "type": 2}', ledger).fragment("parse").code == (
        Code.DUPLICATE_MEMBER)
    assert check(b"[]", ledger).fragment("parse").code == Code.NOT_AN_OBJECT


def test_revoked_credential_makes_the_presentation_invalid(ledger: MemoryLedger,
                                                           credential: dict) -> None:

    root = bytes.fromhex(credential["proof"][1]["merkleRoot"][2:])
    ledger.root_revocations[root] = Revocation(3, 12)
    report = check(present([credential]), ledger)
    assert report.verdict == INVALID
    assert report.credentials[0].fragment("status").code == Code.REVOKED_BATCH
