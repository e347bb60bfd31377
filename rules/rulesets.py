"""Conversion rule sets: what a receiving institution publishes, the operator approves and
RuleRegistry anchors by hash (one version at a time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from eth_hash.auto import keccak

from credentials.canon import jcs
from credentials.jsontypes import JsonObject
from rules.errors import EngineError
from rules.fields import Reader, json_value
from rules.frameworks import SCALES
from rules.programmes import GradeBand, Programme, read_bands, read_programme
from rules.sources import Source, UnitRef, read_source, read_unit_ref

DEFAULT_PRECEDENCE = 100
PERIODS = ("year", "semester")
_Fields = tuple[dict[str, Any], tuple[str, ...]]


class RuleSetError(EngineError, ValueError):
    """A rule-set document is invalid; `errors` maps each field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid rule set: " + "; ".join(
            f"{path}: {', '.join(messages)}" for path, messages in sorted(errors.items())),
            dict(errors))


@dataclass(frozen=True, kw_only=True)
class _Rule:
    id: str
    precedence: int = DEFAULT_PRECEDENCE
    kind: ClassVar[str]


@dataclass(frozen=True, kw_only=True)
class Equivalence(_Rule):
    """One-to-one: an outside unit counts as a programme unit (credits must match unless told)."""

    kind: ClassVar[str] = "equivalence"
    source: Source
    target_unit: str
    credits: Decimal | None = None
    category: str | None = None
    match_credits: bool = True


@dataclass(frozen=True, kw_only=True)
class UnitSet(_Rule):
    """Many-to-one: all the listed units together count as one programme unit."""

    kind: ClassVar[str] = "many_to_one"
    sources: tuple[UnitRef, ...]
    target_unit: str
    credits: Decimal | None = None
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class CertificateCredits(_Rule):
    """A certificate grants a fixed number of credits in a category (a published table row)."""

    kind: ClassVar[str] = "certificate_credits"
    source: Source
    credits: Decimal
    category: str


@dataclass(frozen=True, kw_only=True)
class Exemption(_Rule):
    """An outcome exempts programme units: no credits, the requirement is lowered instead."""

    kind: ClassVar[str] = "exemption"
    source: Source
    units: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Transfer(_Rule):
    """Outcomes transfer with their own (converted) credits into a category."""

    kind: ClassVar[str] = "transfer"
    source: Source
    category: str
    max_credits: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class BlockCredit(_Rule):
    """A whole qualification grants a block of credits, split by category."""

    kind: ClassVar[str] = "block_credit"
    source: Source
    credits: dict[str, Decimal]


@dataclass(frozen=True, kw_only=True)
class Threshold(_Rule):
    """Outcomes count only at or above a score, grade (on `scale`) and attendance (percent)."""

    kind: ClassVar[str] = "threshold"
    source: Source
    scale: str | None = None
    min_score: Decimal | None = None
    min_grade: str | None = None
    min_attendance: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class Currency(_Rule):
    """Outcomes count only if recent enough (by end date) and not before a given date."""

    kind: ClassVar[str] = "currency"
    source: Source
    max_age_years: int | None = None
    not_before: date | None = None


@dataclass(frozen=True, kw_only=True)
class PeriodCap(_Rule):
    """At most `max_credits` per year or semester, dated by the outcome's end date."""

    kind: ClassVar[str] = "period_cap"
    source: Source
    period: str
    starts: tuple[str, ...]
    max_credits: Decimal
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProviderCap(_Rule):
    """At most `max_credits` from any one provider."""

    kind: ClassVar[str] = "provider_cap"
    source: Source
    max_credits: Decimal
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class CountCap(_Rule):
    """At most `max_count` outcomes of a kind (e.g. three certificates)."""

    kind: ClassVar[str] = "count_cap"
    source: Source
    max_count: int
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProportionCap(_Rule):
    """At most `max_share` of the programme's total credits (e.g. 0.5 advanced standing)."""

    kind: ClassVar[str] = "proportion_cap"
    source: Source
    max_share: Decimal
    category: str | None = None


