"""A realistic bachelor audit (Korea ACBS-like): 140 credits, >= 60 major, >= 30 general.

The learner brings four years of college transfer credits (one failed course, one renamed
repeat), qualifying certificates, K-MOOCs, an Erasmus semester in ECTS, a two-part course that
maps to one unit, a diploma worth block credit, and two of the programme's own units.
"""

import random
from datetime import date
from decimal import Decimal

from rules.audit import audit
from rules.codes import Code
from rules.outcomes import Outcome
from rules.report import Line, Refusal, Requirement
from tests.support.rules import (
    ACADEMY,
    AS_OF,
    COLLEGE,
    LEARNER,
    OWNER,
    outcome,
    programme_json,
    rule_set,
)

QNET = "did:web:q-net.example"
KMOOC_X = "did:web:kmooc-x.example"
KMOOC_Y = "did:web:kmooc-y.example"
TU = "did:web:tu-example.de"
UNIV_D = "did:web:univ-d.example"
COLLEGE_C = "did:web:college-c.example"
LECTURES = ("course", "module", "mooc", "training")

RULES = [
    {"id": "currency-5y", "kind": "currency", "precedence": 10,
     "source": {"kinds": list(LECTURES)}, "max_age_years": 5},
    {"id": "mooc-pass", "kind": "threshold", "precedence": 20, "source": {"kinds": ["mooc"]},
     "scale": "percent", "min_score": 60, "min_attendance": 80},
    {"id": "renamed-ds", "kind": "overlap",
     "units": [{"provider": COLLEGE, "code": "DS100"}, {"provider": COLLEGE, "code": "DS110"}]},
    {"id": "same-mooc", "kind": "title_match", "source": {"kinds": ["mooc"]},
     "abbreviations": {"intro": "introduction"}},
    {"id": "eq-ds", "kind": "equivalence", "precedence": 10,
     "source": {"providers": [COLLEGE], "unit_codes": ["DS100"]}, "target_unit": "CS201"},
    {"id": "eq-alg", "kind": "equivalence", "precedence": 10,
     "source": {"providers": [COLLEGE], "unit_codes": ["ALG200"]}, "target_unit": "CS202"},
    {"id": "set-os", "kind": "many_to_one", "precedence": 10, "target_unit": "CS301",
     "sources": [{"provider": UNIV_D, "code": "OS-1"}, {"provider": UNIV_D, "code": "OS-2"}]},
    {"id": "set-db", "kind": "many_to_one", "precedence": 10, "target_unit": "CS302",
     "sources": [{"provider": UNIV_D, "code": "DB-1"}, {"provider": UNIV_D, "code": "DB-2"}]},
    {"id": "college-major", "kind": "transfer", "precedence": 50,
     "source": {"providers": [COLLEGE], "kinds": ["course"]}, "category": "major"},
    {"id": "academy-general", "kind": "transfer", "precedence": 50,
     "source": {"providers": [ACADEMY], "kinds": ["course"]}, "category": "general"},
    {"id": "mooc-general", "kind": "transfer", "precedence": 50,
     "source": {"kinds": ["mooc"]}, "category": "general"},
    {"id": "erasmus-major", "kind": "transfer", "precedence": 50,
     "source": {"providers": [TU]}, "category": "major"},
    {"id": "cert-eip", "kind": "certificate_credits", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["KR-EIP"]}, "credits": 20,
     "category": "major"},
    {"id": "cert-nm2", "kind": "certificate_credits", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["KR-NM2"]}, "credits": 14,
     "category": "major"},
    {"id": "cert-sqld", "kind": "certificate_credits", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["KR-SQLD"]}, "credits": 6,
     "category": "major"},
    {"id": "cert-wp", "kind": "certificate_credits", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["KR-WP"]}, "credits": 4,
     "category": "general"},
    {"id": "cert-ca2", "kind": "certificate_credits", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["KR-CA2"]}, "credits": 6,
     "category": "general"},
    {"id": "exempt-linux", "kind": "exemption", "precedence": 20,
     "source": {"kinds": ["certificate"], "unit_codes": ["LX-ADMIN"]},
     "units": ["SYS110", "SYS120"]},
    {"id": "block-diploma", "kind": "block_credit", "precedence": 30,
     "source": {"kinds": ["degree"], "min_level": 5}, "credits": {"general": 6, "elective": 12}},
    {"id": "cap-year", "kind": "period_cap", "precedence": 10, "period": "year",
     "starts": ["03-01"], "max_credits": 42,
     "source": {"kinds": list(LECTURES), "origin": "external"}},
    {"id": "cap-semester", "kind": "period_cap", "precedence": 20, "period": "semester",
     "starts": ["03-01", "09-01"], "max_credits": 24,
     "source": {"kinds": list(LECTURES), "origin": "external"}},
    {"id": "cap-provider", "kind": "provider_cap", "precedence": 30, "max_credits": 105,
     "source": {"origin": "external"}},
    {"id": "cap-certificates", "kind": "count_cap", "precedence": 40, "max_count": 3,
     "source": {"kinds": ["certificate"]}},
    {"id": "cap-general-certificates", "kind": "count_cap", "precedence": 41, "max_count": 1,
     "category": "general", "source": {"kinds": ["certificate"]}},
]
PROGRAMME = programme_json(
    mandatory=[{"id": "core-major", "units": ["CS201", "CS202", "CS301", "CS302"]}],
    source_minimums=[{"id": "min-accredited", "min_credits": 18,
                      "source": {"kinds": ["course"], "origin": "external"}}],
    min_gpa=2.0,
    credit_rates={"ECTS": 0.5},
)
RULE_SET = rule_set(RULES, programme=PROGRAMME)


