"""Boundary cases of every rule type: exactly at the edge, one step under, one step over."""

from datetime import date
from decimal import Decimal

import pytest

from rules.audit import audit
from rules.codes import Code
from rules.errors import InvalidAudit, RuleSetNotInForce
from rules.outcomes import Outcome
from rules.report import AuditReport
from tests.support.rules import ACADEMY, AS_OF, COLLEGE, OWNER, outcome, programme_json, rule_set

TRANSFER_ALL = {"id": "transfer-all", "kind": "transfer", "precedence": 90, "category": "major"}
OTHER = "did:web:college-z.example"


def run(rules: list[dict], outcomes: list[Outcome], *, as_of: date = AS_OF,
        **programme: object) -> AuditReport:
    """Audit `outcomes` under `rules` plus a catch-all major transfer."""
    return audit(outcomes, rule_set([*rules, TRANSFER_ALL], programme=programme_json(**programme)),
                 as_of=as_of)


def counted(report: AuditReport) -> list[tuple[tuple[str, ...], str | None, Decimal]]:
    """(outcomes, rule, credits) of every line."""
    return [(line.outcome_ids, line.rule_id, line.credits) for line in report.lines]


def refused(report: AuditReport) -> list[tuple[tuple[str, ...], Code, str | None]]:
    """(outcomes, code, rule) of every refusal."""
    return [(item.outcome_ids, item.code, item.rule_id) for item in report.refusals]


def requirement(report: AuditReport, requirement_id: str) -> tuple[Decimal, Decimal, bool]:
    """(required, counted, met) of one requirement."""
    found = next(item for item in report.requirements if item.id == requirement_id)
    return found.required, found.counted, found.met


@pytest.mark.parametrize(("end", "code"), [
    ("2021-03-02", None), ("2021-03-01", None), ("2021-02-28", Code.EXPIRED)])
def test_currency_window_by_end_date(end: str, code: Code | None) -> None:
    rules = [{"id": "recent", "kind": "currency", "max_age_years": 5}]
    report = run(rules, [outcome("o", "X1", end=end)])
    assert refused(report) == ([(("o",), code, "recent")] if code else [])


def test_currency_window_from_a_leap_day() -> None:
    rules = [{"id": "recent", "kind": "currency", "max_age_years": 1}]
    outcomes = [outcome("a", "X1", end="2023-02-27"), outcome("b", "X2", end="2023-02-28")]
    report = run(rules, outcomes, as_of=date(2024, 2, 29))
    assert refused(report) == [(("a",), Code.EXPIRED, "recent")]
    assert report.refusals[0].params == {"oldest": "2023-02-28", "years": 1}


@pytest.mark.parametrize(("end", "code"), [
    ("2023-12-31", Code.BEFORE_WINDOW), ("2024-01-01", None), ("2024-01-02", None)])
def test_only_outcomes_after_the_first_degree_count(end: str, code: Code | None) -> None:
    rules = [{"id": "second-degree", "kind": "currency", "not_before": "2024-01-01"}]
    report = run(rules, [outcome("o", "X1", end=end)])
    assert refused(report) == ([(("o",), code, "second-degree")] if code else [])


@pytest.mark.parametrize(("score", "attendance", "code"), [
    ("60", 80, None), ("59.5", 80, Code.BELOW_SCORE), ("60.5", "79.9", Code.BELOW_ATTENDANCE),
    ("100", 100, None), ("75", None, Code.BELOW_ATTENDANCE)])
def test_score_and_attendance_thresholds(score: str, attendance: object,
                                         code: Code | None) -> None:
    rules = [{"id": "mooc", "kind": "threshold", "source": {"kinds": ["mooc"]},
              "scale": "percent", "min_score": 60, "min_attendance": 80}]
    report = run(rules, [outcome("o", "M1", kind="mooc", grade=score, scale="percent",
                                 attendance=attendance)])
    assert refused(report) == ([(("o",), code, "mooc")] if code else [])


