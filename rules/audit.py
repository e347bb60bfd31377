"""The degree audit: one learner's outcomes against one rule-set version, line by line.

Steps, each deterministic:
1. Outcomes (earned, then planned for a what-if) are ordered by end date, then id.
2. Eligibility, per outcome, first failure wins: revoked; not completed or failed; credits
   not convertible into the programme's scheme; currency rules; thresholds (rules in
   precedence order, then id).
3. No double counting: in order, an outcome that repeats a unit already counted, or belongs
   to an overlap group or normalised title already counted, is refused.
4. Allocation: the receiving institution's own curriculum units count as home units; any
   other outcome takes the first grant rule (precedence, then id) that grants it.
5. Caps, chronologically by end date (ties by outcome id): a line that would push any cap
   past its limit is refused whole (units are indivisible); a later, smaller line may still
   fit. Caps limit what is granted, so exemptions (which grant nothing) draw on no cap; a
   unit is exempted once.
6. Requirements: total and category minimums (lowered by exemptions), mandatory cores,
   minimums from a source, minimum GPA over home units (transfers show "TR" and stay out).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rules.codes import Code
from rules.errors import InvalidAudit, RuleSetNotInForce
from rules.evaluation import (
    CAP_CODES,
    RuleBook,
    cap_key,
    cap_limit,
    check_currency,
    check_threshold,
    grant,
    matches,
    overlap_keys,
    refusal,
)
from rules.frameworks import SCALES, convert_credits
from rules.outcomes import Outcome
from rules.report import EXEMPTION, HOME, AuditReport, Line, Refusal, Requirement
from rules.rulesets import CountCap, RuleSet, Threshold

GPA_PLACES = Decimal("0.01")
_ZERO = Decimal(0)


def audit(
    outcomes: Iterable[Outcome], rule_set: RuleSet, *, as_of: date, planned: Sequence[Outcome] = (),
    book: RuleBook | None = None,
) -> AuditReport:
    """Audit a learner's outcomes (plus planned ones, for a what-if) against a rule set (`book`:
    its index, when the caller keeps one)."""
    if not rule_set.in_force(as_of):
        raise RuleSetNotInForce(
            f"rule set {rule_set.rule_set_id} v{rule_set.version} is not "
            f"in force on {as_of.isoformat()}"
        )
    everything = [*outcomes, *(dataclasses.replace(item, planned=True) for item in planned)]
    learner = _learner(everything)
    if book is None:
        book = RuleBook.of(rule_set)
    elif book.rule_set is not rule_set:
        raise InvalidAudit("the rule book given is not the rule set's")
    refusals: list[Refusal] = []
    eligible = _eligible(
        sorted(everything, key=lambda item: (item.end_date, item.id)), book, as_of, refusals
    )
    kept = _without_double_counting(eligible, book, refusals)
    by_id = {outcome.id: outcome for outcome in everything}
    lines = _apply_caps(_allocate(kept, book, refusals), by_id, book, refusals)
    requirements, gpa = _requirements(lines, by_id, book)
    exempted = next(item.lowered_by for item in requirements if item.code is Code.TOTAL_CREDITS)
    return AuditReport(
        learner=learner,
        rule_set_id=rule_set.rule_set_id,
        rule_set_version=rule_set.version,
        programme=rule_set.programme.code,
        as_of=as_of,
        lines=tuple(
            sorted(lines, key=lambda line: (line.end_date, line.outcome_ids, line.category or ""))
        ),
        refusals=tuple(
            sorted(refusals, key=lambda item: (item.end_date, item.outcome_ids, item.code))
        ),
        requirements=requirements,
        credits=sum((line.credits for line in lines), _ZERO),
        exempted=exempted,
        gpa=gpa,
    )


def _learner(outcomes: Sequence[Outcome]) -> str:
    learners = {outcome.learner for outcome in outcomes}
    if len(learners) > 1:
        raise InvalidAudit(
            "an audit covers one learner; outcomes name " + ", ".join(sorted(learners))
        )
    ids = [outcome.id for outcome in outcomes]
    if len(set(ids)) != len(ids):
        raise InvalidAudit("outcome ids must be unique (a planned unit needs its own id)")
    return learners.pop() if learners else ""


def _eligible(
    ordered: Sequence[Outcome], book: RuleBook, as_of: date, refusals: list[Refusal]
) -> list[tuple[Outcome, Decimal]]:
    programme = book.programme
    eligible = []
    for outcome in ordered:
        credits = convert_credits(
            outcome.credits,
            outcome.credit_scheme,
            programme.credit_scheme,
            rates=programme.credit_rates,
            step=programme.credit_step,
        )
        problem = _first_problem(outcome, credits, book, as_of)
        if problem is None:
            eligible.append((outcome, credits or _ZERO))
        else:
            refusals.append(problem)
    return eligible


def _first_problem(
    outcome: Outcome, credits: Decimal | None, book: RuleBook, as_of: date
) -> Refusal | None:
    if outcome.revoked:
        return refusal([outcome], Code.REVOKED)
    if outcome.status == "Failed" or _fails_scale(outcome):
        return refusal([outcome], Code.FAILED, grade=outcome.grade, scale=outcome.scale)
    if outcome.status != "Completed":
        return refusal([outcome], Code.NOT_COMPLETED, status=outcome.status)
    if credits is None:
        return refusal(
            [outcome],
            Code.UNCONVERTIBLE,
            scheme=outcome.credit_scheme,
            to=book.programme.credit_scheme,
        )
    for rule in book.checks.candidates(outcome):
        problem = (
            check_threshold(rule, outcome, book)
            if isinstance(rule, Threshold)
            else check_currency(rule, outcome, as_of)
        )
        if problem is not None:
            return problem
    return None


def _fails_scale(outcome: Outcome) -> bool:
    scale = SCALES.get(outcome.scale or "")
    return bool(scale and outcome.grade is not None and scale.passes(outcome.grade) is False)


def _without_double_counting(
    eligible: Sequence[tuple[Outcome, Decimal]], book: RuleBook, refusals: list[Refusal]
) -> list[tuple[Outcome, Decimal]]:
    claimed: dict[tuple[str, ...], str] = {}
    kept = []
    for outcome, credits in eligible:
        keys = overlap_keys(outcome, book)
        clash = next(((key, rule) for key, rule in keys if key in claimed), None)
        if clash is None:
            claimed.update((key, outcome.id) for key, _ in keys)
            kept.append((outcome, credits))
            continue
        key, rule = clash
        refusals.append(
            refusal(
                [outcome], Code.OVERLAP if rule else Code.REPEATED_UNIT, rule, counted=claimed[key]
            )
        )
    return kept


def _allocate(
    kept: Sequence[tuple[Outcome, Decimal]], book: RuleBook, refusals: list[Refusal]
) -> list[Line]:
    programme = book.programme
    owner = book.rule_set.owner_did
    available: dict[str, list[Outcome]] = defaultdict(list)
    for outcome, _ in kept:
        available[outcome.unit_code].append(outcome)
    allocated: set[str] = set()
    lines: list[Line] = []
    for outcome, credits in kept:
        if outcome.id in allocated:
            continue
        unit = programme.unit(outcome.unit_code) if outcome.provider == owner else None
        granted: list[Line] | None = None
        first_refusal = None
        if unit is not None:
            granted = [
                Line(
                    outcome_ids=(outcome.id,),
                    units=(outcome.unit_code,),
                    provider=outcome.provider,
                    decision=HOME,
                    code=Code.HOME_UNIT,
                    rule_id=None,
                    category=unit.category,
                    credits=unit.credits,
                    end_date=outcome.end_date,
                    grade=outcome.grade,
                    target_units=(unit.code,),
                    planned=outcome.planned,
                )
            ]
        for rule in () if granted else book.grants.candidates(outcome):
            result = grant(rule, outcome, credits, book, available)
            if isinstance(result, Refusal):
                first_refusal = first_refusal or result
                continue
            granted = result
            break
        if granted is None:
            refusals.append(first_refusal or refusal([outcome], Code.NO_RULE))
            continue
        lines.extend(granted)
        for outcome_id, code in zip(granted[0].outcome_ids, granted[0].units, strict=True):
            allocated.add(outcome_id)
            available[code] = [item for item in available[code] if item.id != outcome_id]
    return lines


def _apply_caps(
    lines: Sequence[Line], by_id: dict[str, Outcome], book: RuleBook, refusals: list[Refusal]
) -> list[Line]:
    programme = book.programme
    used: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counted: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    exempted: set[str] = set()
    kept = []
    for line in sorted(
        lines, key=lambda item: (item.end_date, item.outcome_ids, item.category or "")
    ):
        problem = None
        draws = []
        caps = (
            () if line.decision == EXEMPTION else book.caps.candidates(by_id[line.outcome_ids[0]])
        )
        for cap in caps:
            if cap.category not in (None, line.category):
                continue
            if isinstance(cap, CountCap):
                if line.outcome_ids in counted[cap.id]:
                    continue
                amount = Decimal(1)
            else:
                amount = line.credits
            key = cap_key(cap, line)
            limit = cap_limit(cap, programme)
            if used[cap.id, key] + amount > limit:
                problem = _line_refusal(
                    line,
                    CAP_CODES[type(cap)],
                    cap.id,
                    limit=limit,
                    counted=used[cap.id, key],
                    **_cap_params(key, line),
                )
                break
            draws.append((cap, key, amount))
        if problem is None and line.decision == EXEMPTION:
            fresh = tuple(code for code in line.target_units if code not in exempted)
            if fresh:
                line = dataclasses.replace(
                    line,
                    target_units=fresh,
                    exempted=sum(
                        (unit.credits for unit in programme.units if unit.code in fresh), _ZERO
                    ),
                )
            else:
                problem = _line_refusal(
                    line, Code.ALREADY_EXEMPT, line.rule_id, units=line.target_units
                )
        if problem is not None:
            refusals.append(problem)
            continue
        for cap, key, amount in draws:
            used[cap.id, key] += amount
            if isinstance(cap, CountCap):
                counted[cap.id].add(line.outcome_ids)
        if line.decision == EXEMPTION:
            exempted.update(line.target_units)
        kept.append(line)
    return kept


def _cap_params(key: str, line: Line) -> dict[str, object]:
    params: dict[str, object] = {"category": line.category, "credits": line.credits}
    if key:
        params["counter"] = key
    return params


def _line_refusal(line: Line, code: Code, rule_id: str | None, **params: object) -> Refusal:
    return Refusal(
        outcome_ids=line.outcome_ids,
        units=line.units,
        provider=line.provider,
        code=code,
        rule_id=rule_id,
        end_date=line.end_date,
        params=params,
        planned=line.planned,
    )


def _requirements(
    lines: Sequence[Line], by_id: dict[str, Outcome], book: RuleBook
) -> tuple[tuple[Requirement, ...], Decimal | None]:
    programme = book.programme
    credit_of = {unit.code: unit.credits for unit in programme.units}
    category_of = {unit.code: unit.category for unit in programme.units}
    exempted = {code for line in lines if line.decision == EXEMPTION for code in line.target_units}
    satisfied = {code for line in lines if line.decision != EXEMPTION for code in line.target_units}
    lowered = sum((credit_of[code] for code in exempted), _ZERO)
    earned = sum((line.credits for line in lines), _ZERO)
    total_required = max(programme.total_credits - lowered, _ZERO)
    requirements = [
        Requirement(
            id="total",
            code=Code.TOTAL_CREDITS,
            required=total_required,
            counted=earned,
            met=earned >= total_required,
            lowered_by=lowered,
        )
    ]
    for category in sorted(programme.categories):
        cut = sum((credit_of[code] for code in exempted if category_of[code] == category), _ZERO)
        required = max(programme.categories[category] - cut, _ZERO)
        counted = sum((line.credits for line in lines if line.category == category), _ZERO)
        requirements.append(
            Requirement(
                id=f"category:{category}",
                code=Code.CATEGORY_CREDITS,
                required=required,
                counted=counted,
                met=counted >= required,
                lowered_by=cut,
            )
        )
    for core in programme.mandatory:
        done = [code for code in core.units if code in satisfied or code in exempted]
        missing = tuple(code for code in core.units if code not in done)
        counted = sum((credit_of[code] for code in done), _ZERO)
        if core.min_credits is None:
            requirements.append(
                Requirement(
                    id=core.id,
                    code=Code.MANDATORY_UNITS,
                    counted=counted,
                    met=not missing,
                    required=sum((credit_of[code] for code in core.units), _ZERO),
                    missing_units=missing,
                )
            )
        else:
            requirements.append(
                Requirement(
                    id=core.id,
                    code=Code.MANDATORY_CREDITS,
                    required=core.min_credits,
                    counted=counted,
                    met=counted >= core.min_credits,
                    missing_units=missing,
                )
            )
    owner = book.rule_set.owner_did
    for minimum in programme.source_minimums:
        counted = sum(
            (
                line.credits
                for line in lines
                if matches(minimum.source, by_id[line.outcome_ids[0]], owner)
            ),
            _ZERO,
        )
        requirements.append(
            Requirement(
                id=minimum.id,
                code=Code.SOURCE_CREDITS,
                required=minimum.min_credits,
                counted=counted,
                met=counted >= minimum.min_credits,
            )
        )
    gpa = _gpa(lines, by_id, programme.grade_scale)
    if programme.min_gpa is not None:
        requirements.append(
            Requirement(
                id="gpa",
                code=Code.MIN_GPA,
                required=programme.min_gpa,
                counted=gpa or _ZERO,
                met=gpa is not None and gpa >= programme.min_gpa,
            )
        )
    return tuple(requirements), gpa


def _gpa(lines: Sequence[Line], by_id: dict[str, Outcome], scale_name: str) -> Decimal | None:
    """Credit-weighted grade points over home units graded on the programme's scale."""
    scale = SCALES.get(scale_name)
    points = weight = _ZERO
    for line in lines:
        outcome = by_id[line.outcome_ids[0]]
        if line.decision != HOME or scale is None or outcome.scale != scale_name:
            continue
        value = scale.grade_points(outcome.grade or "")
        if value is not None:
            points += value * line.credits
            weight += line.credits
    return (points / weight).quantize(GPA_PLACES, ROUND_HALF_UP) if weight else None
