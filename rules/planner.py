"""The planner's pure part: which catalogue units could fill a programme's gaps, and which do.

A programme names the learning it wants in two places: its own curriculum (home units, the
mandatory cores first) and the sources of its grant rules (unit codes, providers, kinds). Those
names become `Pattern`s for the catalogue; each unit they find is audited, with the learner's
plan, by the same engine that decides applications, and kept for a requirement only when it
lowers what that requirement still misses or supplies one of its missing units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rules.audit import audit
from rules.evaluation import RuleBook
from rules.outcomes import Outcome
from rules.report import AuditReport, Requirement
from rules.rulesets import GRANT_RULES, RuleSet, UnitSet

FILLERS_PER_GAP = 5


@dataclass(frozen=True)
class Pattern:
    """Catalogue units a programme names: a provider DID, a unit code and a kind, each None for
    any (all three None: every unit)."""

    provider: str | None = None
    code: str | None = None
    kind: str | None = None

    def admits(self, provider: str, code: str, kind: str) -> bool:
        """Whether a catalogue unit is one this pattern names."""
        return (
            self.provider in (None, provider)
            and self.code in (None, code)
            and self.kind in (None, kind)
        )


@dataclass(frozen=True)
class Filler:
    """A candidate unit that helps one requirement: by how much it lowers the shortfall, which
    missing units it supplies, and whether the requirement is then met."""

    ref: str
    gain: Decimal
    units: tuple[str, ...]
    fills: bool


@dataclass(frozen=True)
class Gap:
    """An unmet requirement (with the plan) and the candidate units that help it, best first."""

    requirement: Requirement
    fillers: tuple[Filler, ...]


def patterns(rule_set: RuleSet) -> tuple[Pattern, ...]:
    """What the programme names, most specific first: its mandatory units and curriculum (at
    the owner), units named by grant rules, then providers, kinds and open sources."""
    programme = rule_set.programme
    owner = rule_set.owner_did
    mandatory = [code for core in programme.mandatory for code in core.units]
    home = [Pattern(owner, code) for code in (*mandatory, *(unit.code for unit in programme.units))]
    named: list[Pattern] = []
    broad: list[Pattern] = []
    grants = sorted(
        (rule for rule in rule_set.rules if isinstance(rule, GRANT_RULES)),
        key=lambda rule: (rule.precedence, rule.id),
    )
    for rule in grants:
        if isinstance(rule, UnitSet):
            named.extend(Pattern(ref.provider, ref.code) for ref in rule.sources)
            continue
        source = rule.source
        found = [
            Pattern(provider, code, kind)
            for provider in _or_any(source.providers)
            for code in _or_any(source.unit_codes)
            for kind in _or_any(source.kinds)
        ]
        (named if source.unit_codes else broad).extend(found)
    broad.sort(key=lambda item: (item.provider is None, item.kind is None))
    return tuple(dict.fromkeys((*home, *named, *broad)))


def _or_any(names: frozenset[str]) -> list[str | None]:
    """The names in order, or None (any) when there are none."""
    return [*sorted(names)] if names else [None]


def gap_fillers(
    rule_set: RuleSet,
    earned: Sequence[Outcome],
    planned: Sequence[Outcome],
    candidates: Mapping[str, Outcome],
    *,
    as_of: date,
    per_gap: int = FILLERS_PER_GAP,
) -> tuple[Gap, ...]:
    """For each requirement the plan leaves unmet, the candidates (by reference) that help it:
    each is audited once with the plan plus itself."""
    book = RuleBook.of(rule_set)
    baseline = audit(earned, rule_set, as_of=as_of, planned=planned, book=book)
    gaps = baseline.missing
    if not gaps:
        return ()
    planned_ids = {outcome.id for outcome in planned}
    trials = {
        ref: audit(earned, rule_set, as_of=as_of, planned=[*planned, outcome], book=book)
        for ref, outcome in candidates.items()
        if outcome.id not in planned_ids
    }
    return tuple(
        Gap(requirement, rank(requirement, trials.items())[:per_gap]) for requirement in gaps
    )


def rank(
    requirement: Requirement, trials: Iterable[tuple[str, AuditReport]]
) -> tuple[Filler, ...]:
    """The candidates whose trial audit helps a requirement: those that meet it first, then by
    the shortfall they remove, the missing units they supply, and reference."""
    missing = set(requirement.missing_units)
    helpful = []
    for ref, report in trials:
        tried = next(item for item in report.requirements if item.id == requirement.id)
        gain = requirement.shortfall - tried.shortfall
        units = tuple(sorted(missing - set(tried.missing_units)))
        if gain > 0 or units:
            helpful.append(Filler(ref=ref, gain=gain, units=units, fills=tried.met))
    helpful.sort(key=lambda item: (not item.fills, -item.gain, -len(item.units), item.ref))
    return tuple(helpful)