@pytest.mark.parametrize(("grade", "code"), [("B+", None), ("B0", None), ("C+", Code.BELOW_GRADE)])
def test_grade_threshold_on_an_ordinal_scale(grade: str, code: Code | None) -> None:
    rules = [{"id": "b-or-better", "kind": "threshold", "scale": "letter-kr", "min_grade": "B0"}]
    report = run(rules, [outcome("o", "X1", grade=grade)])
    assert refused(report) == ([(("o",), code, "b-or-better")] if code else [])


def test_a_grade_on_another_scale_converts_by_percentile_band() -> None:
    home = [{"grade": "A+", "percent": 10}, {"grade": "A0", "percent": 20},
            {"grade": "B+", "percent": 30}, {"grade": "B0", "percent": 25},
            {"grade": "C+", "percent": 15}]
    ects = [{"grade": "A", "percent": 10}, {"grade": "B", "percent": 25},
            {"grade": "C", "percent": 30}, {"grade": "D", "percent": 25},
            {"grade": "E", "percent": 10}]
    rules = [{"id": "b-or-better", "kind": "threshold", "scale": "letter-kr", "min_grade": "B0"},
             {"id": "tu-table", "kind": "grade_table", "source": {"providers": [ACADEMY]},
              "scale": "ects", "bands": ects}]
    outcomes = [outcome(f"o-{grade}", f"U{grade}", provider=ACADEMY, grade=grade, scale="ects")
                for grade in ("A", "B", "C", "D", "E")]
    outcomes.append(outcome("o-letter", "UL", provider=OTHER, grade="A", scale="letter"))
    report = run(rules, outcomes, grade_bands=home)
    # ECTS midpoints 5, 22.5, 50, 77.5, 95 fall in the home bands A+, A0, B+, B0, C+.
    assert [line.converted_grade for line in report.lines] == ["A+", "A0", "B+", "B0"]
    assert refused(report) == [(("o-E",), Code.BELOW_GRADE, "b-or-better"),
                               (("o-letter",), Code.GRADE_NOT_COMPARABLE, "b-or-better")]


def test_failed_and_unfinished_outcomes_never_count() -> None:
    report = run([], [outcome("f", "X1", grade="F"), outcome("s", "X2", status="Failed"),
                      outcome("w", "X3", status="Withdrew"), outcome("r", "X4", revoked=True),
                      outcome("ok", "X5", grade="D0")])
    assert counted(report) == [(("ok",), "transfer-all", Decimal(3))]
    assert refused(report) == [(("f",), Code.FAILED, None), (("r",), Code.REVOKED, None),
                               (("s",), Code.FAILED, None), (("w",), Code.NOT_COMPLETED, None)]


@pytest.mark.parametrize(("credits", "granted", "code"), [
    (3, 3, Code.EQUIVALENT_UNIT), (4, 3, Code.EQUIVALENT_UNIT), ("2.5", None, None)])
def test_one_to_one_equivalence_needs_matching_credits(credits: object, granted: int | None,
                                                       code: Code | None) -> None:
    rules = [{"id": "eq", "kind": "equivalence", "source": {"unit_codes": ["DS"]},
              "target_unit": "CS201"}]
    report = audit([outcome("o", "DS", credits=credits)], rule_set(rules), as_of=AS_OF)
    if granted:
        assert [(line.code, line.credits, line.target_units) for line in report.lines] == [
            (code, Decimal(granted), ("CS201",))]
    else:
        assert refused(report) == [(("o",), Code.CREDITS_SHORT, "eq")]
        assert report.refusals[0].params == {"required": Decimal(3), "offered": Decimal("2.5")}


def test_equivalence_without_matching_credits_when_the_rule_says_so() -> None:
    rules = [{"id": "eq", "kind": "equivalence", "source": {"unit_codes": ["DS"]},
              "target_unit": "CS201", "match_credits": False, "credits": 3}]
    report = audit([outcome("o", "DS", credits=2)], rule_set(rules), as_of=AS_OF)
    assert counted(report) == [(("o",), "eq", Decimal(3))]


