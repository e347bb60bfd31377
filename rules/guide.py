"""The transfer guide: what a set of outcomes (planned units, certificates in hand) would count
for in one programme, by the same audit that decides applications.

Every line is classed:
- "match": a line of the audit, counting as stated: exactly what a decision would grant.
- "maybe": refused only for something a reviewer would settle: a cap, or a grade or attendance
  threshold the outcome does not state (a planned unit has no grade yet). Its credits are those
  of a second audit with those caps and thresholds left out, read for those outcomes only.
- "miss": every other refusal, with its code and params (no rule, unconvertible, expired…).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from credentials.jsontypes import JsonObject
from rules.audit import audit
from rules.codes import Code
from rules.evaluation import R, RuleBook, RuleIndex
from rules.fields import json_value
from rules.outcomes import Outcome
from rules.report import Line, Refusal, Requirement
from rules.rulesets import RuleSet

MATCH = "match"
MAYBE = "maybe"
MISS = "miss"
CLASSES = (MATCH, MAYBE, MISS)
CAP_REFUSALS = frozenset({Code.CAP_PERIOD, Code.CAP_PROVIDER, Code.CAP_COUNT,
                          Code.CAP_PROPORTION})
_ZERO = Decimal(0)


@dataclass(frozen=True)
class GuideLine:
    """One line of the guide: which outcomes, its class, the credits (earned, or that would be
    earned on review), the category, and the rule and reason behind it.

    For a maybe line, `code`, `rule_id` and `params` are the refusal a reviewer would settle,
    and `granted_by` / `grant_code` the rule that would then grant it."""

    verdict: str
    outcome_ids: tuple[str, ...]
    units: tuple[str, ...]
    provider: str
    code: Code
    rule_id: str | None
    credits: Decimal
    category: str | None
    params: dict[str, Any] = field(default_factory=dict)
    target_units: tuple[str, ...] = ()
    exempted: Decimal = _ZERO
    granted_by: str | None = None
    grant_code: Code | None = None
    planned: bool = False

    def to_json(self) -> JsonObject:
        """Plain JSON: every member, the optional ones only when set."""
        found: JsonObject = {"verdict": self.verdict, "outcome_ids": list(self.outcome_ids),
                             "units": list(self.units), "provider": self.provider,
                             "code": str(self.code), "rule_id": self.rule_id,
                             "credits": _number(self.credits), "category": self.category,
                             "params": json_value(self.params) if self.params else {},
                             "planned": self.planned}
        if self.target_units:
            found["target_units"] = list(self.target_units)
        if self.exempted:
            found["exempted"] = _number(self.exempted)
        if self.granted_by is not None or self.grant_code is not None:
            found["granted_by"] = self.granted_by
            found["grant_code"] = str(self.grant_code)
        return found


@dataclass(frozen=True)
class ProgrammeGuide:
    """One programme's answer: credits that match, credits that may count, every line, and what
    the outcomes would still leave missing (the requirements after the matching lines)."""

    rule_set_id: str
    version: int
    programme: str
    title: str
    total_credits: Decimal
    match: Decimal
    maybe: Decimal
    lines: tuple[GuideLine, ...]
    requirements: tuple[Requirement, ...]
    complete: bool

    def to_json(self) -> JsonObject:
        """Plain JSON (codes and params, not sentences)."""
        return {"rule_set_id": self.rule_set_id, "version": self.version,
                "programme": self.programme, "title": self.title,
                "total_credits": _number(self.total_credits), "match": _number(self.match),
                "maybe": _number(self.maybe), "lines": [line.to_json() for line in self.lines],
                "requirements": [{**json_value(item), "shortfall": _number(item.shortfall)}
                                 for item in self.requirements],
                "complete": self.complete}


def guide(outcomes: Sequence[Outcome], rule_set: RuleSet, *, as_of: date,
          book: RuleBook | None = None) -> ProgrammeGuide:
    """Class each outcome's lines for one rule set (in force on `as_of`): matches, then maybes,
    then misses, each in the audit's order; `book` is the rule set's index when kept."""
    book = book or RuleBook.of(rule_set)
    report = audit(outcomes, rule_set, as_of=as_of, book=book)
    lines = [_match(line) for line in report.lines]
    maybes = [item for item in report.refusals if _reviewable(item, outcomes)]
    settled = _settle(outcomes, book, maybes, as_of) if maybes else {}
    for item in report.refusals:
        found = settled.get(_key(item))
        if found is None:
            lines.append(_miss(item))
        elif isinstance(found, Refusal):
            lines.append(_miss(found))
        else:
            lines.extend(_maybe(item, line) for line in found)
    return ProgrammeGuide(
        rule_set_id=rule_set.rule_set_id,
        version=rule_set.version,
        programme=rule_set.programme.code,
        title=rule_set.programme.title,
        total_credits=rule_set.programme.total_credits,
        match=report.credits,
        maybe=sum((line.credits for line in lines if line.verdict == MAYBE), _ZERO),
        lines=tuple(sorted(lines, key=lambda line: CLASSES.index(line.verdict))),
        requirements=report.requirements,
        complete=report.complete,
    )


def ranked(guides: Iterable[ProgrammeGuide]) -> list[ProgrammeGuide]:
    """Programmes by credits that match, then credits that may count (most first), then title."""
    return sorted(guides, key=lambda item: (-item.match, -item.maybe, item.title,
                                            item.rule_set_id))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _reviewable(item: Refusal, outcomes: Sequence[Outcome]) -> bool:
    """Whether a refusal is one a review could lift: a cap, or a threshold on a grade or an
    attendance the outcome does not state."""
    if item.code in CAP_REFUSALS:
        return True
    if item.code not in (Code.GRADE_NOT_COMPARABLE, Code.BELOW_ATTENDANCE):
        return False
    outcome = next(one for one in outcomes if one.id == item.outcome_ids[0])
    return outcome.grade is None if item.code is Code.GRADE_NOT_COMPARABLE \
        else outcome.attendance is None


def _key(item: Refusal) -> tuple[tuple[str, ...], str | None]:
    """What a refusal refused: its outcomes and, for a cap, the category of the line."""
    category = item.params.get("category") if item.code in CAP_REFUSALS else None
    return item.outcome_ids, category


def _settle(outcomes: Sequence[Outcome], book: RuleBook, maybes: Sequence[Refusal],
            as_of: date) -> dict[tuple[tuple[str, ...], str | None], list[Line] | Refusal]:
    """Audit again without the caps and without the thresholds that blocked the maybe outcomes
    (lifting them one after another, as the next unstated grade or attendance shows up); the
    lines each maybe refusal would then earn, or the refusal that still stands."""
    blocking = {item.rule_id for item in maybes if item.code not in CAP_REFUSALS}
    ids = {outcome_id for item in maybes for outcome_id in item.outcome_ids}
    while True:
        report = audit(outcomes, book.rule_set, as_of=as_of, book=_relaxed(book, blocking))
        again = {item.rule_id for item in report.refusals
                 if ids.intersection(item.outcome_ids) and _reviewable(item, outcomes)}
        if not again - blocking:
            break
        blocking |= again
    settled: dict[tuple[tuple[str, ...], str | None], list[Line] | Refusal] = {}
    for item in maybes:
        outcome_ids, category = _key(item)
        found = [line for line in report.lines
                 if set(outcome_ids) <= set(line.outcome_ids)
                 and (category is None or line.category == category)]
        still = next((other for other in report.refusals
                      if set(outcome_ids) & set(other.outcome_ids)), None)
        settled[outcome_ids, category] = found or still or item
    return settled


class _Without(RuleIndex[R]):
    """An index's rules less some, by id (the thresholds a review would lift)."""

    def __init__(self, index: RuleIndex[R], left_out: set[str | None]) -> None:
        super().__init__((), index.owner)
        self._index = index
        self._left_out = left_out

    def candidates(self, outcome: Outcome) -> list[R]:
        """The index's candidates but those left out."""
        return [rule for rule in self._index.candidates(outcome) if rule.id not in self._left_out]


