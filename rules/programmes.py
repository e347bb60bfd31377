"""Qualification requirements: what a programme asks of a learner before it awards."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rules.fields import Reader
from rules.sources import Source, read_source

DEFAULT_STEP = Decimal("0.5")
BAND_TOLERANCE = Decimal(1)


@dataclass(frozen=True)
class ProgrammeUnit:
    """A unit of the programme's own curriculum."""

    code: str
    title: str
    credits: Decimal
    category: str


@dataclass(frozen=True)
class MandatoryCore:
    """Required units: all of them, or at least `min_credits` from among them."""

    id: str
    units: tuple[str, ...]
    min_credits: Decimal | None = None


@dataclass(frozen=True)
class SourceMinimum:
    """At least `min_credits` must come from outcomes matching `source`."""

    id: str
    source: Source
    min_credits: Decimal


@dataclass(frozen=True)
class GradeBand:
    """One grade of a grading table and the percentage of passing learners who receive it."""

    grade: str
    percent: Decimal


@dataclass(frozen=True)
class Programme:
    """A qualification requirement: totals, category minimums, mandatory core, sources, GPA.

    Credits are in `credit_scheme`; outcomes in other schemes convert at `credit_rates`
    (programme credits per source credit) or by the frameworks' hours per credit, rounded
    down to `credit_step`. Caps, recency and thresholds are rules of the rule set.
    """

    code: str
    title: str
    credit_scheme: str
    total_credits: Decimal
    categories: dict[str, Decimal]
    units: tuple[ProgrammeUnit, ...] = ()
    mandatory: tuple[MandatoryCore, ...] = ()
    source_minimums: tuple[SourceMinimum, ...] = ()
    min_gpa: Decimal | None = None
    grade_scale: str = "letter"
    grade_bands: tuple[GradeBand, ...] = ()
    credit_rates: dict[str, Decimal] = field(default_factory=dict)
    credit_step: Decimal = DEFAULT_STEP

    def unit(self, code: str) -> ProgrammeUnit | None:
        """The curriculum unit with this code, if any."""
        return next((unit for unit in self.units if unit.code == code), None)


def read_programme(reader: Reader) -> Programme:
    """Read and cross-check a programme object."""
    categories = reader.table("categories")
    units = tuple(_unit(item) for item in reader.children("units"))
    codes = [unit.code for unit in units]
    if len(set(codes)) != len(codes):
        reader.fail("units", "must not repeat a unit code")
    for index, unit in enumerate(units):
        if categories and unit.category not in categories:
            reader.fail(f"units[{index}].category", f"{unit.category!r} is not a category")
    mandatory = tuple(_mandatory(item, set(codes)) for item in reader.children("mandatory"))
    minimums = tuple(_source_minimum(item) for item in reader.children("source_minimums"))
    requirements: tuple[MandatoryCore | SourceMinimum, ...] = (*mandatory, *minimums)
    ids = [item.id for item in requirements]
    if len(set(ids)) != len(ids):
        reader.fail("mandatory", "requirement ids must be unique across mandatory and "
                                 "source_minimums")
    programme = Programme(
        code=reader.text("code") or "",
        title=reader.text("title") or "",
        credit_scheme=reader.text("credit_scheme") or "",
        total_credits=reader.number("total_credits", positive=True) or Decimal(0),
        categories=categories,
        units=units,
        mandatory=mandatory,
        source_minimums=minimums,
        min_gpa=reader.number("min_gpa", required=False),
        grade_scale=reader.text("grade_scale", required=False) or "letter",
        grade_bands=read_bands(reader, "grade_bands", required=False),
        credit_rates=reader.table("credit_rates", required=False),
        credit_step=reader.number("credit_step", required=False, positive=True) or DEFAULT_STEP,
    )
    if sum(categories.values(), Decimal(0)) > programme.total_credits:
        reader.fail("categories", "category minimums add up to more than total_credits")
    reader.done("code", "title", "credit_scheme", "total_credits", "categories", "units",
                "mandatory", "source_minimums", "min_gpa", "grade_scale", "grade_bands",
                "credit_rates", "credit_step")
    return programme


def read_bands(reader: Reader, name: str, *, required: bool) -> tuple[GradeBand, ...]:
    """Read a grading table: grades best first with the percentage receiving each."""
    bands = []
    for item in reader.children(name, required=required, minimum=2 if required else 0):
        bands.append(GradeBand(grade=item.text("grade") or "",
                               percent=item.number("percent", maximum=Decimal(100))
                               or Decimal(0)))
        item.done("grade", "percent")
    if bands and abs(sum((band.percent for band in bands), Decimal(0)) - 100) > BAND_TOLERANCE:
        reader.fail(name, "percentages must add up to 100")
    if len({band.grade for band in bands}) != len(bands):
        reader.fail(name, "must not repeat a grade")
    return tuple(bands)


def _unit(reader: Reader) -> ProgrammeUnit:
    unit = ProgrammeUnit(
        code=reader.text("code") or "",
        title=reader.text("title") or "",
        credits=reader.number("credits", positive=True) or Decimal(0),
        category=reader.text("category") or "",
    )
    reader.done("code", "title", "credits", "category")
    return unit


def _mandatory(reader: Reader, codes: set[str]) -> MandatoryCore:
    units = reader.texts("units", required=True, minimum=1)
    for code in units:
        if code not in codes:
            reader.fail("units", f"{code!r} is not a unit of the programme")
    core = MandatoryCore(id=reader.text("id") or "", units=units,
                         min_credits=reader.number("min_credits", required=False, positive=True))
    reader.done("id", "units", "min_credits")
    return core


def _source_minimum(reader: Reader) -> SourceMinimum:
    minimum = SourceMinimum(id=reader.text("id") or "", source=read_source(reader.child("source")),
                            min_credits=reader.number("min_credits", positive=True) or Decimal(0))
    reader.done("id", "source", "min_credits")
    return minimum