def test_many_to_one_needs_every_unit_of_the_set() -> None:
    rules = [{"id": "os", "kind": "many_to_one", "target_unit": "CS301",
              "sources": [{"code": "OS1"}, {"code": "OS2"}, {"code": "OS3", "provider": ACADEMY}]}]
    parts = [outcome("p1", "OS1", credits=1), outcome("p2", "OS2", credits=1, end="2024-07-01"),
             outcome("p3", "OS3", provider=ACADEMY, credits=1, end="2024-05-01")]
    whole = audit(parts, rule_set(rules), as_of=AS_OF)
    assert [(line.outcome_ids, line.credits, line.end_date, line.target_units)
            for line in whole.lines] == [
        (("p1", "p2", "p3"), Decimal(3), date(2024, 7, 1), ("CS301",))]
    wrong_provider = audit([*parts[:2], outcome("p3", "OS3", credits=1)], rule_set(rules),
                           as_of=AS_OF)
    assert [(item.outcome_ids, item.code, item.params) for item in wrong_provider.refusals] == [
        (("p1",), Code.INCOMPLETE_SET, {"missing": ("OS3",)}),
        (("p3",), Code.NO_RULE, {}),
        (("p2",), Code.INCOMPLETE_SET, {"missing": ("OS3",)}),
    ]


def test_certificate_credits_and_a_certificate_nobody_recognises() -> None:
    rules = [{"id": "eip", "kind": "certificate_credits",
              "source": {"kinds": ["certificate"], "unit_codes": ["KR-EIP"]},
              "credits": 20, "category": "major"}]
    report = audit([outcome("eip", "KR-EIP", kind="certificate", credits=0),
                    outcome("dl", "KR-DL1", kind="certificate", credits=0)],
                   rule_set(rules), as_of=AS_OF)
    assert counted(report) == [(("eip",), "eip", Decimal(20))]
    assert refused(report) == [(("dl",), Code.NO_RULE, None)]


def test_an_exemption_lowers_the_requirement_instead_of_granting_credits() -> None:
    rules = [{"id": "courier", "kind": "exemption", "source": {"unit_codes": ["COURIER"]},
              "units": ["CS201", "CS202", "SYS120"]},
             {"id": "courier-again", "kind": "exemption", "source": {"unit_codes": ["COURIER-2"]},
              "units": ["CS201"]}]
    programme = programme_json(mandatory=[{"id": "core", "units": ["CS201", "CS202"]}])
    report = audit([outcome("c", "COURIER", kind="certificate", credits=0),
                    outcome("c2", "COURIER-2", kind="certificate", credits=0, end="2024-07-01")],
                   rule_set(rules, programme=programme), as_of=AS_OF)
    assert [(line.target_units, line.credits, line.exempted) for line in report.lines] == [
        (("CS201", "CS202", "SYS120"), Decimal(0), Decimal(8))]
    assert refused(report) == [(("c2",), Code.ALREADY_EXEMPT, "courier-again")]
    assert [(item.id, item.required, item.lowered_by, item.met)
            for item in report.requirements] == [
        ("total", Decimal(132), Decimal(8), False),
        ("category:elective", Decimal(0), Decimal(0), True),
        ("category:general", Decimal(30), Decimal(0), False),
        ("category:major", Decimal(52), Decimal(8), False),
        ("core", Decimal(6), Decimal(0), True),
    ]


@pytest.mark.parametrize(("level", "granted"), [(4, False), (5, True), (6, True)])
def test_block_credit_by_level(level: int, granted: bool) -> None:
    rules = [{"id": "diploma", "kind": "block_credit",
              "source": {"kinds": ["degree"], "min_level": 5},
              "credits": {"major": 30, "general": 15}}]
    report = audit([outcome("d", "DIP", kind="degree", credits=80, eqf_level=level)],
                   rule_set(rules), as_of=AS_OF)
    if granted:
        assert [(line.category, line.credits) for line in report.lines] == [
            ("general", Decimal(15)), ("major", Decimal(30))]
    else:
        assert refused(report) == [(("d",), Code.NO_RULE, None)]


