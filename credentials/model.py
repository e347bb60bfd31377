"""Builders for W3C VC 2.0 / Open Badges 3.0 AchievementCredentials and CLR 2.0 records."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from credentials.contexts import AGREEMENT_CONTEXTS, CLR_CONTEXTS, CREDENTIAL_CONTEXTS
from credentials.errors import InvalidCredential
from credentials.jsontypes import JsonObject
from credentials.status import StatusEntry, entries_json

KINDS = ("course", "module", "certificate", "mooc", "training", "degree", "transcript")
ACHIEVEMENT_TYPES = {
    "course": "Course",
    "module": "ext:Module",
    "certificate": "Certificate",
    "mooc": "ext:MOOC",
    "training": "ext:Training",
    "degree": "Degree",
    "transcript": "ext:Transcript",
}
ATTENDANCE = "attendance"
AGREEMENT = "agreement"
AGREEMENT_TYPE = "LearningAgreementCredential"
RESULT_TYPES = {
    "letter": "LetterGrade",
    "percent": "Percent",
    "gpa": "GradePointAverage",
    "points": "RawScore",
    "pass-fail": "Status",
}
RESULT_STATUSES = ("Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional",
                   "Withdrew")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class Level:
    """A level in a named qualifications framework, with its EQF equivalent."""

    framework: str
    level: int
    eqf_level: int | None = None


@dataclass(frozen=True)
class Alignment:
    """An OB3 alignment of an achievement to an external framework item."""

    target_name: str
    target_url: str
    target_framework: str | None = None
    target_code: str | None = None


@dataclass(frozen=True)
class Achievement:
    """A learning unit an issuer recognises (OB3 Achievement)."""

    unit_code: str
    title: str
    description: str
    kind: str
    credit_value: float
    credit_scheme: str
    level: Level | None = None
    hours: float | None = None
    field_of_study: str | None = None
    learning_outcomes: tuple[str, ...] = ()
    alignments: tuple[Alignment, ...] = ()


@dataclass(frozen=True)
class Result:
    """The learner's result: grade on a scale, completion status, attendance percent if known."""

    grade: str
    scale: str = "letter"
    status: str = "Completed"
    attendance: float | None = None