def college_term(year: int, term: int, count: int, special: dict[int, dict]) -> list[Outcome]:
    """`count` 3-credit college courses ending one day apart from June 1 or December 1."""
    month = 6 if term == 1 else 12
    outcomes = []
    for number in range(1, count + 1):
        options = {"end": date(year, month, number).isoformat(), **special.get(number, {})}
        code = options.pop("code", f"C{year % 100}{term}{number:02d}")
        outcomes.append(outcome(f"a-{year}-{term}-{number:02d}", code, **options))
    return outcomes


def learner_outcomes() -> list[Outcome]:
    """The learner's earned outcomes, as verified credentials yield them."""
    return [
        outcome("a-2020-2-01", "C20201", end="2020-12-15"),
        *college_term(2022, 1, 8, {1: {"code": "DS100", "title": "Data Structures"}}),
        *college_term(2022, 2, 9, {3: {"grade": "F"},
                                   5: {"code": "DS110", "title": "Data Structures & Algorithms"}}),
        *college_term(2023, 1, 9, {2: {"code": "ALG200", "title": "Algorithms", "credits": 2}}),
        *college_term(2023, 2, 6, {}),
        *college_term(2024, 1, 8, {}),
        outcome("b-eng-1", "ENG1", provider=ACADEMY, end="2024-06-20"),
        outcome("b-eng-2", "ENG2", provider=ACADEMY, end="2024-06-21"),
        outcome("q-dl1", "KR-DL1", provider=QNET, kind="certificate", credits=0,
                end="2021-08-01", grade=None, scale=None),
        *(outcome(f"q-{code.lower()}", code, provider=QNET, kind="certificate", credits=0,
                  end=end, grade=None, scale=None)
          for code, end in (("KR-WP", "2022-05-01"), ("KR-EIP", "2023-06-10"),
                            ("KR-CA2", "2023-11-01"), ("KR-SQLD", "2024-07-01"),
                            ("KR-NM2", "2025-05-01"), ("LX-ADMIN", "2025-09-01"))),
        outcome("m-1", "PY101", provider=KMOOC_X, title="Introduction to Python", kind="mooc",
                credits=2, end="2025-01-20", grade="85", scale="percent", attendance=90),
        outcome("m-2", "HIS1", provider=KMOOC_X, title="Korean History", kind="mooc",
                credits=2, end="2025-01-21", grade="59", scale="percent", attendance=95),
        outcome("m-3", "STA1", provider=KMOOC_Y, title="Statistics", kind="mooc",
                credits=2, end="2025-01-22", grade="75", scale="percent", attendance=79),
        outcome("m-4", "PY-INTRO", provider=KMOOC_Y, title="Intro. to  Python", kind="mooc",
                credits=2, end="2025-02-10", grade="90", scale="percent", attendance=95),
        outcome("m-5", "VIS1", provider=KMOOC_Y, title="Data Visualisation", kind="mooc",
                credits=2, end="2025-02-12", grade="60", scale="percent", attendance=80),
        outcome("tu-se", "SE-6", provider=TU, credits=6, scheme="ECTS", end="2025-07-15",
                grade="A", scale="ects"),
        outcome("tu-ml", "ML-5", provider=TU, credits=5, scheme="ECTS", end="2025-07-16",
                grade="B", scale="ects"),
        outcome("d-os-1", "OS-1", provider=UNIV_D, credits="1.5", end="2025-06-20"),
        outcome("d-db-1", "DB-1", provider=UNIV_D, credits="1.5", end="2025-06-22"),
        outcome("d-os-2", "OS-2", provider=UNIV_D, credits="1.5", end="2025-06-25"),
        outcome("c-dip", "DIP-IT", provider=COLLEGE_C, kind="degree", credits=80,
                end="2021-02-20", eqf_level=5),
        outcome("h-cs302", "CS302", provider=OWNER, end="2025-12-10", grade="A0"),
        outcome("h-gen101", "GEN101", provider=OWNER, end="2025-12-12", grade="B+"),
    ]