def year_cap(limit: int = 42) -> dict:
    """The ACBS yearly cap (March to February), for lectures from elsewhere."""
    return {"id": "year", "kind": "period_cap", "period": "year", "starts": ["03-01"],
            "max_credits": limit, "source": {"kinds": ["course"], "origin": "external"}}


@pytest.mark.parametrize(("last", "refusals"), [
    ("2025-02-28", [(("o-15",), Code.CAP_PERIOD, "year")]),
    ("2025-03-01", [])])
def test_year_cap_runs_from_march_to_february(last: str, refusals: list) -> None:
    outcomes = [outcome(f"o-{n:02d}", f"X{n}", end=f"2024-{3 + n % 9:02d}-1{n % 10}")
                for n in range(1, 15)]
    outcomes.append(outcome("o-15", "X15", end=last))
    report = run([year_cap()], outcomes)
    assert refused(report) == refusals
    assert report.credits == Decimal(42 if refusals else 45)


def test_a_leap_day_belongs_to_the_year_that_began_the_march_before() -> None:
    outcomes = [outcome("a", "X1", end="2023-03-01", credits=40),
                outcome("b", "X2", end="2024-02-29", credits=3),
                outcome("c", "X3", end="2024-03-01", credits=3)]
    report = run([year_cap()], outcomes)
    assert refused(report) == [(("b",), Code.CAP_PERIOD, "year")]
    assert report.refusals[0].params["counter"] == "2023-03-01"


@pytest.mark.parametrize(("end", "refusals"), [
    ("2024-08-31", [(("extra",), Code.CAP_PERIOD, "semester")]), ("2024-09-01", [])])
def test_semester_cap_by_end_date(end: str, refusals: list) -> None:
    rules = [{"id": "semester", "kind": "period_cap", "period": "semester",
              "starts": ["09-01", "03-01"], "max_credits": 24}]
    outcomes = [outcome(f"o{n}", f"X{n}", end=f"2024-06-0{n}") for n in range(1, 9)]
    outcomes.append(outcome("extra", "X9", end=end, credits="0.5"))
    assert refused(run(rules, outcomes)) == refusals


def test_caps_refuse_whole_units_and_a_smaller_later_unit_may_still_fit() -> None:
    rules = [{"id": "per-provider", "kind": "provider_cap", "max_credits": 105}]
    outcomes = [outcome(f"o{n:02d}", f"X{n}", end=f"2024-01-{n:02d}", credits=10)
                for n in range(1, 11)]
    outcomes += [outcome("big", "BIG", end="2024-02-01", credits=6),
                 outcome("small", "SMALL", end="2024-02-02", credits=5),
                 outcome("over", "OVER", end="2024-02-03", credits="0.5"),
                 outcome("elsewhere", "E1", provider=ACADEMY, end="2024-02-04", credits=6)]
    report = run(rules, outcomes)
    assert refused(report) == [(("big",), Code.CAP_PROVIDER, "per-provider"),
                               (("over",), Code.CAP_PROVIDER, "per-provider")]
    assert report.refusals[1].params == {"limit": Decimal(105), "counted": Decimal(105),
                                         "category": "major", "credits": Decimal("0.5"),
                                         "counter": COLLEGE}
    assert report.credits == Decimal(111)


@pytest.mark.parametrize(("count", "refusals"), [(3, 0), (4, 1)])
def test_count_cap_on_certificates(count: int, refusals: int) -> None:
    rules = [{"id": "cert", "kind": "certificate_credits", "source": {"kinds": ["certificate"]},
              "credits": 6, "category": "major"},
             {"id": "three", "kind": "count_cap", "max_count": 3,
              "source": {"kinds": ["certificate"]}}]
    outcomes = [outcome(f"c{n}", f"CERT{n}", kind="certificate", credits=0, end=f"2024-0{n}-01")
                for n in range(1, count + 1)]
    report = run(rules, outcomes)
    assert (len(report.lines), len(report.refusals)) == (3, refusals)


