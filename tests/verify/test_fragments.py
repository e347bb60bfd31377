"""Tests of verify's fragments, verdict, report JSON and reason codes."""

from __future__ import annotations

import pytest

from ledger.records import RevocationReason, revocation_reason_label
from verify.codes import Code
from verify.fragments import Fragment, Report, Status, verdict

VALID, INVALID, INDETERMINATE, SKIPPED = Status


def fragments(*statuses: Status) -> list[Fragment]:
    """Fragments with the given statuses, one per made-up check."""
    return [Fragment(f"check{index}", status, None, "m") for index, status in enumerate(statuses)]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ((VALID, VALID, VALID), VALID),
        ((VALID, SKIPPED, VALID), VALID),
        ((VALID, INDETERMINATE, SKIPPED), INDETERMINATE),
        ((INDETERMINATE, INVALID, VALID), INVALID),
        ((INVALID, SKIPPED, SKIPPED), INVALID),
        ((SKIPPED, INDETERMINATE), INDETERMINATE),
    ],
)
def test_verdict(statuses: tuple[Status, ...], expected: Status) -> None:
    assert verdict(fragments(*statuses)) == expected


def test_report_to_json() -> None:
    report = Report(
        (
            Fragment("parse", VALID, None, "Parsed.", {"format": "AchievementCredential"}),
            Fragment("status", INVALID, Code.REVOKED_BATCH, "Revoked.", {"reason": 3}),
        ),
        INVALID,
        {"id": "urn:uuid:1"},
    )
    assert report.to_json() == {
        "verdict": "INVALID",
        "checks": [
            {
                "name": "parse",
                "status": "VALID",
                "code": None,
                "message": "Parsed.",
                "details": {"format": "AchievementCredential"},
            },
            {
                "name": "status",
                "status": "INVALID",
                "code": "REVOKED_BATCH",
                "message": "Revoked.",
                "details": {"reason": 3},
            },
        ],
        "credential": {"id": "urn:uuid:1"},
    }
    assert report.fragment("status") == report.fragments[1]


def test_codes_are_their_own_names() -> None:
    assert [code.value for code in Code] == [code.name for code in Code]


def test_revocation_reasons() -> None:
    assert [(reason.value, reason.label) for reason in RevocationReason] == [
        (1, "unspecified"),
        (2, "key compromise"),
        (3, "issued in error"),
        (4, "superseded"),
        (5, "fraud"),
        (6, "withdrawn by issuer"),
    ]
    assert (revocation_reason_label(5), revocation_reason_label(99)) == (
        "fraud",
        "unknown reason (99)",
    )
