"""Reading AchievementCredentials into engine outcomes."""

import copy
from datetime import date
from decimal import Decimal

import pytest

from credentials.dids import did_key
from credentials.model import Result, achievement_credential
from rules.errors import InvalidOutcome
from rules.outcomes import Outcome, outcome_from_credential
from tests.support.documents import changed
from tests.support.samples import (
    ISSUER,
    ISSUER_DID,
    LEARNER_KEY,
    achievement,
    learner,
    signed_credential,
)


def test_a_signed_credential_becomes_an_outcome() -> None:
    credential = signed_credential()
    assert outcome_from_credential(credential) == Outcome(
        id="urn:uuid:5f0c5a52-4a3c-4d2e-9a8b-000000000001",
        learner=did_key(LEARNER_KEY.public_key),
        provider=ISSUER_DID,
        unit_code="CS101",
        title="Introduction to Programming",
        kind="course",
        credits=Decimal("3.5"),
        credit_scheme="CN-NCB",
        end_date=date(2025, 6, 30),
        start_date=date(2025, 2, 20),
        framework="CQF",
        level=6,
        eqf_level=6,
        grade="A",
        scale="letter",
        status="Completed",
        hours=Decimal(48),
        credential_id="urn:uuid:5f0c5a52-4a3c-4d2e-9a8b-000000000001",
    )


def test_attendance_is_a_second_result_and_the_level_crosswalk_fills_eqf() -> None:
    credential = copy.deepcopy(signed_credential())
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    achievement["resultDescription"].append(
        {
            "id": "urn:x:attendance",
            "type": ["ResultDescription"],
            "name": "attendance",
            "resultType": "Percent",
        }
    )
    subject["result"].append(
        {"type": ["Result"], "resultDescription": "urn:x:attendance", "value": "87.5"}
    )
    del achievement["qualificationLevel"]["eqfLevel"]
    del subject["activityEndDate"]
    outcome = outcome_from_credential(credential, revoked=True)
    assert (
        outcome.attendance,
        outcome.eqf_level,
        outcome.end_date,
        outcome.grade,
        outcome.revoked,
    ) == (Decimal("87.5"), 6, date(2025, 7, 1), "A", True)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("achievement", "humanCode"), ..., "achievement.humanCode is missing"),
        (("creditsEarned",), "lots", "credentialSubject.creditsEarned must be a number"),
        (("activityEndDate",), "30/06/2025", "credentialSubject.activityEndDate must be a date"),
        (("achievement", "kind"), "hobby", "achievement.kind must be one of"),
    ],
)
def test_unreadable_credentials_name_the_field(
    path: tuple[str, ...], value: object, message: str
) -> None:
    credential = changed(signed_credential(), ("credentialSubject", *path), value)
    with pytest.raises(InvalidOutcome, match=message):
        outcome_from_credential(credential)


def test_attendance_travels_from_the_credential_builder_to_the_outcome() -> None:
    credential = achievement_credential(
        credential_id="urn:uuid:0b5d7d8e-3c51-4f4e-8d0e-000000000079",
        issuer=ISSUER,
        learner=learner(),
        achievement=achievement("PY101", "mooc"),
        result=Result(grade="82", scale="percent", status="Completed", attendance=79.5),
        credits_earned=2,
        valid_from="2025-07-01T00:00:00Z",
        activity_end="2025-06-30",
    )
    outcome = outcome_from_credential(credential)
    assert (outcome.kind, outcome.grade, outcome.scale, outcome.attendance) == (
        "mooc",
        "82",
        "percent",
        Decimal("79.5"),
    )
