"""Tests of the verify pipeline: each check's outcomes, ordering, skips, verdicts and bulk caching.

The chain is an in-memory LedgerView (tests/verify_support.py); the credentials are real: signed,
batched and anchored with the credentials package.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from credentials.anchoring import attach_anchor
from credentials.dids import did_web, verification_method_id
from credentials.keys import SigningKey
from credentials.merkle import MerkleTree, credential_digest
from credentials.model import clr_credential, kind_bit
from credentials.proofs import sign
from ledger.records import Revocation
from tests.support.samples import ISSUER, ISSUER_DID, ISSUER_KEY, learner, unsigned_credential
from tests.support.verify import (
    ALL_KINDS,
    ANCHOR_BLOCK,
    ANCHOR_CONTRACT,
    ANCHORED_AT,
    CHAIN_ID,
    ISSUER_ID,
    MemoryLedger,
    anchored,
    signed,
)
from verify import CHECKS, Code, Context, Report, Status, verify_credential, verify_many

VALID, INVALID, INDETERMINATE, SKIPPED = Status
NAMES = [check.NAME for check in CHECKS]
NOW = datetime(2026, 1, 15, tzinfo=UTC)
OTHER_DID = did_web("other.example")
OTHER_KEY = SigningKey.from_seed(bytes(range(100, 132)))

Outcome = list[tuple[str, Status, Code | None]]


def context_of(ledger: MemoryLedger, **options: int) -> Context:
    """A verification context over `ledger` with the clock stopped at NOW."""
    return Context(ledger, clock=lambda: NOW, **options)


def issued(ledger: MemoryLedger, count: int = 1) -> list[dict]:
    """`count` sample credentials, signed and anchored as one batch."""
    return anchored(ledger, [signed(number) for number in range(1, count + 1)])


def outcome(report: Report) -> Outcome:
    """The (check, status, code) of each fragment of a report."""
    return [(fragment.name, fragment.status, fragment.code) for fragment in report.fragments]


def expected(**changes: tuple[Status, Code | None]) -> Outcome:
    """Every check VALID except those named, which have the given status and code."""
    return [(name, *changes.get(name, (VALID, None))) for name in NAMES]


def verify(ledger: MemoryLedger, credential: dict | bytes | str) -> Report:
    """The report on one credential against `ledger` at NOW."""
    return verify_credential(credential, context_of(ledger))


SKIP = (SKIPPED, Code.PRECONDITION_FAILED)


def test_checks_run_in_the_reported_order() -> None:
    assert NAMES == [
        "parse",
        "format",
        "proof",
        "key_binding",
        "accreditation",
        "anchor",
        "status",
        "validity",
    ]


def test_valid_round_trip(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    report = verify(ledger, json.dumps(credential).encode())
    assert (report.verdict, outcome(report)) == (VALID, expected())
    root = "0x" + credential["proof"][1]["merkleRoot"][2:]
    assert report.fragment("anchor").details == {
        "chain_id": CHAIN_ID,
        "contract": ANCHOR_CONTRACT,
        "transaction_hash": credential["proof"][1]["transactionHash"],
        "root": root,
        "block": ANCHOR_BLOCK,
        "block_time": "2025-07-02T00:00:00Z",
    }
    assert report.credential == {
        "id": credential["id"],
        "type": "AchievementCredential",
        "issuer": ISSUER_DID,
        "issuer_name": "Demo University",
        "kind": "course",
        "level": 6,
        "title": "Introduction to Programming",
        "valid_from": "2025-07-01T00:00:00Z",
        "valid_until": "2035-07-01T00:00:00Z",
    }


def test_jcs_signed_credential_is_valid(ledger: MemoryLedger) -> None:
    unsigned = unsigned_credential(1)
    method = verification_method_id(ISSUER_DID, ISSUER_KEY.public_key)
    [credential] = anchored(
        ledger,
        [sign(unsigned, ISSUER_KEY, verification_method=method, cryptosuite="eddsa-jcs-2022")],
    )
    assert outcome(verify(ledger, credential)) == expected()


def test_report_json_is_serialisable(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    ledger.root_revocations[bytes.fromhex(credential["proof"][1]["merkleRoot"][2:])] = Revocation(
        3, 12
    )
    document = json.loads(json.dumps(verify(ledger, credential).to_json()))
    assert (document["verdict"], document["checks"][6]) == (
        "INVALID",
        {
            "name": "status",
            "status": "INVALID",
            "code": "REVOKED_BATCH",
            "message": "The issuer revoked the whole batch this credential belongs to "
            "(issued in error).",
            "details": {"reason": 3, "reason_name": "issued in error", "block": 12},
        },
    )


def test_tampered_credential_fails_signature_and_merkle(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    credential["credentialSubject"]["result"][0]["value"] = "A+"
    assert outcome(verify(ledger, credential)) == expected(
        proof=(INVALID, Code.SIGNATURE_INVALID),
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.MERKLE_PROOF_INVALID),
        status=SKIP,
    )


def root_of(credential: dict) -> bytes:
    """The batch root named by a credential's anchor proof."""
    return bytes.fromhex(credential["proof"][1]["merkleRoot"][2:])


