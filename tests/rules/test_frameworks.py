"""Frameworks: level crosswalk, credit conversion, grade scales and percentile-band conversion."""

from datetime import date
from decimal import Decimal

import pytest

from rules.codes import Code
from rules.evaluation import period_start, title_key
from rules.explain import MESSAGES, explain
from rules.frameworks import (
    SCALES,
    convert_credits,
    convert_grade,
    credit_rate,
    eqf_level,
    national_levels,
)
from rules.programmes import GradeBand


def bands(*pairs: tuple[str, int]) -> tuple[GradeBand, ...]:
    return tuple(GradeBand(grade, Decimal(percent)) for grade, percent in pairs)


def test_level_crosswalk_both_ways() -> None:
    assert [eqf_level("CQF", 6), eqf_level("KQF", 8), eqf_level("EQF", 1)] == [6, 8, 1]
    assert [eqf_level("CQF", 9), eqf_level("XQF", 3)] == [None, None]
    assert (national_levels("KQF", 5), national_levels("KQF", 9)) == ((5,), ())


@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    ("6", "ECTS", "KR", "3"),         # stated rate 0.5
    ("30", "hours", "KR", "2"),       # 15 hours per KR credit
    ("50", "hours", "CN-NCB", "3"),   # 50 / 16 = 3.125 -> 3
    ("3", "KR", "CN-NCB", "2.5"),     # 45 hours / 16 = 2.8125 -> 2.5
    ("4", "KR", "KR", "4"),
])
def test_credit_conversion_rounds_down_to_the_step(value: str, source: str, target: str,
                                                   expected: str) -> None:
    result = convert_credits(Decimal(value), source, target, rates={"ECTS": Decimal("0.5")},
                             step=Decimal("0.5"))
    assert result == Decimal(expected)


def test_unknown_schemes_have_no_rate() -> None:
    assert credit_rate("US-SCH", "KR", {}) is None
    assert convert_credits(Decimal(3), "KR", "US-SCH", rates={}, step=Decimal(1)) is None


def test_grade_scales() -> None:
    kr, percent, gpa = SCALES["letter-kr"], SCALES["percent"], SCALES["gpa"]
    assert [kr.passes("D0"), kr.passes("F"), kr.passes("Z")] == [True, False, None]
    assert [kr.at_least("B+", "B0"), kr.at_least("C+", "B0")] == [True, False]
    assert [percent.passes("30"), percent.value("101"), percent.value("x")] == [None, None, None]
    assert [gpa.grade_points("3.2"), kr.grade_points("A+"), SCALES["ects"].grade_points("A")] \
        == [Decimal("3.2"), Decimal("4.5"), None]
    assert SCALES["pass-fail"].passes("Fail") is False


def test_percentile_band_conversion() -> None:
    source = bands(("1", 20), ("2", 30), ("3", 50))
    target = bands(("A", 10), ("B", 30), ("C", 60))
    # source midpoints 10, 35, 75 -> A (0-10, boundary goes to the better grade), B, C
    assert [convert_grade(grade, source, target) for grade in ("1", "2", "3", "4")] == [
        "A", "B", "C", None]


@pytest.mark.parametrize(("day", "starts", "expected"), [
    ("2024-02-29", ("03-01",), "2023-03-01"), ("2024-03-01", ("03-01",), "2024-03-01"),
    ("2024-08-31", ("03-01", "09-01"), "2024-03-01"),
    ("2024-09-01", ("03-01", "09-01"), "2024-09-01"),
    ("2025-01-15", ("03-01", "09-01"), "2024-09-01"),
])
def test_periods_by_end_date(day: str, starts: tuple[str, ...], expected: str) -> None:
    assert period_start(date.fromisoformat(day), starts).isoformat() == expected


def test_titles_normalise_spacing_numbering_and_abbreviations() -> None:
    words = {"intro": "introduction", "prog": "programming"}
    same = ["Introduction to Programming I", "Intro. to Prog 1",
            "introduction  to programming (01)"]
    assert {title_key(title, words) for title in same} == {"introductiontoprogramming1"}
    assert title_key("Calculus II", {}) != title_key("Calculus I", {})
    assert title_key("高等数学（一）", {}) == title_key("高等数学 1", {}) == "高等数学1"


def test_every_code_has_an_english_message() -> None:
    assert set(MESSAGES) == set(Code)
    assert explain(Code.CAP_PERIOD, {"limit": 42, "counter": "2024-03-01", "counted": 40}) == (
        "Over the limit of 42 credits for the period from 2024-03-01 (40 already counted).")
    assert explain(Code.INCOMPLETE_SET, {"missing": ("DB-2", "DB-3")}) == (
        "Part of a set; still missing: DB-2, DB-3.")
