"""The planner's pure part: what a programme names for the catalogue, and which candidate units
help which requirement, decided by auditing each one with the plan (never by guessing)."""

from decimal import Decimal

from rules.outcomes import Outcome
from rules.planner import Pattern, gap_fillers, patterns
from tests.support.rules import ACADEMY, AS_OF, COLLEGE, OWNER, outcome, programme_json, rule_set

KMOOC = "did:web:kmooc.example"

PROGRAMME = programme_json(
    total_credits=20,
    categories={"major": 9, "general": 3},
    units=[
        {"code": "CS201", "title": "Data Structures", "credits": 3, "category": "major"},
        {"code": "CS202", "title": "Algorithms", "credits": 3, "category": "major"},
        {"code": "GEN101", "title": "Academic Writing", "credits": 3, "category": "general"},
    ],
    mandatory=[{"id": "core", "units": ["CS201", "CS202"]}],
)
RULES = [
    {"id": "eq-ds", "kind": "equivalence", "precedence": 10,
     "source": {"providers": [COLLEGE], "unit_codes": ["DS100"]}, "target_unit": "CS201"},
    {"id": "college-major", "kind": "transfer", "precedence": 50,
     "source": {"providers": [COLLEGE], "kinds": ["course"]}, "category": "major"},
    {"id": "mooc-general", "kind": "transfer", "precedence": 60,
     "source": {"kinds": ["mooc"]}, "category": "general"},
    {"id": "one-mooc", "kind": "count_cap", "source": {"kinds": ["mooc"]}, "max_count": 1},
]
RULE_SET = rule_set(RULES, programme=PROGRAMME)


def planned(ref: str, provider: str, code: str, *, kind: str = "course",
            credits: int = 3) -> tuple[str, Outcome]:
    """A catalogue unit as a planned outcome (no grade yet), by its reference."""
    return ref, outcome(f"planned:{ref}", code, provider=provider, kind=kind, credits=credits,
                        grade=None, scale=None, end=AS_OF.isoformat())


def test_the_programme_names_its_own_units_then_named_units_then_providers_and_kinds() -> None:
    assert patterns(RULE_SET) == (
        Pattern(OWNER, "CS201"), Pattern(OWNER, "CS202"), Pattern(OWNER, "GEN101"),
        Pattern(COLLEGE, "DS100"),
        Pattern(COLLEGE, None, "course"), Pattern(None, None, "mooc"),
    )
    assert (Pattern(COLLEGE, None, "course").admits(COLLEGE, "ANY1", "course"),
            Pattern(COLLEGE, None, "course").admits(ACADEMY, "ANY1", "course"),
            Pattern(None, None, "mooc").admits(KMOOC, "M1", "course")) == (True, False, False)


def test_each_gap_lists_the_units_whose_audit_helps_it_best_first() -> None:
    earned = [outcome("alg", "ALG200")]
    plan = [planned("kmooc:M1", KMOOC, "M1", kind="mooc", credits=2)[1]]
    candidates = dict([
        planned("college:DS100", COLLEGE, "DS100"),
        planned("college:C300", COLLEGE, "C300", credits=4),
        planned("kmooc:M2", KMOOC, "M2", kind="mooc", credits=4),
        planned("seoul:GEN101", OWNER, "GEN101"),
        planned("academy:AC1", ACADEMY, "AC1"),
    ])
    gaps = gap_fillers(RULE_SET, earned, plan, candidates, as_of=AS_OF)
    found = {gap.requirement.id: [(item.ref, item.gain, item.units, item.fills)
                                  for item in gap.fillers] for gap in gaps}
    three, four = Decimal(3), Decimal(4)
    assert found == {
        "total": [("college:C300", four, (), False), ("college:DS100", three, (), False),
                  ("seoul:GEN101", three, (), False)],
        "category:general": [("seoul:GEN101", Decimal(1), (), True)],
        "category:major": [("college:C300", four, (), False),
                           ("college:DS100", three, (), False)],
        "core": [("college:DS100", three, ("CS201",), False)],
    }
    assert [gap.requirement.shortfall for gap in gaps] == [Decimal(15), 1, 6, 6]


def test_a_second_mooc_over_the_count_cap_fills_nothing_and_a_planned_one_is_not_retried() -> None:
    mooc_one = planned("kmooc:M1", KMOOC, "M1", kind="mooc", credits=2)
    candidates = dict([mooc_one, planned("kmooc:M2", KMOOC, "M2", kind="mooc", credits=4)])
    alone = gap_fillers(RULE_SET, [], [], {"kmooc:M2": candidates["kmooc:M2"]}, as_of=AS_OF)
    with_plan = gap_fillers(RULE_SET, [], [candidates["kmooc:M1"]], candidates, as_of=AS_OF)
    general = {gap.requirement.id: gap.fillers for gap in alone}["category:general"]
    assert [item.ref for item in general] == ["kmooc:M2"]
    assert [gap.fillers for gap in with_plan] == [()] * len(with_plan)


def test_a_met_programme_has_no_gaps_and_fillers_are_bounded() -> None:
    units = [planned(f"college:C{index}", COLLEGE, f"C{index}") for index in range(8)]
    gaps = gap_fillers(RULE_SET, [], [], dict(units), as_of=AS_OF, per_gap=2)
    assert max(len(gap.fillers) for gap in gaps) == 2
    plan = [item for _ref, item in (
        planned("seoul:CS201", OWNER, "CS201"), planned("seoul:CS202", OWNER, "CS202"),
        planned("seoul:GEN101", OWNER, "GEN101"), planned("college:C1", COLLEGE, "C1", credits=9),
        planned("college:C2", COLLEGE, "C2", credits=9))]
    assert gap_fillers(RULE_SET, [], plan, dict(units), as_of=AS_OF) == ()