def test_key_of_another_controller(ledger: MemoryLedger) -> None:
    """Signed by a key whose verification method belongs to another DID than the issuer's."""
    [credential] = anchored(ledger, [signed(did=OTHER_DID, key=OTHER_KEY)])
    report = verify(ledger, credential)
    assert outcome(report) == expected(proof=(INVALID, Code.WRONG_KEY_CONTROLLER), key_binding=SKIP)
    assert report.fragment("proof").details == {
        "field": "proof.verificationMethod",
        "controller": OTHER_DID,
        "issuer": ISSUER_DID,
    }


def test_unregistered_key(ledger: MemoryLedger) -> None:
    """Signed under the issuer's DID with a key never registered on chain."""
    [credential] = anchored(ledger, [signed(key=OTHER_KEY)])
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=(INVALID, Code.KEY_NOT_REGISTERED)
    )


def test_key_retired_before_anchoring(ledger: MemoryLedger) -> None:
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key, block=1, retired=ANCHOR_BLOCK)
    [credential] = issued(ledger)
    report = verify(ledger, credential)
    assert outcome(report) == expected(key_binding=(INVALID, Code.KEY_RETIRED))
    assert report.fragment("key_binding").details == {
        "registered_block": 1,
        "retired_block": ANCHOR_BLOCK,
        "anchor_block": ANCHOR_BLOCK,
    }


def test_key_retired_after_anchoring_still_binds(ledger: MemoryLedger) -> None:
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key, block=1, retired=ANCHOR_BLOCK + 1)
    [credential] = issued(ledger)
    assert outcome(verify(ledger, credential)) == expected()


def test_key_registered_after_anchoring(ledger: MemoryLedger) -> None:
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key, block=ANCHOR_BLOCK + 1)
    [credential] = issued(ledger)
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=(INVALID, Code.KEY_REGISTERED_AFTER_ANCHOR)
    )


def test_suspended_issuer_is_invalid_until_reinstated(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    accredited = ledger.issuers[ISSUER_DID]
    ledger.issuers[ISSUER_DID] = replace(accredited, suspended=True)
    assert outcome(verify(ledger, credential)) == expected(
        accreditation=(INVALID, Code.ISSUER_SUSPENDED)
    )
    ledger.issuers[ISSUER_DID] = accredited
    assert outcome(verify(ledger, credential)) == expected()


def test_unaccredited_issuer(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    del ledger.issuers[ISSUER_DID]
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=(INVALID, Code.KEY_NOT_REGISTERED),
        accreditation=(INVALID, Code.ISSUER_NOT_ACCREDITED),
        anchor=(INVALID, Code.ANCHORED_BY_OTHER_ISSUER),
        status=SKIP,
    )


def test_out_of_scope_kind(ledger: MemoryLedger) -> None:
    ledger.accredit(ISSUER_DID, kind_mask=ALL_KINDS & ~(1 << kind_bit("course")))
    [credential] = issued(ledger)
    report = verify(ledger, credential)
    assert outcome(report) == expected(accreditation=(INVALID, Code.OUT_OF_SCOPE))
    assert report.fragment("accreditation").details == {"kind": "course"}


def test_out_of_scope_level(ledger: MemoryLedger) -> None:
    ledger.accredit(ISSUER_DID, level_mask=(1 << 5) - 1)
    [credential] = issued(ledger)
    report = verify(ledger, credential)
    assert outcome(report) == expected(accreditation=(INVALID, Code.OUT_OF_SCOPE))
    assert report.fragment("accreditation").details == {"level": 6}


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "code"),
    [
        (ANCHORED_AT + 1, 0, Code.ACCREDITATION_NOT_YET_VALID),
        (0, ANCHORED_AT, Code.ACCREDITATION_EXPIRED),
    ],
)
def test_anchored_outside_the_accreditation(
    ledger: MemoryLedger, valid_from: int, valid_until: int, code: Code
) -> None:
    ledger.accredit(ISSUER_DID, valid_from=valid_from, valid_until=valid_until)
    [credential] = issued(ledger)
    assert outcome(verify(ledger, credential)) == expected(accreditation=(INVALID, code))