@dataclass(frozen=True)
class LearnerRef:
    """The learner: a DID plus hashed identity objects (never a plaintext national id)."""

    did: str
    identifiers: tuple[JsonObject, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class IssuerProfile:
    """The issuing institution (OB3 Profile) identified by its DID."""

    did: str
    name: str
    name_zh: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class PlannedUnit:
    """A unit a learning agreement plans: its issuer, code, title, credits and version."""

    issuer_did: str
    code: str
    title: str
    credits: float
    version: int


@dataclass(frozen=True)
class AgreedLine:
    """What planned units of one issuer count for under the agreement's rule-set version."""

    units: tuple[str, ...]
    issuer_did: str
    decision: str
    rule: str | None
    category: str | None
    credits: float
    exempted_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreementTerms:
    """A learning agreement's terms: programme, rule-set version, units, lines and deadline."""

    programme_code: str
    programme_title: str
    rule_set_id: str
    version: int
    content_hash: str
    units: tuple[PlannedUnit, ...]
    lines: tuple[AgreedLine, ...]
    complete_by: str


def kind_bit(kind: str) -> int:
    """Bit index of a credential kind in on-chain scope masks (`1 << kind_bit(kind)`)."""
    if kind not in KINDS:
        raise InvalidCredential(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return KINDS.index(kind)


def hashed_identifier(value: str, salt: str,
                      identity_type: str = "nationalIdentityNumber") -> JsonObject:
    """An OB3 IdentityObject holding `sha256$hex(sha256(value + salt))`.

    The salt is NOT included: it stays with the bank, so a published credential cannot be
    brute-forced back to a low-entropy identifier such as a national id number.
    """
    if not isinstance(value, str) or not value:
        raise InvalidCredential("identifier value must be a non-empty string")
    if not isinstance(salt, str) or len(salt) < 16:
        raise InvalidCredential("identifier salt must be a string of at least 16 characters")
    digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": identity_type,
        "hashed": True,
    }


def achievement_credential(*, credential_id: str, issuer: IssuerProfile, learner: LearnerRef,
                           achievement: Achievement, result: Result, credits_earned: float,
                           valid_from: str, valid_until: str | None = None,
                           activity_start: str | None = None, activity_end: str | None = None,
                           session: str | None = None,
                           status: Sequence[StatusEntry] = ()) -> JsonObject:
    """An unsigned OB3 AchievementCredential for one learner and one achievement, with its
    status entries (`credentialStatus`) if any."""
    _iri(credential_id, "credential_id")
    _date_time(valid_from, "valid_from")
    achievement_json = _achievement(issuer, achievement)
    subject: JsonObject = {
        "id": _iri(learner.did, "learner.did"),
        "type": ["AchievementSubject"],
    }
    if learner.identifiers:
        subject["identifier"] = [_identity(item) for item in learner.identifiers]
    subject["achievement"] = achievement_json
    subject["result"] = _results(achievement_json, result)
    subject["creditsEarned"] = _number(credits_earned, "credits_earned")
    if activity_start is not None:
        subject["activityStartDate"] = _date(activity_start, "activity_start")
    if activity_end is not None:
        subject["activityEndDate"] = _date(activity_end, "activity_end")
    if session is not None:
        subject["term"] = _text(session, "session")
    credential: JsonObject = {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": achievement.title,
        "issuer": _profile(issuer),
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = _date_time(valid_until, "valid_until")
    credential["credentialSubject"] = subject
    if status:
        credential["credentialStatus"] = entries_json(status)
    return credential


def clr_credential(*, credential_id: str, issuer: IssuerProfile, learner: LearnerRef,
                   credentials: Sequence[JsonObject], valid_from: str,
                   status: Sequence[StatusEntry] = ()) -> JsonObject:
    """An unsigned CLR 2.0 ClrCredential bundling signed credentials for one learner, with its
    status entries if any."""
    _iri(credential_id, "credential_id")
    _date_time(valid_from, "valid_from")
    if not credentials:
        raise InvalidCredential("credentials: a CLR needs at least one credential")
    subject: JsonObject = {"id": _iri(learner.did, "learner.did"), "type": ["ClrSubject"]}
    if learner.identifiers:
        subject["identifier"] = [_identity(item) for item in learner.identifiers]
    subject["verifiableCredential"] = list(credentials)
    credential: JsonObject = {
        "@context": list(CLR_CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"Comprehensive Learner Record — {issuer.name}",
        "issuer": _profile(issuer),
        "validFrom": valid_from,
        "credentialSubject": subject,
    }
    if status:
        credential["credentialStatus"] = entries_json(status)
    return credential


def agreement_credential(*, credential_id: str, issuer: IssuerProfile, learner_did: str,
                         terms: AgreementTerms, valid_from: str,
                         status: Sequence[StatusEntry] = ()) -> JsonObject:
    """An unsigned learning agreement: the receiving institution pre-approves what planned units
    will count for in a programme under one rule-set version if completed by a date. The
    subject is the learner's DID alone; it grants no learning outcome."""
    _iri(credential_id, "credential_id")
    _date_time(valid_from, "valid_from")
    if not terms.lines:
        raise InvalidCredential("terms.lines: an agreement agrees at least one line")
    programme: JsonObject = {"code": _text(terms.programme_code, "terms.programme_code"),
                             "title": _text(terms.programme_title, "terms.programme_title"),
                             "institution": _iri(issuer.did, "issuer.did")}
    subject: JsonObject = {
        "id": _iri(learner_did, "learner_did"),
        "type": ["LearningAgreement"],
        "programme": programme,
        "ruleSet": {"ruleSetId": _text(terms.rule_set_id, "terms.rule_set_id"),
                    "version": terms.version,
                    "contentHash": _text(terms.content_hash, "terms.content_hash")},
        "plannedUnit": [{"unitIssuer": _iri(unit.issuer_did, "units.issuer_did"),
                         "code": _text(unit.code, "units.code"),
                         "title": _text(unit.title, "units.title"),
                         "credits": _number(unit.credits, "units.credits"),
                         "unitVersion": unit.version} for unit in terms.units],
        "agreedLine": [_agreed_line(line) for line in terms.lines],
        "agreedCredits": sum(line.credits for line in terms.lines),
        "completeBy": _date(terms.complete_by, "terms.complete_by"),
    }
    credential: JsonObject = {
        "@context": list(AGREEMENT_CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", AGREEMENT_TYPE],
        "name": f"Learning agreement — {terms.programme_title}",
        "issuer": {"id": _iri(issuer.did, "issuer.did"), "name": _text(issuer.name, "issuer.name")},
        "validFrom": valid_from,
        "credentialSubject": subject,
    }
    if status:
        credential["credentialStatus"] = entries_json(status)
    return credential


def _agreed_line(line: AgreedLine) -> JsonObject:
    agreed: JsonObject = {"unitCode": [_text(code, "lines.units") for code in line.units],
                          "unitIssuer": _iri(line.issuer_did, "lines.issuer_did"),
                          "decision": _text(line.decision, "lines.decision"),
                          "credits": _number(line.credits, "lines.credits")}
    if line.rule is not None:
        agreed["rule"] = _text(line.rule, "lines.rule")
    if line.category is not None:
        agreed["category"] = _text(line.category, "lines.category")
    if line.exempted_units:
        agreed["exemptedUnit"] = list(line.exempted_units)
    return agreed


def credential_kind(credential: JsonObject) -> str:
    """The credit-bank kind of a credential (`transcript` for a CLR, `agreement` for a learning
    agreement, which is no kind of learning: it has no bit in an issuer's scope)."""
    if "ClrCredential" in _types(credential):
        return "transcript"
    if AGREEMENT_TYPE in _types(credential):
        return AGREEMENT
    kind = _achievement_of(credential).get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidCredential(f"credentialSubject.achievement.kind must be one of {KINDS}")
    return kind


def credential_level(credential: JsonObject) -> int | None:
    """The framework level number of the credential's achievement, if it has one."""
    if "ClrCredential" in _types(credential) or AGREEMENT_TYPE in _types(credential):
        return None
    level = _achievement_of(credential).get("qualificationLevel")
    if level is None:
        return None
    number = level.get("levelNumber") if isinstance(level, dict) else None
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidCredential("qualificationLevel.levelNumber must be an integer")
    return number


def issuer_did(credential: JsonObject) -> str:
    """The DID of the credential's issuer (`issuer` as a string or a Profile's `id`)."""
    if not isinstance(credential, dict) or "issuer" not in credential:
        raise InvalidCredential("credential has no issuer")
    issuer = credential["issuer"]
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(did, str) or not did.startswith("did:"):
        raise InvalidCredential("issuer must be a DID or a Profile whose id is a DID")
    return did


def _achievement(issuer: IssuerProfile, achievement: Achievement) -> JsonObject:
    kind_bit(achievement.kind)
    code = _text(achievement.unit_code, "achievement.unit_code")
    achievement_id = f"{issuer.did}#unit-{quote(code, safe='')}"
    outcomes = [_text(item, "achievement.learning_outcomes") for item in
                achievement.learning_outcomes]
    narrative = _text(achievement.description, "achievement.description")
    if outcomes:
        narrative = "Learning outcomes:\n" + "\n".join(f"- {item}" for item in outcomes)
    result: JsonObject = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[achievement.kind],
        "kind": achievement.kind,
        "humanCode": code,
        "name": _text(achievement.title, "achievement.title"),
        "description": achievement.description,
        "criteria": {"narrative": narrative},
        "creditsAvailable": _number(achievement.credit_value, "achievement.credit_value"),
        "creditScheme": _text(achievement.credit_scheme, "achievement.credit_scheme"),
    }
    if achievement.level is not None:
        result["qualificationLevel"] = _level(achievement.level)
    if achievement.hours is not None:
        result["learningHours"] = _number(achievement.hours, "achievement.hours")
    if achievement.field_of_study is not None:
        result["fieldOfStudy"] = _text(achievement.field_of_study, "achievement.field_of_study")
    if outcomes:
        result["learningOutcome"] = outcomes
    if achievement.alignments:
        result["alignment"] = [_alignment(item) for item in achievement.alignments]
    return result


def _level(level: Level) -> JsonObject:
    number = level.level
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 64:
        raise InvalidCredential("achievement.level.level must be an integer from 1 to 64")
    result = {
        "type": "QualificationLevel",
        "levelFramework": _text(level.framework, "achievement.level.framework"),
        "levelNumber": number,
    }
    if level.eqf_level is not None:
        eqf = level.eqf_level
        if isinstance(eqf, bool) or not isinstance(eqf, int) or not 1 <= eqf <= 8:
            raise InvalidCredential("achievement.level.eqf_level must be an integer from 1 to 8")
        result["eqfLevel"] = eqf
    return result


def _alignment(item: Alignment) -> JsonObject:
    result = {
        "type": ["Alignment"],
        "targetName": _text(item.target_name, "alignment.target_name"),
        "targetUrl": _iri(item.target_url, "alignment.target_url"),
    }
    if item.target_framework is not None:
        result["targetFramework"] = _text(item.target_framework, "alignment.target_framework")
    if item.target_code is not None:
        result["targetCode"] = _text(item.target_code, "alignment.target_code")
    return result


def _results(achievement_json: JsonObject, result: Result) -> list[JsonObject]:
    """The OB3 results (grade, then attendance when known) and their descriptions."""
    if result.scale not in RESULT_TYPES:
        raise InvalidCredential(f"result.scale must be one of {', '.join(RESULT_TYPES)}")
    if result.status not in RESULT_STATUSES:
        raise InvalidCredential(f"result.status must be one of {', '.join(RESULT_STATUSES)}")
    description_id = achievement_json["id"] + "-result"
    descriptions = [{
        "id": description_id,
        "type": ["ResultDescription"],
        "name": result.scale,
        "resultType": RESULT_TYPES[result.scale],
    }]
    results = [{
        "type": ["Result"],
        "resultDescription": description_id,
        "value": _text(result.grade, "result.grade"),
        "status": result.status,
    }]
    if result.attendance is not None:
        if not 0 <= result.attendance <= 100:
            raise InvalidCredential("result.attendance must be a percentage from 0 to 100")
        attendance_id = achievement_json["id"] + "-attendance"
        descriptions.append({
            "id": attendance_id,
            "type": ["ResultDescription"],
            "name": ATTENDANCE,
            "resultType": "Percent",
        })
        results.append({
            "type": ["Result"],
            "resultDescription": attendance_id,
            "value": f"{result.attendance:g}",
        })
    achievement_json["resultDescription"] = descriptions
    return results


def _profile(issuer: IssuerProfile) -> JsonObject:
    profile = {
        "id": _iri(issuer.did, "issuer.did"),
        "type": ["Profile"],
        "name": _text(issuer.name, "issuer.name"),
    }
    if issuer.name_zh is not None:
        profile["nameZh"] = _text(issuer.name_zh, "issuer.name_zh")
    if issuer.url is not None:
        profile["url"] = _iri(issuer.url, "issuer.url")
    return profile


def _identity(item: JsonObject) -> JsonObject:
    if not isinstance(item, dict) or item.get("hashed") is not True \
            or not str(item.get("identityHash", "")).startswith("sha256$"):
        raise InvalidCredential("learner.identifiers must be hashed IdentityObjects")
    return dict(item)


def _achievement_of(credential: JsonObject) -> JsonObject:
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(achievement, dict):
        raise InvalidCredential("credentialSubject.achievement is missing")
    return achievement


def _types(credential: JsonObject) -> list[object]:
    types = credential.get("type") if isinstance(credential, dict) else None
    return types if isinstance(types, list) else [types]


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCredential(f"{name} must be a non-empty string")
    return value


def _iri(value: object, name: str) -> str:
    if not isinstance(value, str) or not _IRI.match(value):
        raise InvalidCredential(f"{name} must be an absolute IRI")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidCredential(f"{name} must be a non-negative number")
    return value


def _date_time(value: object, name: str) -> str:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise InvalidCredential(f"{name} must be an ISO 8601 date-time like 2025-07-01T00:00:00Z")
    return value


def _date(value: object, name: str) -> str:
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidCredential(f"{name} must be an ISO 8601 date like 2025-07-01")
    return value