@pytest.mark.parametrize(("credits", "refused_ids"), [(70, []), ("70.5", [("last",)])])
def test_proportion_cap_on_advanced_standing(credits: object, refused_ids: list) -> None:
    rules = [{"id": "half", "kind": "proportion_cap", "max_share": 0.5,
              "source": {"origin": "external"}}]
    outcomes = [outcome("first", "X1", credits=40, end="2024-01-01"),
                outcome("last", "X2", credits=Decimal(credits) - 40, end="2024-02-01"),
                outcome("home", "CS201", provider=OWNER, end="2024-03-01")]
    report = run(rules, outcomes)
    assert [item.outcome_ids for item in report.refusals] == refused_ids


def test_a_share_is_rounded_down_to_the_credit_step() -> None:
    rules = [{"id": "third", "kind": "proportion_cap", "max_share": 0.3334}]
    outcomes = [outcome("a", "X1", credits="46.5", end="2024-01-01"),
                outcome("b", "X2", credits="0.5", end="2024-02-01")]
    report = run(rules, outcomes)  # 0.3334 x 140 = 46.676 -> 46.5
    assert refused(report) == [(("b",), Code.CAP_PROPORTION, "third")]


def test_no_double_counting_of_the_same_or_renamed_unit() -> None:
    rules = [{"id": "same-mooc", "kind": "overlap",
              "units": [{"code": "PY101", "provider": ACADEMY},
                        {"code": "PY-1", "provider": OTHER}]}]
    outcomes = [outcome("first-try", "DB", grade="F", end="2023-01-01"),
                outcome("retake", "DB", end="2023-07-01"),
                outcome("again", "DB", end="2024-01-01"),
                outcome("py-a", "PY101", provider=ACADEMY, end="2024-02-01"),
                outcome("py-b", "PY-1", provider=OTHER, end="2024-01-15"),
                outcome("py-c", "PY101", provider=COLLEGE, end="2024-03-01")]
    report = run(rules, outcomes)
    assert counted(report) == [(("retake",), "transfer-all", Decimal(3)),
                               (("py-b",), "transfer-all", Decimal(3)),
                               (("py-c",), "transfer-all", Decimal(3))]
    assert [(item.outcome_ids, item.code, item.rule_id, item.params)
            for item in report.refusals] == [
        (("first-try",), Code.FAILED, None, {"grade": "F", "scale": "letter-kr"}),
        (("again",), Code.REPEATED_UNIT, None, {"counted": "retake"}),
        (("py-a",), Code.OVERLAP, "same-mooc", {"counted": "py-b"}),
    ]


def test_substitutable_units_both_count_but_fill_one_mandatory_slot() -> None:
    rules = [{"id": "eq-a", "kind": "equivalence", "source": {"unit_codes": ["ALG-A"]},
              "target_unit": "CS202"},
             {"id": "eq-b", "kind": "equivalence", "source": {"unit_codes": ["ALG-B"]},
              "target_unit": "CS202"}]
    programme = programme_json(mandatory=[{"id": "core", "units": ["CS202"]}])
    report = audit([outcome("a", "ALG-A"), outcome("b", "ALG-B", end="2024-07-01")],
                   rule_set(rules, programme=programme), as_of=AS_OF)
    assert counted(report) == [(("a",), "eq-a", Decimal(3)), (("b",), "eq-b", Decimal(3))]
    assert requirement(report, "core") == (Decimal(3), Decimal(3), True)


@pytest.mark.parametrize(("units", "met"), [(("CS201",), False), (("CS201", "CS202"), True),
                                            (("CS201", "CS202", "CS301"), True)])
def test_mandatory_core_by_credits(units: tuple[str, ...], met: bool) -> None:
    programme = programme_json(mandatory=[{"id": "core", "min_credits": 6,
                                           "units": ["CS201", "CS202", "CS301"]}])
    outcomes = [outcome(f"h-{code}", code, provider=OWNER, end=f"2024-06-0{n}")
                for n, code in enumerate(units, start=1)]
    report = audit(outcomes, rule_set([TRANSFER_ALL], programme=programme), as_of=AS_OF)
    assert requirement(report, "core") == (Decimal(6), Decimal(3 * len(units)), met)