def _relaxed(book: RuleBook, blocking: set[str | None]) -> RuleBook:
    """The rule book without caps and without the `blocking` thresholds, over the original
    book's indexes (nothing is indexed again)."""
    return dataclasses.replace(book, checks=_Without(book.checks, blocking),
                               caps=RuleIndex((), book.rule_set.owner_did))


def _match(line: Line) -> GuideLine:
    return GuideLine(verdict=MATCH, outcome_ids=line.outcome_ids, units=line.units,
                     provider=line.provider, code=line.code, rule_id=line.rule_id,
                     credits=line.credits, category=line.category,
                     target_units=line.target_units, exempted=line.exempted,
                     planned=line.planned)


def _maybe(item: Refusal, line: Line) -> GuideLine:
    return GuideLine(verdict=MAYBE, outcome_ids=line.outcome_ids, units=line.units,
                     provider=line.provider, code=item.code, rule_id=item.rule_id,
                     credits=line.credits, category=line.category, params=dict(item.params),
                     target_units=line.target_units, exempted=line.exempted,
                     granted_by=line.rule_id, grant_code=line.code, planned=line.planned)


def _miss(item: Refusal) -> GuideLine:
    return GuideLine(verdict=MISS, outcome_ids=item.outcome_ids, units=item.units,
                     provider=item.provider, code=item.code, rule_id=item.rule_id,
                     credits=_ZERO, category=None, params=dict(item.params),
                     planned=item.planned)