def planned_outcomes() -> list[Outcome]:
    """Next semester's plan: the missing core unit and four general courses."""
    return [
        outcome("plan-cs202", "CS202", provider=OWNER, end="2026-06-15", grade=None),
        *(outcome(f"plan-b-{code.lower()}", code, provider=ACADEMY, end="2026-06-20")
          for code in ("HIS2", "PHI1", "ECO1", "ART1")),
    ]


def test_the_bachelor_audit_line_by_line() -> None:
    report = audit(learner_outcomes(), RULE_SET, as_of=AS_OF)

    expected_college = (
        [transfer_line("a-2022-1-01", "DS100", "2022-06-01", "eq-ds", target="CS201",
                       code=Code.EQUIVALENT_UNIT)]
        + [transfer_line(f"a-2022-1-{n:02d}", f"C2210{n}", f"2022-06-0{n}", "college-major")
           for n in range(2, 9)]
        + [transfer_line(f"a-2022-2-{n:02d}", f"C2220{n}", f"2022-12-0{n}", "college-major")
           for n in (1, 2, 4, 6, 7, 8)]
        + [transfer_line("a-2023-1-01", "C23101", "2023-06-01", "college-major"),
           transfer_line("a-2023-1-02", "ALG200", "2023-06-02", "college-major", credits=2)]
        + [transfer_line(f"a-2023-1-{n:02d}", f"C2310{n}", f"2023-06-0{n}", "college-major")
           for n in range(3, 9)]
        + [transfer_line(f"a-2023-2-{n:02d}", f"C2320{n}", f"2023-12-0{n}", "college-major")
           for n in range(1, 7)]
        + [transfer_line(f"a-2024-1-{n:02d}", f"C2410{n}", f"2024-06-0{n}", "college-major")
           for n in range(1, 8)]
    )
    expected = sorted([
        *expected_college,
        transfer_line("b-eng-1", "ENG1", "2024-06-20", "academy-general", provider=ACADEMY,
                      category="general"),
        transfer_line("q-kr-wp", "KR-WP", "2022-05-01", "cert-wp", provider=QNET,
                      category="general", credits=4, code=Code.CERTIFICATE_CREDITS, converted=None),
        transfer_line("q-kr-eip", "KR-EIP", "2023-06-10", "cert-eip", provider=QNET,
                      credits=20, code=Code.CERTIFICATE_CREDITS, converted=None),
        transfer_line("q-kr-sqld", "KR-SQLD", "2024-07-01", "cert-sqld", provider=QNET,
                      credits=6, code=Code.CERTIFICATE_CREDITS, converted=None),
        Line(outcome_ids=("q-lx-admin",), units=("LX-ADMIN",), provider=QNET,
             decision="exemption", code=Code.EXEMPTION, rule_id="exempt-linux", category=None,
             credits=Decimal(0), end_date=date(2025, 9, 1), grade="EX",
             target_units=("SYS110", "SYS120"), exempted=Decimal(5)),
        transfer_line("m-1", "PY101", "2025-01-20", "mooc-general", provider=KMOOC_X,
                      category="general", credits=2, converted=None),
        transfer_line("m-5", "VIS1", "2025-02-12", "mooc-general", provider=KMOOC_Y,
                      category="general", credits=2, converted=None),
        transfer_line("tu-se", "SE-6", "2025-07-15", "erasmus-major", provider=TU,
                      converted=None),
        transfer_line("tu-ml", "ML-5", "2025-07-16", "erasmus-major", provider=TU,
                      credits="2.5", converted=None),
        Line(outcome_ids=("d-os-1", "d-os-2"), units=("OS-1", "OS-2"), provider=UNIV_D,
             decision="transfer", code=Code.UNIT_SET, rule_id="set-os", category="major",
             credits=Decimal(3), end_date=date(2025, 6, 25), grade="TR",
             target_units=("CS301",)),
        transfer_line("c-dip", "DIP-IT", "2021-02-20", "block-diploma", provider=COLLEGE_C,
                      category="elective", credits=12, code=Code.BLOCK_CREDIT),
        transfer_line("c-dip", "DIP-IT", "2021-02-20", "block-diploma", provider=COLLEGE_C,
                      category="general", credits=6, code=Code.BLOCK_CREDIT),
        home_line("h-cs302", "CS302", "2025-12-10", "major", "A0"),
        home_line("h-gen101", "GEN101", "2025-12-12", "general", "B+"),
    ], key=lambda line: (line.end_date, line.outcome_ids, line.category or ""))
    assert list(report.lines) == expected

    assert list(report.refusals) == [
        refused("a-2020-2-01", "C20201", "2020-12-15", Code.EXPIRED, "currency-5y",
                oldest="2021-03-01", years=5),
        refused("q-dl1", "KR-DL1", "2021-08-01", Code.NO_RULE, None, provider=QNET),
        refused("a-2022-2-03", "C22203", "2022-12-03", Code.FAILED, None, grade="F",
                scale="letter-kr"),
        refused("a-2022-2-05", "DS110", "2022-12-05", Code.OVERLAP, "renamed-ds",
                counted="a-2022-1-01"),
        refused("a-2022-2-09", "C22209", "2022-12-09", Code.CAP_PERIOD, "cap-year",
                limit=Decimal(42), counted=Decimal(42), category="major",
                credits=Decimal(3), counter="2022-03-01"),
        refused("a-2023-1-09", "C23109", "2023-06-09", Code.CAP_PERIOD, "cap-semester",
                limit=Decimal(24), counted=Decimal(23), category="major",
                credits=Decimal(3), counter="2023-03-01"),
        refused("q-kr-ca2", "KR-CA2", "2023-11-01", Code.CAP_COUNT, "cap-general-certificates",
                provider=QNET, limit=Decimal(1), counted=Decimal(1), category="general",
                credits=Decimal(6)),
        refused("a-2024-1-08", "C24108", "2024-06-08", Code.CAP_PROVIDER, "cap-provider",
                limit=Decimal(105), counted=Decimal(104), category="major",
                credits=Decimal(3), counter=COLLEGE),
        refused("b-eng-2", "ENG2", "2024-06-21", Code.CAP_PERIOD, "cap-semester",
                provider=ACADEMY, limit=Decimal(24), counted=Decimal(24), category="general",
                credits=Decimal(3), counter="2024-03-01"),
        refused("m-2", "HIS1", "2025-01-21", Code.BELOW_SCORE, "mooc-pass", provider=KMOOC_X,
                required=Decimal(60), grade="59", scale="percent"),
        refused("m-3", "STA1", "2025-01-22", Code.BELOW_ATTENDANCE, "mooc-pass",
                provider=KMOOC_Y, required=Decimal(80), attendance=Decimal(79)),
        refused("m-4", "PY-INTRO", "2025-02-10", Code.OVERLAP, "same-mooc", provider=KMOOC_Y,
                counted="m-1"),
        refused("q-kr-nm2", "KR-NM2", "2025-05-01", Code.CAP_COUNT, "cap-certificates",
                provider=QNET, limit=Decimal(3), counted=Decimal(3), category="major",
                credits=Decimal(14)),
        refused("d-db-1", "DB-1", "2025-06-22", Code.INCOMPLETE_SET, "set-db", provider=UNIV_D,
                missing=("DB-2",)),
    ]

    # major: college 104 + certificates 26 + Erasmus 5.5 + OS set 3 + home 3 = 141.5
    # general: academy 3 + certificate 4 + MOOCs 4 + block 6 + home 3 = 20
    assert report.requirements == (
        Requirement("total", Code.TOTAL_CREDITS, required=Decimal(135),
                    counted=Decimal("173.5"), met=True, lowered_by=Decimal(5)),
        Requirement("category:elective", Code.CATEGORY_CREDITS, required=Decimal(0),
                    counted=Decimal(12), met=True),
        Requirement("category:general", Code.CATEGORY_CREDITS, required=Decimal(30),
                    counted=Decimal(20), met=False),
        Requirement("category:major", Code.CATEGORY_CREDITS, required=Decimal(55),
                    counted=Decimal("141.5"), met=True, lowered_by=Decimal(5)),
        Requirement("core-major", Code.MANDATORY_UNITS, required=Decimal(12),
                    counted=Decimal(9), met=False, missing_units=("CS202",)),
        Requirement("min-accredited", Code.SOURCE_CREDITS, required=Decimal(18),
                    counted=Decimal("115.5"), met=True),
        Requirement("gpa", Code.MIN_GPA, required=Decimal(2), counted=Decimal("3.75"),
                    met=True),
    )
    assert (report.learner, report.credits, report.exempted, report.gpa, report.complete) == (
        LEARNER, Decimal("173.5"), Decimal(5), Decimal("3.75"), False)
    assert [(item.id, item.shortfall) for item in report.missing] == [
        ("category:general", Decimal(10)), ("core-major", Decimal(3))]


