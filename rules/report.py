"""The degree audit report: lines that count, refusals, and the state of each requirement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from credentials.jsontypes import JsonObject
from rules.codes import Code
from rules.fields import json_value

HOME = "home"
TRANSFER = "transfer"
EXEMPTION = "exemption"
TRANSFER_GRADE = "TR"
EXEMPTION_GRADE = "EX"


@dataclass(frozen=True)
class Line:
    """One decision that counts: which outcomes, under which rule, in which category, how much.

    A transfer grants `credits`; an exemption grants none and lowers the requirement by
    `exempted` (the credits of `target_units`). Transfers show the grade "TR" and stay out of
    the GPA; `converted_grade` is the grade on the programme's scale, when a table allows it.
    """

    outcome_ids: tuple[str, ...]
    units: tuple[str, ...]
    provider: str
    decision: str
    code: Code
    rule_id: str | None
    category: str | None
    credits: Decimal
    end_date: date
    grade: str | None = None
    converted_grade: str | None = None
    target_units: tuple[str, ...] = ()
    exempted: Decimal = Decimal(0)
    planned: bool = False


@dataclass(frozen=True)
class Refusal:
    """An outcome (or one line of its grant) that does not count, the rule and the reason."""

    outcome_ids: tuple[str, ...]
    units: tuple[str, ...]
    provider: str
    code: Code
    rule_id: str | None
    end_date: date
    params: dict[str, Any] = field(default_factory=dict)
    planned: bool = False


@dataclass(frozen=True)
class Requirement:
    """One requirement of the programme, what it asks (after exemptions) and what counts."""

    id: str
    code: Code
    required: Decimal
    counted: Decimal
    met: bool
    lowered_by: Decimal = Decimal(0)
    missing_units: tuple[str, ...] = ()

    @property
    def shortfall(self) -> Decimal:
        """How much is still missing (0 when met)."""
        return Decimal(0) if self.met else max(self.required - self.counted, Decimal(0))


@dataclass(frozen=True)
class AuditReport:
    """The deterministic result of auditing one learner against one rule-set version."""

    learner: str
    rule_set_id: str
    rule_set_version: int
    programme: str
    as_of: date
    lines: tuple[Line, ...]
    refusals: tuple[Refusal, ...]
    requirements: tuple[Requirement, ...]
    credits: Decimal
    exempted: Decimal
    gpa: Decimal | None

    @property
    def complete(self) -> bool:
        """Whether every requirement is met."""
        return all(requirement.met for requirement in self.requirements)

    @property
    def missing(self) -> tuple[Requirement, ...]:
        """The requirements not yet met."""
        return tuple(requirement for requirement in self.requirements if not requirement.met)

    def to_json(self) -> JsonObject:
        """Plain JSON for the portal and the API (codes, not sentences)."""
        return {**json_value(self), "complete": self.complete}
