"""The outcome record the engine works on: one learner's result on one unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from credentials.errors import CredentialError
from credentials.jsontypes import JsonObject
from credentials.model import AGREEMENT, ATTENDANCE, credential_kind, credential_level, issuer_did
from rules.errors import InvalidOutcome
from rules.frameworks import eqf_level


@dataclass(frozen=True)
class Outcome:
    """One learner's result on one unit, normalised from a credential (or planned)."""

    id: str
    learner: str
    provider: str
    unit_code: str
    title: str
    kind: str
    credits: Decimal
    credit_scheme: str
    end_date: date
    start_date: date | None = None
    framework: str | None = None
    level: int | None = None
    eqf_level: int | None = None
    grade: str | None = None
    scale: str | None = None
    status: str = "Completed"
    attendance: Decimal | None = None
    hours: Decimal | None = None
    credential_id: str | None = None
    revoked: bool = False
    planned: bool = False


def outcome_from_credential(credential: JsonObject, *, revoked: bool = False) -> Outcome:
    """Read an AchievementCredential into an Outcome (revocation comes from verification).

    Attendance, when given, is a second Result whose ResultDescription is named "attendance"
    (a percentage); the other Result is the grade.
    """
    try:
        kind = credential_kind(credential)
        level = credential_level(credential)
        provider = issuer_did(credential)
    except CredentialError as error:
        raise InvalidOutcome(error.message) from None
    if kind == "transcript":
        raise InvalidOutcome("a transcript (CLR) holds several outcomes: read each credential")
    if kind == AGREEMENT:
        raise InvalidOutcome("a learning agreement grants no learning outcome")
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    qualification = achievement.get("qualificationLevel") or {}
    framework = qualification.get("levelFramework")
    stated_eqf = qualification.get("eqfLevel")
    scales = {
        item.get("id"): item.get("name")
        for item in achievement.get("resultDescription", [])
        if isinstance(item, dict)
    }
    grade = scale = attendance = None
    status = "Completed"
    for result in subject.get("result", []):
        name = scales.get(result.get("resultDescription"))
        if name == ATTENDANCE:
            attendance = _decimal(result.get("value"), "result.value (attendance)")
        else:
            grade, scale = result.get("value"), name
            status = result.get("status", status)
    end = subject.get("activityEndDate") or str(credential.get("validFrom", ""))[:10]
    return Outcome(
        id=_required(credential.get("id"), "id"),
        learner=_required(subject.get("id"), "credentialSubject.id"),
        provider=provider,
        unit_code=_required(achievement.get("humanCode"), "achievement.humanCode"),
        title=_required(achievement.get("name"), "achievement.name"),
        kind=kind,
        credits=_decimal(
            subject.get("creditsEarned", achievement.get("creditsAvailable")),
            "credentialSubject.creditsEarned",
        ),
        credit_scheme=_required(achievement.get("creditScheme"), "achievement.creditScheme"),
        end_date=_date(end, "credentialSubject.activityEndDate"),
        start_date=_date(subject["activityStartDate"], "credentialSubject.activityStartDate")
        if subject.get("activityStartDate")
        else None,
        framework=framework,
        level=level,
        eqf_level=stated_eqf
        if isinstance(stated_eqf, int)
        else (eqf_level(framework, level) if framework and level else None),
        grade=grade,
        scale=scale,
        status=status,
        attendance=attendance,
        hours=_decimal(achievement["learningHours"], "achievement.learningHours")
        if "learningHours" in achievement
        else None,
        credential_id=credential.get("id"),
        revoked=revoked,
    )


def _required(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidOutcome(f"{name} is missing from the credential")
    return value


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidOutcome(f"{name} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidOutcome(f"{name} must be a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidOutcome(f"{name} must be a non-negative number")
    return number


def _date(value: object, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidOutcome(f"{name} must be a date like 2025-06-30") from None