def test_what_if_the_planned_semester_completes_the_degree() -> None:
    before = audit(learner_outcomes(), RULE_SET, as_of=AS_OF)
    after = audit(learner_outcomes(), RULE_SET, as_of=AS_OF, planned=planned_outcomes())

    planned = [line for line in after.lines if line.planned]
    assert [(line.outcome_ids, line.category, line.credits) for line in planned] == [
        (("plan-cs202",), "major", Decimal(3)),
        *(((f"plan-b-{code}",), "general", Decimal(3))
           for code in ("art1", "eco1", "his2", "phi1")),
    ]
    assert [line for line in after.lines if not line.planned] == list(before.lines)
    assert after.refusals == before.refusals
    assert [(item.id, item.counted, item.met) for item in after.requirements] == [
        ("total", Decimal("188.5"), True),
        ("category:elective", Decimal(12), True),
        ("category:general", Decimal(32), True),
        ("category:major", Decimal("144.5"), True),
        ("core-major", Decimal(12), True),
        ("min-accredited", Decimal("127.5"), True),
        ("gpa", Decimal("3.75"), True),
    ]
    assert (before.complete, after.complete) == (False, True)


def test_the_audit_is_deterministic_whatever_the_input_order() -> None:
    outcomes = learner_outcomes()
    expected = audit(outcomes, RULE_SET, as_of=AS_OF).to_json()
    generator = random.Random(2026)
    for _ in range(5):
        generator.shuffle(outcomes)
        assert audit(outcomes, RULE_SET, as_of=AS_OF).to_json() == expected


