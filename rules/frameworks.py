"""Frameworks: qualification levels and their EQF crosswalk, credit schemes, grade scales."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from rules.programmes import GradeBand

_ONE_TO_ONE = {level: level for level in range(1, 9)}

CROSSWALKS: Mapping[str, Mapping[int, int]] = {
    "EQF": _ONE_TO_ONE,
    # China's national learning-outcome framework and the Korean Qualifications Framework both
    # have eight levels; this project references them to EQF level for level.
    "CQF": _ONE_TO_ONE,
    "KQF": _ONE_TO_ONE,
}


def eqf_level(framework: str, level: int) -> int | None:
    """The EQF level of a national framework level (None when no crosswalk is known)."""
    return CROSSWALKS.get(framework, {}).get(level)


def national_levels(framework: str, eqf: int) -> tuple[int, ...]:
    """The national levels referenced to one EQF level (the crosswalk read backwards)."""
    return tuple(
        sorted(level for level, value in CROSSWALKS.get(framework, {}).items() if value == eqf)
    )


@dataclass(frozen=True)
class CreditScheme:
    """A credit unit and the learning hours one credit stands for (nominal, and its range)."""

    name: str
    title: str
    hours_per_credit: Decimal
    hours_range: tuple[Decimal, Decimal]


SCHEMES: Mapping[str, CreditScheme] = {
    scheme.name: scheme
    for scheme in (
        CreditScheme("hours", "Learning hours", Decimal(1), (Decimal(1), Decimal(1))),
        CreditScheme(
            "CN-NCB", "China national credit bank credit", Decimal(16), (Decimal(16), Decimal(18))
        ),
        CreditScheme("KR", "Korean credit (ACBS)", Decimal(15), (Decimal(15), Decimal(15))),
        # ECTS counts total workload, 25-30 hours; the nominal value is the lower bound. A rule
        # set that converts ECTS at a table rate (e.g. 2 ECTS = 1 local credit) states it in
        # credit_rates.
        CreditScheme(
            "ECTS",
            "European Credit Transfer and Accumulation System",
            Decimal(25),
            (Decimal(25), Decimal(30)),
        ),
    )
}


def credit_rate(source: str, target: str, rates: Mapping[str, Decimal]) -> Decimal | None:
    """Target credits per source credit: identity, the stated rate, else by hours per credit."""
    if source == target:
        return Decimal(1)
    if source in rates:
        return rates[source]
    if source in SCHEMES and target in SCHEMES:
        return SCHEMES[source].hours_per_credit / SCHEMES[target].hours_per_credit
    return None


def convert_credits(
    value: Decimal, source: str, target: str, *, rates: Mapping[str, Decimal], step: Decimal
) -> Decimal | None:
    """Credits in the target scheme, rounded down to `step` (None when not convertible)."""
    rate = credit_rate(source, target, rates)
    if rate is None:
        return None
    return (value * rate / step).to_integral_value(ROUND_FLOOR) * step


@dataclass(frozen=True)
class GradeScale:
    """A grade scale: ordinal (grades best first) or numeric (`low`..`high`), with a pass mark.

    `points` are grade points for the GPA, one per ordinal grade; a numeric scale with
    `numeric_points` uses the value itself.
    """

    name: str
    grades: tuple[str, ...] = ()
    points: tuple[Decimal, ...] = ()
    pass_grade: str | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    pass_mark: Decimal | None = None
    numeric_points: bool = False

    def value(self, grade: str) -> Decimal | None:
        """A comparable value for the grade (higher is better), or None if not on this scale."""
        if self.grades:
            return (
                Decimal(len(self.grades) - self.grades.index(grade))
                if grade in self.grades
                else None
            )
        try:
            number = Decimal(grade.strip())
        except (InvalidOperation, AttributeError):
            return None
        if (
            not number.is_finite()
            or (self.low is not None and number < self.low)
            or (self.high is not None and number > self.high)
        ):
            return None
        return number

    def at_least(self, grade: str, minimum: str | Decimal) -> bool | None:
        """Whether a grade reaches a minimum on this scale (None if either is not on it)."""
        value = self.value(grade)
        bound = minimum if isinstance(minimum, Decimal) else self.value(minimum)
        if value is None or bound is None:
            return None
        return value >= bound

    def passes(self, grade: str) -> bool | None:
        """Whether the grade is a pass (None when the scale has no pass mark or grade unknown)."""
        mark = self.pass_grade if self.grades else self.pass_mark
        return None if mark is None else self.at_least(grade, mark)

    def grade_points(self, grade: str) -> Decimal | None:
        """Grade points for the GPA, if the scale defines them."""
        if self.numeric_points:
            return self.value(grade)
        if grade in self.grades and self.points:
            return self.points[self.grades.index(grade)]
        return None


def _points(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


SCALES: Mapping[str, GradeScale] = {
    scale.name: scale
    for scale in (
        # Pass marks on percentages differ by country and provider: the issuer's status decides.
        GradeScale("percent", low=Decimal(0), high=Decimal(100)),
        GradeScale(
            "gpa", low=Decimal(0), high=Decimal("4.5"), pass_mark=Decimal(1), numeric_points=True
        ),
        GradeScale("points", low=Decimal(0)),
        GradeScale(
            "letter",
            grades=("A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"),
            points=_points(
                "4.3",
                "4.0",
                "3.7",
                "3.3",
                "3.0",
                "2.7",
                "2.3",
                "2.0",
                "1.7",
                "1.3",
                "1.0",
                "0.7",
                "0",
            ),
            pass_grade="D-",
        ),
        GradeScale(
            "letter-kr",
            grades=("A+", "A0", "B+", "B0", "C+", "C0", "D+", "D0", "F"),
            points=_points("4.5", "4.0", "3.5", "3.0", "2.5", "2.0", "1.5", "1.0", "0"),
            pass_grade="D0",
        ),
        GradeScale("ects", grades=("A", "B", "C", "D", "E", "FX", "F"), pass_grade="E"),
        GradeScale("pass-fail", grades=("Pass", "Fail"), pass_grade="Pass"),
    )
}


def convert_grade(
    grade: str, source: Sequence[GradeBand], target: Sequence[GradeBand]
) -> str | None:
    """Convert a grade by percentile band (ECTS grading tables).

    The grade's band in the source table spans a range of the passing population, best first;
    the result is the target grade whose band holds that range's midpoint (a midpoint on a
    boundary goes to the better grade). None when the grade is not in the source table.
    """
    low = Decimal(0)
    for band in source:
        if band.grade == grade:
            middle = low + band.percent / 2
            break
        low += band.percent
    else:
        return None
    upper = Decimal(0)
    for band in target:
        upper += band.percent
        if middle <= upper:
            return band.grade
    return target[-1].grade if target else None
