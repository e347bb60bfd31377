"""The transfer guide classes each line match, maybe or miss by the audit itself."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from rules.codes import Code
from rules.guide import MATCH, MAYBE, MISS, ProgrammeGuide, guide, ranked
from tests.support.rules import AS_OF, outcome, programme_json, rule_set

CERTIFICATES = {"id": "cert", "kind": "certificate_credits", "source": {"kinds": ["certificate"]},
                "credits": 6, "category": "major"}
TWO_CERTIFICATES = {"id": "two-certs", "kind": "count_cap", "max_count": 2,
                    "source": {"kinds": ["certificate"]}}
MOOCS = {"id": "moocs", "kind": "transfer", "source": {"kinds": ["mooc"]}, "category": "general"}
MOOC_SCORE = {"id": "mooc-60", "kind": "threshold", "source": {"kinds": ["mooc"]},
              "scale": "percent", "min_score": 60}
MOOC_ATTENDANCE = {"id": "mooc-attendance", "kind": "threshold", "source": {"kinds": ["mooc"]},
                   "min_attendance": 80}


def lines(result: ProgrammeGuide) -> list[tuple[str, tuple[str, ...], Code, str | None, Decimal]]:
    """(class, outcomes, code, rule, credits) of every line."""
    return [(line.verdict, line.outcome_ids, line.code, line.rule_id, line.credits)
            for line in result.lines]


def test_a_line_over_a_cap_may_count_with_the_credits_it_would_earn() -> None:
    certificates = [outcome(f"c{n}", f"CERT{n}", kind="certificate", end=f"2024-0{n}-01")
                    for n in (1, 2, 3)]
    result = guide(certificates, rule_set([CERTIFICATES, TWO_CERTIFICATES]), as_of=AS_OF)
    assert lines(result) == [
        (MATCH, ("c1",), Code.CERTIFICATE_CREDITS, "cert", Decimal(6)),
        (MATCH, ("c2",), Code.CERTIFICATE_CREDITS, "cert", Decimal(6)),
        (MAYBE, ("c3",), Code.CAP_COUNT, "two-certs", Decimal(6)),
    ]
    maybe = result.lines[2]
    assert (maybe.granted_by, maybe.grant_code, maybe.category, maybe.params["limit"]) == (
        "cert", Code.CERTIFICATE_CREDITS, "major", Decimal(2))
    assert (result.match, result.maybe) == (Decimal(12), Decimal(6))


def test_a_grade_threshold_on_a_unit_with_no_grade_yet_is_a_maybe() -> None:
    planned = dataclasses.replace(outcome("p", "MOOC1", kind="mooc", grade=None, scale=None,
                                          credits=2), planned=True)
    graded = outcome("g", "MOOC2", kind="mooc", grade="75", scale="percent", credits=2)
    low = outcome("l", "MOOC3", kind="mooc", grade="40", scale="percent", credits=2)
    result = guide([planned, graded, low], rule_set([MOOCS, MOOC_SCORE]), as_of=AS_OF)
    assert lines(result) == [
        (MATCH, ("g",), Code.TRANSFER, "moocs", Decimal(2)),
        (MAYBE, ("p",), Code.GRADE_NOT_COMPARABLE, "mooc-60", Decimal(2)),
        (MISS, ("l",), Code.BELOW_SCORE, "mooc-60", Decimal(0)),
    ]
    assert result.lines[1].planned


def test_each_unstated_threshold_is_lifted_in_turn_and_a_real_refusal_still_stands() -> None:
    planned = outcome("p", "MOOC1", kind="mooc", grade=None, scale=None, credits=2)
    old = outcome("o", "MOOC2", kind="mooc", grade=None, scale=None, credits=2, end="2010-01-01")
    expiry = {"id": "recent", "kind": "currency", "source": {"kinds": ["mooc"]},
              "max_age_years": 5, "precedence": 200}
    result = guide([planned, old],
                   rule_set([MOOCS, MOOC_SCORE, MOOC_ATTENDANCE, expiry]), as_of=AS_OF)
    assert lines(result) == [
        (MAYBE, ("p",), Code.GRADE_NOT_COMPARABLE, "mooc-60", Decimal(2)),
        (MISS, ("o",), Code.EXPIRED, "recent", Decimal(0)),
    ]


def test_an_outcome_no_rule_recognises_is_a_miss_and_requirements_stay_unmet() -> None:
    result = guide([outcome("x", "ART100", kind="course")], rule_set([CERTIFICATES]),
                   as_of=AS_OF)
    assert lines(result) == [(MISS, ("x",), Code.NO_RULE, None, Decimal(0))]
    total = next(item for item in result.requirements if item.code is Code.TOTAL_CREDITS)
    assert (total.required, total.counted, total.shortfall, result.complete) == (
        Decimal(140), Decimal(0), Decimal(140), False)


def test_programmes_rank_by_match_then_maybe_then_title() -> None:
    certificates = [outcome(f"c{n}", f"CERT{n}", kind="certificate", end=f"2024-0{n}-01")
                    for n in (1, 2, 3)]
    capped = rule_set([CERTIFICATES, TWO_CERTIFICATES], rule_set_id="a:capped",
                      programme=programme_json(title="Zoology"))
    open_ = rule_set([CERTIFICATES], rule_set_id="b:open",
                     programme=programme_json(title="Botany"))
    same = rule_set([CERTIFICATES], rule_set_id="c:open",
                    programme=programme_json(title="Astronomy"))
    none = rule_set([MOOCS], rule_set_id="d:none", programme=programme_json(title="Art"))
    results = ranked(guide(certificates, item, as_of=AS_OF) for item in (capped, open_, same, none))
    assert [(item.title, item.match, item.maybe) for item in results] == [
        ("Astronomy", 18, 0), ("Botany", 18, 0), ("Zoology", 12, 6), ("Art", 0, 0)]
