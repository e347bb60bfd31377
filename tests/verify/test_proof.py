"""The proof check reads a signed credential only as its JSON says: a rewrite that keeps the
RDF but changes the JSON is INVALID with a JSON-LD reason code, never VALID or INDETERMINATE."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.support.jsonld_attacks import ATTACKS, learner_swapped
from tests.support.verify import MemoryLedger, anchored, signed
from verify import CHECKS, Code, Context, Status, verify_credential
from verify.cache import VerifiedSignatures

VALID, INVALID, INDETERMINATE, SKIPPED = Status
NOW = datetime(2026, 1, 15, tzinfo=UTC)


def outcome(ledger: MemoryLedger, credential: dict) -> list[tuple[str, Status, Code | None]]:
    """(check, status, code) of every check of the credential's report at NOW."""
    report = verify_credential(credential, Context(ledger, clock=lambda: NOW))
    return [(fragment.name, fragment.status, fragment.code) for fragment in report.fragments]


def expected(proof: Code, anchor: Code) -> list[tuple[str, Status, Code | None]]:
    """Parse, format and validity pass; the proof and anchor checks fail with their codes, and
    the checks that need them are skipped."""
    skipped = (SKIPPED, Code.PRECONDITION_FAILED)
    results = {"proof": (INVALID, proof), "key_binding": skipped, "accreditation": skipped,
               "anchor": (INVALID, anchor), "status": skipped}
    return [(check.NAME, *results.get(check.NAME, (VALID, None))) for check in CHECKS]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_rewritten_anchored_credential_fails_its_proof_check(ledger: MemoryLedger,
                                                              attack: str) -> None:
    (credential,) = anchored(ledger, [signed(1)])
    ATTACKS[attack].rewrite(credential)
    assert outcome(ledger, credential) == expected(
        ATTACKS[attack].code, Code.MERKLE_PROOF_INVALID
    )


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_rewritten_credential_not_yet_anchored_fails_its_proof_check(ledger: MemoryLedger,
                                                                       attack: str) -> None:
    credential = signed(1)
    ATTACKS[attack].rewrite(credential)
    assert outcome(ledger, credential) == expected(
        ATTACKS[attack].code, Code.ANCHOR_PROOF_MISSING
    )


def test_the_refusal_names_its_reason(ledger: MemoryLedger) -> None:
    credential = signed(1)
    learner_swapped(credential)
    report = verify_credential(credential, Context(ledger, clock=lambda: NOW))
    (proof,) = [fragment for fragment in report.fragments if fragment.name == "proof"]
    assert (proof.status, proof.code, proof.details) == (
        INVALID, Code.JSONLD_AMBIGUOUS,
        {"reason": "@id: another member of the object also means @id"},
    )
    assert proof.message == (
        "Two members of one object in the credential mean the same thing, so its signature "
        "cannot be checked: @id: another member of the object also means @id"
    )


def test_with_no_chain_the_proof_check_still_decides(ledger: MemoryLedger) -> None:
    credential = signed(1)
    learner_swapped(credential)
    ledger.down = True
    results = {name: (status, code) for name, status, code in outcome(ledger, credential)}
    assert results["proof"] == (INVALID, Code.JSONLD_AMBIGUOUS)
    assert report_verdict(ledger, credential) == INVALID


def report_verdict(ledger: MemoryLedger, credential: dict) -> Status:
    """The verdict on the credential at NOW."""
    return verify_credential(credential, Context(ledger, clock=lambda: NOW)).verdict


@pytest.mark.parametrize("memo", [None, VerifiedSignatures()], ids=["no memo", "memo"])
def test_an_unpaired_surrogate_is_invalid_at_parse_never_indeterminate(ledger: MemoryLedger,
                                                                     memo) -> None:
    credential = signed(1)
    credential["credentialSubject"]["term"] = "2025 spring\ud800"
    raw = json.dumps(credential).encode()
    report = verify_credential(raw, Context(ledger, clock=lambda: NOW, signatures=memo))
    assert [(fragment.name, fragment.status, fragment.code)
            for fragment in report.fragments][:3] == [
        ("parse", INVALID, Code.NOT_JSON),
        ("format", SKIPPED, Code.PRECONDITION_FAILED),
        ("proof", SKIPPED, Code.PRECONDITION_FAILED),
    ]