@pytest.mark.parametrize(("credits", "met"), [("17.5", False), (18, True), ("18.5", True)])
def test_minimum_credits_from_a_source(credits: object, met: bool) -> None:
    programme = programme_json(source_minimums=[
        {"id": "accredited", "min_credits": 18, "source": {"providers": [ACADEMY]}}])
    report = audit([outcome("a", "X1", provider=ACADEMY, credits=credits),
                    outcome("b", "X2", credits=30)],
                   rule_set([TRANSFER_ALL], programme=programme), as_of=AS_OF)
    assert requirement(report, "accredited") == (Decimal(18), Decimal(credits), met)


@pytest.mark.parametrize(("grades", "gpa", "met"), [
    (("B0", "C0"), Decimal("2.50"), True), (("C0", "C0"), Decimal("2.00"), True),
    (("C0", "D+"), Decimal("1.75"), False)])
def test_gpa_over_home_units_only(grades: tuple[str, str], gpa: Decimal, met: bool) -> None:
    programme = programme_json(min_gpa=2.0)
    outcomes = [outcome("h1", "CS201", provider=OWNER, grade=grades[0]),
                outcome("h2", "CS202", provider=OWNER, grade=grades[1], end="2024-07-01"),
                outcome("t", "X1", grade="D0", end="2024-08-01")]
    report = audit(outcomes, rule_set([TRANSFER_ALL], programme=programme), as_of=AS_OF)
    assert [line.grade for line in report.lines] == [grades[0], grades[1], "TR"]
    assert (report.gpa, requirement(report, "gpa")) == (gpa, (Decimal(2), gpa, met))


def test_no_home_grades_means_no_gpa() -> None:
    report = audit([outcome("t", "X1")],
                   rule_set([TRANSFER_ALL], programme=programme_json(min_gpa=2.0)), as_of=AS_OF)
    assert (report.gpa, requirement(report, "gpa")) == (None, (Decimal(2), Decimal(0), False))


@pytest.mark.parametrize(("credits", "scheme", "granted"), [
    (6, "ECTS", "3"), (5, "ECTS", "2.5"), (1, "ECTS", "0.5"), (48, "hours", "3"),
    (45, "hours", "3"), (44, "hours", "2.5"), (3, "CN-NCB", "3")])
def test_credit_conversion_into_the_programme_scheme(credits: int, scheme: str,
                                                     granted: str) -> None:
    report = run([], [outcome("o", "X1", credits=credits, scheme=scheme)],
                 credit_rates={"ECTS": 0.5})
    assert counted(report) == [(("o",), "transfer-all", Decimal(granted))]


def test_credits_in_an_unknown_scheme_are_refused() -> None:
    report = run([], [outcome("o", "X1", scheme="US-SCH")])
    assert [(item.code, item.params) for item in report.refusals] == [
        (Code.UNCONVERTIBLE, {"scheme": "US-SCH", "to": "KR"})]


def test_rules_apply_by_precedence_then_id() -> None:
    rules = [{"id": "b-general", "kind": "transfer", "precedence": 10, "category": "general"},
             {"id": "a-elective", "kind": "transfer", "precedence": 10, "category": "elective"},
             {"id": "c-first", "kind": "transfer", "precedence": 5, "category": "major",
              "source": {"providers": [ACADEMY]}}]
    report = run(rules, [outcome("x", "X1"), outcome("y", "Y1", provider=ACADEMY)])
    assert [(line.outcome_ids, line.rule_id, line.category) for line in report.lines] == [
        (("x",), "a-elective", "elective"), (("y",), "c-first", "major")]


def test_audit_input_errors() -> None:
    rules = rule_set([TRANSFER_ALL])
    with pytest.raises(InvalidAudit, match="one learner"):
        audit([outcome("a", "X1"), Outcome(**{**outcome("b", "X2").__dict__, "learner": "x"})],
              rules, as_of=AS_OF)
    with pytest.raises(InvalidAudit, match="unique"):
        audit([outcome("a", "X1")], rules, as_of=AS_OF, planned=[outcome("a", "X2")])
    with pytest.raises(RuleSetNotInForce, match="not in force on 2019-12-31"):
        audit([], rules, as_of=date(2019, 12, 31))