def test_accreditation_ended_after_anchoring_keeps_the_credential_valid(
    ledger: MemoryLedger,
) -> None:
    ledger.accredit(ISSUER_DID, valid_until=ANCHORED_AT + 1)
    [credential] = issued(ledger)
    assert outcome(verify(ledger, credential)) == expected()


def test_revoked_batch(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    ledger.root_revocations[root_of(credential)] = Revocation(reason=2, block=20)
    report = verify(ledger, credential)
    assert outcome(report) == expected(status=(INVALID, Code.REVOKED_BATCH))
    assert report.fragment("status").details == {
        "reason": 2,
        "reason_name": "key compromise",
        "block": 20,
    }


def test_revoked_credential_only_revokes_that_leaf(ledger: MemoryLedger) -> None:
    first, second = issued(ledger, 2)
    ledger.leaf_revocations[root_of(first), credential_digest(first)] = Revocation(5, 30)
    report = verify(ledger, first)
    assert outcome(report) == expected(status=(INVALID, Code.REVOKED_CREDENTIAL))
    assert report.fragment("status").details == {"reason": 5, "reason_name": "fraud", "block": 30}
    assert outcome(verify(ledger, second)) == expected()


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"validFrom": "2026-01-15T00:00:01Z"}, Code.NOT_YET_VALID),
        ({"validUntil": "2026-01-15T00:00:00Z"}, Code.EXPIRED),
        ({"validFrom": "2026-01-15T08:00:01+08:00"}, Code.NOT_YET_VALID),
    ],
)
def test_validity_period(ledger: MemoryLedger, members: dict, code: Code) -> None:
    [credential] = anchored(ledger, [signed(**members)])
    assert outcome(verify(ledger, credential)) == expected(validity=(INVALID, code))


def test_unknown_chain(ledger: MemoryLedger) -> None:
    [credential] = anchored(ledger, [signed()], chain_id=CHAIN_ID + 1)
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP, accreditation=SKIP, anchor=(INVALID, Code.UNKNOWN_CHAIN), status=SKIP
    )


def test_unknown_contract(ledger: MemoryLedger) -> None:
    [credential] = anchored(ledger, [signed()], contract="0x" + "ab" * 20)
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP, accreditation=SKIP, anchor=(INVALID, Code.UNKNOWN_CONTRACT), status=SKIP
    )


def test_trusted_chain_pinned_in_the_context(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    context = Context(ledger, clock=lambda: NOW, trusted_chain_id=CHAIN_ID + 1)
    assert outcome(verify_credential(credential, context)) == expected(
        key_binding=SKIP, accreditation=SKIP, anchor=(INVALID, Code.UNKNOWN_CHAIN), status=SKIP
    )


def test_contract_address_compares_case_insensitively(ledger: MemoryLedger) -> None:
    [credential] = anchored(ledger, [signed()], contract=ANCHOR_CONTRACT.lower())
    assert outcome(verify(ledger, credential)) == expected()


def test_root_anchored_by_another_issuer(ledger: MemoryLedger) -> None:
    other = ledger.accredit(OTHER_DID)
    [credential] = anchored(ledger, [signed()], issuer_id=other.issuer_id)
    report = verify(ledger, credential)
    assert outcome(report) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.ANCHORED_BY_OTHER_ISSUER),
        status=SKIP,
    )
    assert report.fragment("anchor").details["anchored_by"] == "0x" + other.issuer_id.hex()


def test_root_never_anchored(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    del ledger.anchors[root_of(credential)]
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP, accreditation=SKIP, anchor=(INVALID, Code.NOT_ANCHORED), status=SKIP
    )


