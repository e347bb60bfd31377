"""Evaluating each rule type against outcomes: pure functions returning lines or refusals."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Generic, TypeVar

from rules.codes import Code
from rules.frameworks import SCALES, convert_grade
from rules.outcomes import Outcome
from rules.programmes import Programme
from rules.report import EXEMPTION, EXEMPTION_GRADE, TRANSFER, TRANSFER_GRADE, Line, Refusal
from rules.rulesets import (
    CAP_RULES,
    GRANT_RULES,
    BlockCredit,
    CertificateCredits,
    CountCap,
    Currency,
    Equivalence,
    Exemption,
    GradeTable,
    Overlap,
    PeriodCap,
    ProportionCap,
    ProviderCap,
    Rule,
    RuleSet,
    Threshold,
    TitleMatch,
    Transfer,
    UnitSet,
)
from rules.sources import Source, UnitRef

R = TypeVar("R", bound=Rule)
Cap = PeriodCap | ProviderCap | CountCap | ProportionCap
Grant = Equivalence | UnitSet | CertificateCredits | Exemption | Transfer | BlockCredit
_ROMAN = {
    "i": "1",
    "ii": "2",
    "iii": "3",
    "iv": "4",
    "v": "5",
    "vi": "6",
    "vii": "7",
    "viii": "8",
    "ix": "9",
    "x": "10",
}
_CJK_NUMERALS = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "十": "10",
}
_WORD = re.compile(r"[^\W_]+")


def matches(source: Source, outcome: Outcome, owner: str) -> bool:
    """Whether an outcome falls under a source pattern (owner = the receiving institution)."""
    return (
        (not source.kinds or outcome.kind in source.kinds)
        and (not source.providers or outcome.provider in source.providers)
        and (not source.unit_codes or outcome.unit_code in source.unit_codes)
        and (source.min_level is None or (outcome.eqf_level or 0) >= source.min_level)
        and (source.origin == "any" or (source.origin == "home") == (outcome.provider == owner))
    )


def ref_matches(ref: UnitRef, outcome: Outcome) -> bool:
    """Whether an outcome is the referenced unit."""
    return ref.code == outcome.unit_code and ref.provider in (None, outcome.provider)


class RuleIndex(Generic[R]):
    """Rules of one family indexed by unit code, provider or kind, so an outcome meets only the
    rules that could apply to it; candidates come in precedence order, then by id."""

    def __init__(self, rules: Iterable[R], owner: str) -> None:
        self.owner = owner
        self._by_code: dict[str, list[R]] = defaultdict(list)
        self._by_provider: dict[str, list[R]] = defaultdict(list)
        self._by_kind: dict[str, list[R]] = defaultdict(list)
        self._anywhere: list[R] = []
        for rule in rules:
            self._add(rule)

    def _add(self, rule: R) -> None:
        if isinstance(rule, UnitSet | Overlap):
            refs = rule.sources if isinstance(rule, UnitSet) else rule.units
            for code in {ref.code for ref in refs}:
                self._by_code[code].append(rule)
            return
        source: Source = rule.source
        for keys, index in (
            (source.unit_codes, self._by_code),
            (source.providers, self._by_provider),
            (source.kinds, self._by_kind),
        ):
            if keys:
                for key in keys:
                    index[key].append(rule)
                return
        self._anywhere.append(rule)

    def candidates(self, outcome: Outcome) -> list[R]:
        """The rules that apply to an outcome, in the order they are tried."""
        found = [
            rule
            for group in (
                self._by_code.get(outcome.unit_code, ()),
                self._by_provider.get(outcome.provider, ()),
                self._by_kind.get(outcome.kind, ()),
                self._anywhere,
            )
            for rule in group
            if self._applies(rule, outcome)
        ]
        found.sort(key=lambda rule: (rule.precedence, rule.id))
        return found

    def _applies(self, rule: R, outcome: Outcome) -> bool:
        if isinstance(rule, UnitSet):
            return any(ref_matches(ref, outcome) for ref in rule.sources)
        if isinstance(rule, Overlap):
            return any(ref_matches(ref, outcome) for ref in rule.units)
        return matches(rule.source, outcome, self.owner)


@dataclass(frozen=True)
class RuleBook:
    """A rule set split into families, each indexed for look-up."""

    rule_set: RuleSet
    grants: RuleIndex[Grant]
    checks: RuleIndex[Currency | Threshold]
    caps: RuleIndex[Cap]
    overlaps: RuleIndex[Overlap | TitleMatch]
    grade_tables: RuleIndex[GradeTable]

    @classmethod
    def of(cls, rule_set: RuleSet) -> RuleBook:
        """Index a rule set."""

        def family(*types: type[R]) -> RuleIndex[R]:
            return RuleIndex(
                (rule for rule in rule_set.rules if isinstance(rule, types)), rule_set.owner_did
            )

        return cls(
            rule_set=rule_set,
            grants=family(*GRANT_RULES),
            checks=family(Currency, Threshold),
            caps=family(*CAP_RULES),
            overlaps=family(Overlap, TitleMatch),
            grade_tables=family(GradeTable),
        )

    @property
    def programme(self) -> Programme:
        """The programme the rule set serves."""
        return self.rule_set.programme


def refusal(
    outcomes: Sequence[Outcome], code: Code, rule: Rule | None = None, **params: object
) -> Refusal:
    """A refusal of one or more outcomes."""
    return Refusal(
        outcome_ids=tuple(outcome.id for outcome in outcomes),
        units=tuple(outcome.unit_code for outcome in outcomes),
        provider=outcomes[0].provider,
        code=code,
        rule_id=rule.id if rule else None,
        end_date=max(outcome.end_date for outcome in outcomes),
        params=params,
        planned=any(outcome.planned for outcome in outcomes),
    )


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_currency(rule: Currency, outcome: Outcome, as_of: date) -> Refusal | None:
    """Outcomes older than the window (by end date) or before `not_before` do not count."""
    if rule.max_age_years is not None:
        oldest = years_before(as_of, rule.max_age_years)
        if outcome.end_date < oldest:
            return refusal(
                [outcome], Code.EXPIRED, rule, oldest=oldest.isoformat(), years=rule.max_age_years
            )
    if rule.not_before is not None and outcome.end_date < rule.not_before:
        return refusal([outcome], Code.BEFORE_WINDOW, rule, not_before=rule.not_before.isoformat())
    return None


def check_threshold(rule: Threshold, outcome: Outcome, book: RuleBook) -> Refusal | None:
    """Score, grade and attendance thresholds; a grade on another scale is converted by table."""
    if rule.min_attendance is not None and (
        outcome.attendance is None or outcome.attendance < rule.min_attendance
    ):
        return refusal(
            [outcome],
            Code.BELOW_ATTENDANCE,
            rule,
            required=rule.min_attendance,
            attendance=outcome.attendance,
        )
    minimum = rule.min_score if rule.min_score is not None else rule.min_grade
    if minimum is None or rule.scale is None:
        return None
    grade = comparable_grade(outcome, rule.scale, book)
    scale = SCALES.get(rule.scale)
    reached = scale.at_least(grade, minimum) if scale and grade is not None else None
    if reached is None:
        return refusal(
            [outcome],
            Code.GRADE_NOT_COMPARABLE,
            rule,
            scale=rule.scale,
            grade=outcome.grade,
            grade_scale=outcome.scale,
        )
    if not reached:
        code = Code.BELOW_SCORE if rule.min_score is not None else Code.BELOW_GRADE
        return refusal([outcome], code, rule, required=minimum, grade=grade, scale=rule.scale)
    return None


def comparable_grade(outcome: Outcome, scale: str, book: RuleBook) -> str | None:
    """The outcome's grade on `scale`: as is, or converted by the provider's grading table."""
    if outcome.grade is None:
        return None
    if outcome.scale == scale:
        return outcome.grade
    programme = book.programme
    if scale != programme.grade_scale or not programme.grade_bands:
        return None
    for table in book.grade_tables.candidates(outcome):
        if table.scale == outcome.scale:
            return convert_grade(outcome.grade, table.bands, programme.grade_bands)
    return None


def title_key(title: str, abbreviations: Mapping[str, str]) -> str:
    """A title with case, spacing, punctuation, numbering and abbreviations normalised."""
    words = []
    for word in _WORD.findall(title.casefold()):
        word = abbreviations.get(word, word)
        word = _ROMAN.get(word) or _CJK_NUMERALS.get(word) or word
        if word.isdigit():
            word = word.lstrip("0") or "0"
        words.append(word)
    return "".join(words)


def overlap_keys(outcome: Outcome, book: RuleBook) -> list[tuple[tuple[str, ...], Rule | None]]:
    """What an outcome would claim: its own unit, and every overlap group it belongs to."""
    keys: list[tuple[tuple[str, ...], Rule | None]] = [
        (("unit", outcome.provider, outcome.unit_code), None)
    ]
    for rule in book.overlaps.candidates(outcome):
        if isinstance(rule, TitleMatch):
            keys.append((("title", rule.id, title_key(outcome.title, rule.abbreviations)), rule))
        else:
            keys.append((("group", rule.id), rule))
    return keys


def grant(
    rule: Rule,
    outcome: Outcome,
    credits: Decimal,
    book: RuleBook,
    available: Mapping[str, Sequence[Outcome]],
) -> list[Line] | Refusal:
    """Apply one grant rule to an outcome worth `credits` programme credits.

    `available` holds the outcomes not yet allocated, by unit code (for many-to-one sets).
    """
    programme = book.programme
    if isinstance(rule, Equivalence):
        target = programme.unit(rule.target_unit)
        assert target is not None
        granted = rule.credits or target.credits
        if rule.match_credits and credits < granted:
            return refusal([outcome], Code.CREDITS_SHORT, rule, required=granted, offered=credits)
        return [
            _line(
                [outcome],
                Code.EQUIVALENT_UNIT,
                rule,
                rule.category or target.category,
                granted,
                book,
                target_units=(target.code,),
            )
        ]
    if isinstance(rule, UnitSet):
        return _unit_set(rule, outcome, available, book)
    if isinstance(rule, CertificateCredits):
        return [_line([outcome], Code.CERTIFICATE_CREDITS, rule, rule.category, rule.credits, book)]
    if isinstance(rule, Transfer):
        granted = min(credits, rule.max_credits) if rule.max_credits else credits
        if granted == 0:
            return refusal([outcome], Code.NO_CREDITS, rule)
        return [_line([outcome], Code.TRANSFER, rule, rule.category, granted, book)]
    if isinstance(rule, BlockCredit):
        return [
            _line([outcome], Code.BLOCK_CREDIT, rule, category, rule.credits[category], book)
            for category in sorted(rule.credits)
        ]
    if isinstance(rule, Exemption):
        units = tuple(programme.unit(code) for code in rule.units)
        return [
            Line(
                outcome_ids=(outcome.id,),
                units=(outcome.unit_code,),
                provider=outcome.provider,
                decision=EXEMPTION,
                code=Code.EXEMPTION,
                rule_id=rule.id,
                category=None,
                credits=Decimal(0),
                end_date=outcome.end_date,
                grade=EXEMPTION_GRADE,
                target_units=rule.units,
                exempted=sum((unit.credits for unit in units if unit), Decimal(0)),
                planned=outcome.planned,
            )
        ]
    raise TypeError(f"{rule.kind} is not a grant rule")


def _unit_set(
    rule: UnitSet, outcome: Outcome, available: Mapping[str, Sequence[Outcome]], book: RuleBook
) -> list[Line] | Refusal:
    chosen: list[Outcome] = []
    missing = []
    for ref in rule.sources:
        pool = (outcome, *available.get(ref.code, ()))
        found = next(
            (
                item
                for item in pool
                if ref_matches(ref, item) and all(item.id != other.id for other in chosen)
            ),
            None,
        )
        if found is None:
            missing.append(ref.code)
        else:
            chosen.append(found)
    if missing:
        return refusal([outcome], Code.INCOMPLETE_SET, rule, missing=tuple(missing))
    target = book.programme.unit(rule.target_unit)
    assert target is not None
    return [
        _line(
            chosen,
            Code.UNIT_SET,
            rule,
            rule.category or target.category,
            rule.credits or target.credits,
            book,
            target_units=(target.code,),
        )
    ]


def _line(
    outcomes: Sequence[Outcome],
    code: Code,
    rule: Rule,
    category: str,
    credits: Decimal,
    book: RuleBook,
    target_units: tuple[str, ...] = (),
) -> Line:
    first = outcomes[0]
    return Line(
        outcome_ids=tuple(outcome.id for outcome in outcomes),
        units=tuple(outcome.unit_code for outcome in outcomes),
        provider=first.provider,
        decision=TRANSFER,
        code=code,
        rule_id=rule.id,
        category=category,
        credits=credits,
        end_date=max(outcome.end_date for outcome in outcomes),
        grade=TRANSFER_GRADE,
        converted_grade=comparable_grade(first, book.programme.grade_scale, book)
        if len(outcomes) == 1
        else None,
        target_units=target_units,
        planned=any(outcome.planned for outcome in outcomes),
    )


def period_start(day: date, starts: Sequence[str]) -> date:
    """The start of the period (year or semester) that holds `day`; starts are "MM-DD"."""
    candidates = [
        date(day.year + shift, int(start[:2]), int(start[3:]))
        for shift in (-1, 0)
        for start in starts
    ]
    return max(start for start in candidates if start <= day)


def cap_limit(cap: Cap, programme: Programme) -> Decimal:
    """The most a cap allows (a proportion cap is a share of the programme, rounded down)."""
    if isinstance(cap, ProportionCap):
        step = programme.credit_step
        return (cap.max_share * programme.total_credits / step).to_integral_value(
            ROUND_FLOOR
        ) * step
    if isinstance(cap, CountCap):
        return Decimal(cap.max_count)
    return cap.max_credits


def cap_key(cap: Cap, line: Line) -> str:
    """Which counter of a cap a line draws on: its period, its provider, or the one total."""
    if isinstance(cap, PeriodCap):
        return period_start(line.end_date, cap.starts).isoformat()
    if isinstance(cap, ProviderCap):
        return line.provider
    return ""


CAP_CODES: Mapping[type, Code] = {
    PeriodCap: Code.CAP_PERIOD,
    ProviderCap: Code.CAP_PROVIDER,
    CountCap: Code.CAP_COUNT,
    ProportionCap: Code.CAP_PROPORTION,
}