@dataclass(frozen=True, kw_only=True)
class Overlap(_Rule):
    """The listed units are the same learning (renamed, or offered by several providers)."""

    kind: ClassVar[str] = "overlap"
    units: tuple[UnitRef, ...]


@dataclass(frozen=True, kw_only=True)
class TitleMatch(_Rule):
    """Outcomes whose titles agree once spacing, numbering and abbreviations are normalised."""

    kind: ClassVar[str] = "title_match"
    source: Source = field(default_factory=Source)
    abbreviations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class GradeTable(_Rule):
    """A provider's grading table on `scale`, for converting its grades by percentile band."""

    kind: ClassVar[str] = "grade_table"
    source: Source
    scale: str
    bands: tuple[GradeBand, ...]


Rule = (Equivalence | UnitSet | CertificateCredits | Exemption | Transfer | BlockCredit
        | Threshold | Currency | PeriodCap | ProviderCap | CountCap | ProportionCap | Overlap
        | TitleMatch | GradeTable)
GRANT_RULES = (Equivalence, UnitSet, CertificateCredits, Exemption, Transfer, BlockCredit)
CAP_RULES = (PeriodCap, ProviderCap, CountCap, ProportionCap)


@dataclass(frozen=True)
class RuleSet:
    """One version of an institution's conversion rules for one programme."""

    rule_set_id: str
    owner_did: str
    version: int
    programme: Programme
    valid_from: date
    rules: tuple[Rule, ...]
    valid_until: date | None = None

    def in_force(self, day: date) -> bool:
        """Whether the rule set applies on a given day."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def to_json(self) -> JsonObject:
        """The published JSON document."""
        return {
            "rule_set_id": self.rule_set_id,
            "owner_did": self.owner_did,
            "version": self.version,
            "valid_from": self.valid_from.isoformat(),
            **({"valid_until": self.valid_until.isoformat()} if self.valid_until else {}),
            "programme": json_value(self.programme),
            "rules": [{"kind": rule.kind, **json_value(rule)} for rule in self.rules],
        }

    def canonical_json(self) -> bytes:
        """RFC 8785 canonical bytes of the document."""
        return jcs(self.to_json())

    def content_hash(self) -> bytes:
        """keccak256 of the canonical document: what RuleRegistry anchors."""
        return keccak(self.canonical_json())

    def rule_set_key(self) -> bytes:
        """keccak256 of the rule set id: the on-chain ruleSetId."""
        return keccak(self.rule_set_id.encode("utf-8"))


def load_rule_set(data: JsonObject) -> RuleSet:
    """Validate a rule-set document; raise RuleSetError naming every bad field."""
    errors: dict[str, list[str]] = {}
    reader = Reader(data, "", errors)
    programme_reader = reader.child("programme")
    programme = read_programme(programme_reader) if programme_reader else None
    rules = tuple(_read_rule(item) for item in reader.children("rules", minimum=1))
    owner = reader.text("owner_did")
    if owner is not None and not owner.startswith("did:"):
        reader.fail("owner_did", "must be a DID")
    rule_set = RuleSet(
        rule_set_id=reader.text("rule_set_id") or "",
        owner_did=owner or "",
        version=reader.integer("version", minimum=1),
        programme=programme,  # type: ignore[arg-type]
        valid_from=reader.date("valid_from") or date.min,
        valid_until=reader.date("valid_until", required=False),
        rules=tuple(rule for rule in rules if rule is not None),
    )
    if rule_set.valid_until is not None and rule_set.valid_until < rule_set.valid_from:
        reader.fail("valid_until", "must not be before valid_from")
    reader.done("rule_set_id", "owner_did", "version", "valid_from", "valid_until",
                "programme", "rules")
    if programme is not None:
        _cross_check(rules, programme, reader)
    if errors:
        raise RuleSetError(errors)
    return rule_set


def _read_rule(reader: Reader) -> Rule | None:
    kind = reader.data.get("kind")
    if kind not in _READERS:
        reader.fail("kind", f"must be one of {', '.join(_READERS)}")
        return None
    rule_id = reader.text("id") or ""
    precedence = reader.integer("precedence", minimum=0, default=DEFAULT_PRECEDENCE)
    fields, rule_fields = _READERS[kind](reader)
    reader.done("id", "kind", "precedence", *rule_fields)
    return _CLASSES[kind](id=rule_id, precedence=precedence, **fields)


def _cross_check(rules: tuple[Rule | None, ...], programme: Programme, reader: Reader) -> None:
    ids = [rule.id for rule in rules if rule is not None]
    if len(set(ids)) != len(ids):
        reader.fail("rules", "rule ids must be unique")
    codes = {unit.code for unit in programme.units}
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        for category in _categories(rule):
            if category not in programme.categories:
                reader.fail(path, f"category {category!r} is not a programme category")
        for code in _target_units(rule):
            if code not in codes:
                reader.fail(path, f"unit {code!r} is not a unit of the programme")
        if isinstance(rule, Equivalence) and not rule.source.unit_codes:
            reader.fail(f"{path}.source.unit_codes", "an equivalence names its source units")


def _categories(rule: Rule | None) -> tuple[str, ...]:
    if isinstance(rule, BlockCredit):
        return tuple(rule.credits)
    category = getattr(rule, "category", None)
    return (category,) if category else ()


def _target_units(rule: Rule | None) -> tuple[str, ...]:
    if isinstance(rule, Exemption):
        return rule.units
    if isinstance(rule, Equivalence | UnitSet):
        return (rule.target_unit,)
    return ()


def _source(reader: Reader) -> Source:
    return read_source(reader.child("source", required=False))


def _equivalence(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "target_unit": reader.text("target_unit") or "",
             "credits": reader.number("credits", required=False, positive=True),
             "category": reader.text("category", required=False),
             "match_credits": reader.boolean("match_credits", default=True)},
            ("source", "target_unit", "credits", "category", "match_credits"))


def _unit_set(reader: Reader) -> _Fields:
    sources = tuple(read_unit_ref(item) for item in reader.children("sources", minimum=2))
    return ({"sources": sources, "target_unit": reader.text("target_unit") or "",
             "credits": reader.number("credits", required=False, positive=True),
             "category": reader.text("category", required=False)},
            ("sources", "target_unit", "credits", "category"))


def _certificate_credits(reader: Reader) -> _Fields:
    return ({"source": _source(reader),
             "credits": reader.number("credits", positive=True) or Decimal(0),
             "category": reader.text("category") or ""},
            ("source", "credits", "category"))


def _exemption(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "units": reader.texts("units", minimum=1)},
            ("source", "units"))


def _transfer(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "category": reader.text("category") or "",
             "max_credits": reader.number("max_credits", required=False, positive=True)},
            ("source", "category", "max_credits"))


def _block_credit(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "credits": reader.table("credits")},
            ("source", "credits"))


def _threshold(reader: Reader) -> _Fields:
    source = _source(reader)
    scale = reader.text("scale", required=False)
    min_score = reader.number("min_score", required=False)
    min_grade = reader.text("min_grade", required=False)
    min_attendance = reader.number("min_attendance", required=False, maximum=Decimal(100))
    if min_score is None and min_grade is None and min_attendance is None:
        reader.fail(None, "a threshold needs min_score, min_grade or min_attendance")
    if (min_score is not None or min_grade is not None) and scale is None:
        reader.fail("scale", "is required with min_score or min_grade")
    elif scale is not None:
        _check_minimum(reader, scale, min_score, min_grade)
    return ({"source": source, "scale": scale, "min_score": min_score, "min_grade": min_grade,
             "min_attendance": min_attendance},
            ("source", "scale", "min_score", "min_grade", "min_attendance"))


def _check_minimum(reader: Reader, name: str, score: Decimal | None, grade: str | None) -> None:
    """A threshold's scale is one the audit knows, and its minimum lies on that scale."""
    scale = SCALES.get(name)
    if scale is None:
        reader.fail("scale", f"{name!r} is not one of {', '.join(SCALES)}")
    elif score is not None and scale.value(str(score)) is None:
        reader.fail("min_score", f"is not a score on the {name} scale")
    elif grade is not None and scale.value(grade) is None:
        reader.fail("min_grade", f"is not a grade on the {name} scale")