def test_transaction_that_did_not_anchor_the_root(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    ledger.transactions[credential["proof"][1]["transactionHash"]] = set()
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.TRANSACTION_MISMATCH),
        status=SKIP,
    )


def test_missing_anchor_proof(ledger: MemoryLedger) -> None:
    assert outcome(verify(ledger, signed())) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.ANCHOR_PROOF_MISSING),
        status=SKIP,
    )


def test_malformed_anchor_proof(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    credential["proof"][1]["merkleRoot"] = "0x1234"
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.MALFORMED_ANCHOR_PROOF),
        status=SKIP,
    )


def test_tampered_merkle_path(ledger: MemoryLedger) -> None:
    first, _, _ = issued(ledger, 3)
    path = first["proof"][1]["merklePath"]
    path[0] = "0x" + bytes(32).hex()
    assert outcome(verify(ledger, first)) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.MERKLE_PROOF_INVALID),
        status=SKIP,
    )


def test_inner_node_presented_as_a_leaf(ledger: MemoryLedger) -> None:
    """The path from the first pair's inner node to the root does not prove the first leaf:
    leaves and inner nodes are hashed apart, so a leaf never passes for an inner node."""
    credentials = [signed(number) for number in range(1, 5)]
    tree = MerkleTree([credential_digest(credential) for credential in credentials])
    transaction_hash = ledger.record_anchor(
        tree.root, ISSUER_ID, block=ANCHOR_BLOCK, timestamp=ANCHORED_AT
    )
    credential = attach_anchor(
        credentials[0],
        chain_id=CHAIN_ID,
        contract=ANCHOR_CONTRACT,
        transaction_hash=transaction_hash,
        root=tree.root,
        path=tree.proof(0)[1:],
    )
    assert outcome(verify(ledger, credential)) == expected(
        key_binding=SKIP,
        accreditation=SKIP,
        anchor=(INVALID, Code.MERKLE_PROOF_INVALID),
        status=SKIP,
    )


def test_ledger_down_is_indeterminate_never_valid(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    ledger.down = True
    report = verify(ledger, credential)
    unavailable = (INDETERMINATE, Code.LEDGER_UNAVAILABLE)
    assert (report.verdict, outcome(report)) == (
        INDETERMINATE,
        expected(
            key_binding=unavailable, accreditation=unavailable, anchor=unavailable, status=SKIP
        ),
    )


def test_ledger_failures_are_not_cached(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    context = context_of(ledger)
    ledger.down = True
    assert verify_credential(credential, context).verdict == INDETERMINATE
    ledger.down = False
    assert verify_credential(credential, context).verdict == VALID


def test_invalid_beats_indeterminate(ledger: MemoryLedger) -> None:
    [credential] = anchored(ledger, [signed(validUntil="2025-12-31T00:00:00Z")])
    ledger.down = True
    assert verify(ledger, credential).verdict == INVALID


class BrokenLedger(MemoryLedger):
    """A ledger view with a bug: its key look-up raises an unexpected error."""

    def key(self, issuer_id: bytes, public_key: bytes) -> None:
        """Fail as a buggy view would."""
        raise ZeroDivisionError("bug")


def test_unexpected_error_is_indeterminate_without_a_trace() -> None:
    ledger = BrokenLedger()
    ledger.accredit(ISSUER_DID)
    [credential] = issued(ledger)
    report = verify(ledger, credential)
    assert (report.verdict, outcome(report)) == (
        INDETERMINATE,
        expected(key_binding=(INDETERMINATE, Code.UNEXPECTED_ERROR)),
    )
    assert report.fragment("key_binding").to_json() == {
        "name": "key_binding",
        "status": "INDETERMINATE",
        "code": "UNEXPECTED_ERROR",
        "message": "An unexpected error stopped this check; "
        "the credential could not be fully verified.",
        "details": {},
    }


def test_parse_failure_skips_every_later_check(ledger: MemoryLedger) -> None:
    report = verify(ledger, b"{not json")
    assert (report.verdict, outcome(report), report.credential) == (
        INVALID,
        [("parse", INVALID, Code.NOT_JSON), *[(name, *SKIP) for name in NAMES[1:]]],
        {},
    )
    assert [fragment.details for fragment in report.fragments[1:]] == [
        {"requires": "parse"},
        {"requires": "format"},
        {"requires": "proof"},
        {"requires": "format"},
        {"requires": "format"},
        {"requires": "anchor"},
        {"requires": "format"},
    ]


def test_format_failure_skips_the_checks_that_need_it(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    del credential["validFrom"]
    report = verify(ledger, credential)
    assert outcome(report) == [
        ("parse", VALID, None),
        ("format", INVALID, Code.MISSING_MEMBER),
        *[(name, *SKIP) for name in NAMES[2:]],
    ]
    assert report.fragment("format").details == {"field": "validFrom"}


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"@context": ["https://www.w3.org/ns/credentials/v2"]}, Code.INVALID_MEMBER, "@context"),
        ({"issuer": "https://university.example"}, Code.INVALID_MEMBER, "issuer"),
        ({"validFrom": "2025-07-01"}, Code.INVALID_MEMBER, "validFrom"),
        ({"validFrom": "2025-07-01T00:00:00"}, Code.INVALID_MEMBER, "validFrom"),
        ({"validUntil": "2025-06-01T00:00:00Z"}, Code.INVALID_MEMBER, "validUntil"),
        (
            {"credentialSubject": {"type": ["AchievementSubject"]}},
            Code.INVALID_MEMBER,
            "credentialSubject",
        ),
        ({"proof": []}, Code.PROOF_MISSING, "proof"),
    ],
)
def test_format_failures_name_the_field(
    ledger: MemoryLedger, change: dict, code: Code, field: str
) -> None:
    [credential] = issued(ledger)
    report = verify(ledger, {**credential, **change})
    assert (report.fragment("format").code, report.fragment("format").details) == (
        code,
        {"field": field},
    )