def transfer_line(outcome_id: str, unit: str, end: str, rule_id: str, *,
                  provider: str = COLLEGE, category: str = "major", credits: int | str = 3,
                  code: Code = Code.TRANSFER, target: str | None = None,
                  converted: str | None = "B0") -> Line:
    """A line granting transfer credits (grade "TR"; `converted` on the programme's scale)."""
    return Line(outcome_ids=(outcome_id,), units=(unit,), provider=provider,
                decision="transfer", code=code, rule_id=rule_id, category=category,
                credits=Decimal(credits), end_date=date.fromisoformat(end), grade="TR",
                converted_grade=converted, target_units=(target,) if target else ())


def home_line(outcome_id: str, unit: str, end: str, category: str, grade: str) -> Line:
    """A line for one of the programme's own units."""
    return Line(outcome_ids=(outcome_id,), units=(unit,), provider=OWNER, decision="home",
                code=Code.HOME_UNIT, rule_id=None, category=category, credits=Decimal(3),
                end_date=date.fromisoformat(end), grade=grade, target_units=(unit,))


def refused(outcome_id: str, unit: str, end: str, code: Code, rule_id: str | None, *,
            provider: str = COLLEGE, **params: object) -> Refusal:
    """A refusal of one outcome."""
    return Refusal(outcome_ids=(outcome_id,), units=(unit,), provider=provider, code=code,
                   rule_id=rule_id, end_date=date.fromisoformat(end), params=params)
