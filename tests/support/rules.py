"""Builders for engine tests: outcomes and small rule sets with realistic defaults."""

from datetime import date
from decimal import Decimal

from rules.outcomes import Outcome
from rules.rulesets import RuleSet, load_rule_set

OWNER = "did:web:creditbank.example:issuers:seoul-open"
LEARNER = "did:web:creditbank.example:learners:5d41402abc4b2a76b9719d911017c592"
COLLEGE = "did:web:college-a.example"
ACADEMY = "did:web:academy-b.example"
AS_OF = date(2026, 3, 1)


def outcome(outcome_id: str, unit_code: str, *, provider: str = COLLEGE,
            title: str | None = None, kind: str = "course", credits: str | int = 3,
            scheme: str = "KR", end: str = "2024-06-30", grade: str | None = "B0",
            scale: str | None = "letter-kr", status: str = "Completed",
            attendance: str | int | None = None, eqf_level: int | None = 6,
            revoked: bool = False) -> Outcome:
    """One outcome of the test learner."""
    return Outcome(
        id=outcome_id, learner=LEARNER, provider=provider, unit_code=unit_code,
        title=title or unit_code, kind=kind, credits=Decimal(credits), credit_scheme=scheme,
        end_date=date.fromisoformat(end), eqf_level=eqf_level, grade=grade, scale=scale,
        status=status, attendance=None if attendance is None else Decimal(attendance),
        revoked=revoked)


def programme_json(**overrides: object) -> dict:
    """A small bachelor programme on Korean credits (overridable field by field)."""
    programme = {
        "code": "BSC-CS",
        "title": "Bachelor of Computer Science",
        "credit_scheme": "KR",
        "total_credits": 140,
        "categories": {"major": 60, "general": 30, "elective": 0},
        "units": [
            {"code": "CS201", "title": "Data Structures", "credits": 3, "category": "major"},
            {"code": "CS202", "title": "Algorithms", "credits": 3, "category": "major"},
            {"code": "CS301", "title": "Operating Systems", "credits": 3, "category": "major"},
            {"code": "CS302", "title": "Databases", "credits": 3, "category": "major"},
            {"code": "SYS110", "title": "Linux Basics", "credits": 3, "category": "major"},
            {"code": "SYS120", "title": "Shell Scripting", "credits": 2, "category": "major"},
            {"code": "GEN101", "title": "Academic Writing", "credits": 3,
             "category": "general"},
            {"code": "GEN102", "title": "English", "credits": 3, "category": "general"},
        ],
        "grade_scale": "letter-kr",
    }
    programme.update(overrides)
    return programme


def rule_set_json(rules: list[dict], **overrides: object) -> dict:
    """A rule-set document owned by OWNER around `rules`."""
    document = {
        "rule_set_id": "seoul-open:BSC-CS",
        "owner_did": OWNER,
        "version": 1,
        "valid_from": "2020-03-01",
        "programme": programme_json(),
        "rules": rules,
    }
    document.update(overrides)
    return document


def rule_set(rules: list[dict], **overrides: object) -> RuleSet:
    """A loaded rule set (see rule_set_json)."""
    return load_rule_set(rule_set_json(rules, **overrides))
