"""The guide and the decision agree: for random records and rule sets, the guide's match lines
are exactly the lines (outcomes, category, credits) a decision grants from the same audit."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bank.applications import credits_by_category, granted_lines
from rules.audit import audit
from rules.guide import MATCH, MAYBE, MISS, guide
from rules.outcomes import Outcome
from rules.rulesets import RuleSet
from tests.support.rules import ACADEMY, AS_OF, COLLEGE, OWNER, outcome, rule_set

PROVIDERS = (COLLEGE, ACADEMY, OWNER)
KINDS = ("course", "certificate", "mooc")
CODES = ("CS201", "CS202", "X1", "X2", "M1", "CERT1")
CATEGORIES = ("major", "general", "elective")


def sources() -> st.SearchStrategy[dict]:
    """A rule's source: anything, a kind, a provider or a unit code."""
    return st.one_of(
        st.just({}),
        st.sampled_from(KINDS).map(lambda kind: {"kinds": [kind]}),
        st.sampled_from(PROVIDERS[:2]).map(lambda provider: {"providers": [provider]}),
        st.sampled_from(CODES).map(lambda code: {"unit_codes": [code]}),
    )


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict:
    """One rule of any family that needs no cross-reference the programme lacks."""
    source = draw(sources())
    rule_id = f"r{index}"
    precedence = draw(st.integers(1, 200))
    kind = draw(st.sampled_from((
        "transfer", "certificate_credits", "equivalence", "exemption", "block_credit",
        "threshold", "attendance", "currency", "count_cap", "provider_cap", "proportion_cap",
        "period_cap", "overlap")))
    base = {"id": rule_id, "precedence": precedence, "source": source}
    category = draw(st.sampled_from(CATEGORIES))
    if kind == "transfer":
        return {**base, "kind": "transfer", "category": category,
                **draw(st.sampled_from(({}, {"max_credits": 2})))}
    if kind == "certificate_credits":
        return {**base, "kind": kind, "credits": draw(st.integers(1, 8)), "category": category}
    if kind == "equivalence":
        return {**base, "kind": kind, "source": {"unit_codes": [draw(st.sampled_from(CODES))]},
                "target_unit": draw(st.sampled_from(("CS201", "CS202"))),
                "match_credits": draw(st.booleans())}
    if kind == "exemption":
        return {**base, "kind": kind, "units": [draw(st.sampled_from(("GEN101", "GEN102")))]}
    if kind == "block_credit":
        return {**base, "kind": kind, "credits": {"major": 6, "general": 3}}
    if kind == "threshold":
        return {**base, "kind": kind, "scale": "percent", "min_score": draw(st.integers(40, 80))}
    if kind == "attendance":
        return {**base, "kind": "threshold", "min_attendance": draw(st.integers(50, 90))}
    if kind == "currency":
        return {**base, "kind": kind, "max_age_years": draw(st.integers(1, 6))}
    if kind == "count_cap":
        return {**base, "kind": kind, "max_count": draw(st.integers(0, 3)),
                **draw(st.sampled_from(({}, {"category": category})))}
    if kind == "provider_cap":
        return {**base, "kind": kind, "max_credits": draw(st.integers(2, 10))}
    if kind == "proportion_cap":
        return {**base, "kind": kind, "max_share": draw(st.sampled_from((0.05, 0.1, 0.5)))}
    if kind == "period_cap":
        return {**base, "kind": kind, "period": "year", "starts": ["03-01"],
                "max_credits": draw(st.integers(2, 12))}
    return {"id": rule_id, "kind": "overlap",
            "units": [{"code": code} for code in draw(st.lists(st.sampled_from(CODES),
                                                               min_size=2, max_size=2,
                                                               unique=True))]}


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    """A rule set of one to eight random rules."""
    count = draw(st.integers(1, 8))
    return rule_set([draw(rules(index)) for index in range(count)])


@st.composite
def records(draw: st.DrawFn) -> list[Outcome]:
    """Up to eight outcomes: earned ones with or without grades and attendance, and planned."""
    found = []
    for index in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(KINDS))
        graded = draw(st.booleans())
        item = outcome(
            f"o{index}", draw(st.sampled_from(CODES)),
            provider=draw(st.sampled_from(PROVIDERS)), kind=kind,
            credits=draw(st.sampled_from(("0", "1", "2", "3", "4.5", "6"))),
            scheme=draw(st.sampled_from(("KR", "KR", "ECTS", "UNKNOWN"))),
            end=f"{draw(st.integers(2016, 2025))}-{draw(st.sampled_from(('02', '06', '11')))}-15",
            grade=draw(st.sampled_from(("35", "65", "90"))) if graded else None,
            scale="percent" if graded else None,
            attendance=draw(st.sampled_from((None, 40, 95))),
            status=draw(st.sampled_from(("Completed", "Completed", "Completed", "Failed"))))
        found.append(dataclasses.replace(item, planned=draw(st.booleans())))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcomes=records(), rules_=rule_sets())
def test_the_guide_matches_exactly_what_a_decision_grants(outcomes: list[Outcome],
                                                         rules_: RuleSet) -> None:
    answer = guide(outcomes, rules_, as_of=AS_OF)
    decided = granted_lines({"lines": [], **audit(outcomes, rules_, as_of=AS_OF).to_json()}, ())
    matched = [line for line in answer.lines if line.verdict == MATCH]
    assert [(list(line.outcome_ids), line.category, Decimal(str(line.credits)))
            for line in matched] == [
        (line["outcome_ids"], line.get("category"), Decimal(str(line["credits"])))
        for line in decided]
    categories = credits_by_category(decided)
    assert answer.match == sum(categories.values(), Decimal(0))
    assert answer.maybe == sum((line.credits for line in answer.lines if line.verdict == MAYBE),
                               Decimal(0))
    classed = {outcome_id for line in answer.lines for outcome_id in line.outcome_ids}
    assert classed == {item.id for item in outcomes}
    assert all(line.credits == 0 for line in answer.lines if line.verdict == MISS)
    counted = {(line.outcome_ids, line.category) for line in matched}
    assert not [line for line in answer.lines
                if line.verdict == MAYBE and (line.outcome_ids, line.category) in counted]