def _currency(reader: Reader) -> _Fields:
    years = reader.integer("max_age_years", minimum=1, default=0) or None
    fields = {"source": _source(reader), "max_age_years": years,
              "not_before": reader.date("not_before", required=False)}
    if years is None and fields["not_before"] is None:
        reader.fail(None, "a currency rule needs max_age_years or not_before")
    return fields, ("source", "max_age_years", "not_before")


def _period_cap(reader: Reader) -> _Fields:
    period = reader.choice("period", PERIODS)
    raw = reader.texts("starts", required=True, minimum=1)
    starts = tuple(sorted(reader.month_day(item, "starts") for item in raw))
    if period == "year" and len(starts) != 1:
        reader.fail("starts", "a year has exactly one start, like 03-01")
    if period == "semester" and len(starts) < 2:
        reader.fail("starts", "semesters need at least two starts, like 03-01 and 09-01")
    return ({"source": _source(reader), "period": period, "starts": starts,
             "max_credits": reader.number("max_credits") or Decimal(0),
             "category": reader.text("category", required=False)},
            ("source", "period", "starts", "max_credits", "category"))


def _provider_cap(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "max_credits": reader.number("max_credits")
             or Decimal(0), "category": reader.text("category", required=False)},
            ("source", "max_credits", "category"))