def test_two_signatures_are_ambiguous(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    credential["proof"].append(dict(credential["proof"][0]))
    assert outcome(verify(ledger, credential))[:3] == [
        ("parse", VALID, None),
        ("format", INVALID, Code.AMBIGUOUS_PROOF),
        ("proof", *SKIP),
    ]


def test_unsupported_cryptosuite(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    credential["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    assert verify(ledger, credential).fragment("format").code == Code.UNSUPPORTED_CRYPTOSUITE


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xff\xfe{}", Code.NOT_JSON),
        ("[1, 2]", Code.NOT_AN_OBJECT),
        ('{"a": NaN}', Code.NOT_JSON),
        ('{"type": 1, "type": 2}', Code.DUPLICATE_MEMBER),
        ('{"type": ["VerifiableCredential"]}', Code.UNSUPPORTED_TYPE),
        ("[" * 100_000 + "]" * 100_000, Code.TOO_DEEP),
    ],
)
def test_parse_refuses(ledger: MemoryLedger, raw: bytes | str, code: Code) -> None:
    assert outcome(verify(ledger, raw))[0] == ("parse", INVALID, code)


UNSAFE_NUMBERS = {
    "5000 digits": ("9" * 5000, {"number": "99999999999999999999…(5000 characters)"}),
    "2^53": (str(2**53), {"number": "9007199254740992"}),
    "-2^53": (str(-(2**53)), {"number": "-9007199254740992"}),
    "1e400": ("1e400", {"number": "1e400"}),
    "2^53+1 as a decimal": ("9007199254740993.0", {"number": "9007199254740993.0"}),
    "2^53+1 with an exponent": ("9.007199254740993e15", {"number": "9.007199254740993e15"}),
}


@pytest.mark.parametrize("name", UNSAFE_NUMBERS)
def test_numbers_json_cannot_carry_exactly_are_invalid_at_parse(
    ledger: MemoryLedger, name: str
) -> None:
    [credential] = issued(ledger)
    text, details = UNSAFE_NUMBERS[name]
    raw = json.dumps(credential).replace('"creditsEarned": 3.5', f'"creditsEarned": {text}', 1)
    report = verify(ledger, raw)
    assert (report.verdict, outcome(report)[:2], report.fragment("parse").details) == (
        INVALID, [("parse", INVALID, Code.UNSAFE_NUMBER), ("format", *SKIP)], details)


@pytest.mark.parametrize(
    ("value", "code", "details"),
    [
        (10**5000, Code.UNSAFE_NUMBER, {"field": "credentialSubject.creditsEarned"}),
        (2**53, Code.UNSAFE_NUMBER, {"number": "9007199254740992"}),
        (float("nan"), Code.UNSAFE_NUMBER, {"field": "credentialSubject.creditsEarned"}),
        (2**53 - 1, Code.SIGNATURE_INVALID, {"field": "proof.proofValue"}),
    ],
    ids=["5000 digits", "2^53", "NaN", "2^53-1"],
)
def test_unsafe_numbers_in_a_credential_object(
    ledger: MemoryLedger, value: object, code: Code, details: dict
) -> None:
    [credential] = issued(ledger)
    credential["credentialSubject"]["creditsEarned"] = value
    report = verify(ledger, credential)
    failed = next(fragment for fragment in report.fragments if fragment.status is INVALID)
    assert (report.verdict, failed.code, failed.details) == (INVALID, code, details)


def test_nan_is_not_json(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    raw = json.dumps(credential).replace('"creditsEarned": 3.5', '"creditsEarned": NaN', 1)
    assert outcome(verify(ledger, raw))[0] == ("parse", INVALID, Code.NOT_JSON)


def test_oversize_input(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    text = json.dumps(credential)
    report = verify_credential(text, context_of(ledger, max_bytes=len(text) - 1))
    assert (outcome(report)[0], report.fragment("parse").details) == (
        ("parse", INVALID, Code.INPUT_TOO_LARGE),
        {"size": len(text), "limit": len(text) - 1},
    )
    assert verify_credential(text, context_of(ledger, max_bytes=len(text))).verdict == VALID


def test_deeply_nested_input(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    nested: dict = {"x": 1}
    for _ in range(40):
        nested = {"x": nested}
    credential["credentialSubject"]["extra"] = nested
    for raw in (credential, json.dumps(credential)):
        report = verify(ledger, raw)
        assert (outcome(report)[0], report.fragment("parse").details) == (
            ("parse", INVALID, Code.TOO_DEEP),
            {"limit": 32},
        )


@pytest.mark.parametrize(
    "context",
    [
        "https://example.org/evil-context.jsonld",
        {"@vocab": "https://example.org/"},
    ],
)
def test_unknown_context(ledger: MemoryLedger, context: str | dict) -> None:
    [credential] = issued(ledger)
    credential["@context"] = [*credential["@context"], context]
    report = verify(ledger, credential)
    assert (report.verdict, outcome(report)[0]) == (
        INVALID,
        ("parse", INVALID, Code.UNKNOWN_CONTEXT),
    )


def test_unknown_context_nested_in_the_subject(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    credential["credentialSubject"]["@context"] = "https://example.org/evil-context.jsonld"
    assert outcome(verify(ledger, credential))[0] == ("parse", INVALID, Code.UNKNOWN_CONTEXT)


def test_input_is_not_mutated(ledger: MemoryLedger) -> None:
    [credential] = issued(ledger)
    before = json.dumps(credential)
    verify(ledger, credential)
    assert json.dumps(credential) == before


def test_bulk_verify_looks_each_batch_up_once(ledger: MemoryLedger) -> None:
    first_batch = issued(ledger, 3)
    second_batch = anchored(ledger, [signed(number) for number in range(4, 6)])
    reports = verify_many([*first_batch, *second_batch], context_of(ledger))
    assert [report.verdict for report in reports] == [VALID] * 5
    assert dict(ledger.calls) == {
        "chain_id": 1,
        "anchor_contract": 1,
        "anchor": 2,
        "anchored_in": 2,
        "root_revocation": 2,
        "leaf_revocation": 5,
        "issuer_by_did": 1,
        "key": 1,
    }


def test_comprehensive_learner_record(ledger: MemoryLedger) -> None:
    """A CLR bundling two anchored credentials is itself signed, anchored and verified."""
    inner = issued(ledger, 2)
    unsigned = clr_credential(
        credential_id="urn:uuid:9d7e4c1a-0000-4000-8000-000000000001",
        issuer=ISSUER,
        learner=learner(),
        credentials=inner,
        valid_from="2025-08-01T00:00:00Z",
    )
    method = verification_method_id(ISSUER_DID, ISSUER_KEY.public_key)
    [record] = anchored(ledger, [sign(unsigned, ISSUER_KEY, verification_method=method)])
    report = verify(ledger, record)
    assert (outcome(report), report.credential["type"], report.credential["kind"]) == (
        expected(),
        "ClrCredential",
        "transcript",
    )