def _count_cap(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "max_count": reader.integer("max_count", minimum=0),
             "category": reader.text("category", required=False)},
            ("source", "max_count", "category"))


def _proportion_cap(reader: Reader) -> _Fields:
    return ({"source": _source(reader),
             "max_share": reader.number("max_share", maximum=Decimal(1)) or Decimal(0),
             "category": reader.text("category", required=False)},
            ("source", "max_share", "category"))


def _overlap(reader: Reader) -> _Fields:
    units = tuple(read_unit_ref(item) for item in reader.children("units", minimum=2))
    return {"units": units}, ("units",)


def _title_match(reader: Reader) -> _Fields:
    abbreviations = reader.data.get("abbreviations") or {}
    if not isinstance(abbreviations, dict) or not all(
            isinstance(key, str) and isinstance(value, str) and key.strip() and value.strip()
            for key, value in abbreviations.items()):
        reader.fail("abbreviations", "must map abbreviations to words, like "
                                     '{"intro": "introduction"}')
        abbreviations = {}
    return ({"source": _source(reader),
             "abbreviations": {key.lower(): value.lower()
                               for key, value in abbreviations.items()}},
            ("source", "abbreviations"))


def _grade_table(reader: Reader) -> _Fields:
    return ({"source": _source(reader), "scale": reader.text("scale") or "",
             "bands": read_bands(reader, "bands", required=True)},
            ("source", "scale", "bands"))


_READERS: dict[str, Callable[[Reader], _Fields]] = {
    Equivalence.kind: _equivalence,
    UnitSet.kind: _unit_set,
    CertificateCredits.kind: _certificate_credits,
    Exemption.kind: _exemption,
    Transfer.kind: _transfer,
    BlockCredit.kind: _block_credit,
    Threshold.kind: _threshold,
    Currency.kind: _currency,
    PeriodCap.kind: _period_cap,
    ProviderCap.kind: _provider_cap,
    CountCap.kind: _count_cap,
    ProportionCap.kind: _proportion_cap,
    Overlap.kind: _overlap,
    TitleMatch.kind: _title_match,
    GradeTable.kind: _grade_table,
}
_CLASSES: dict[str, type[Rule]] = {cls.kind: cls for cls in (
    Equivalence, UnitSet, CertificateCredits, Exemption, Transfer, BlockCredit, Threshold,
    Currency, PeriodCap, ProviderCap, CountCap, ProportionCap, Overlap, TitleMatch, GradeTable)}
