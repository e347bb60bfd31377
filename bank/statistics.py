"""The city centre's statistics: learners, credentials and conversions, by kind, by month and by
year over the bank's whole life.

Every figure comes from the maintained aggregates (`infra.aggregates`, kept by the writes
themselves), read in one grouped query whose size follows the months and institutions, not the
rows of the bank; issuers are few and counted directly. Credits are the decisions' `credits`
column, summed as decisions are made (their documents are sealed). An erased account's decisions
stay counted (`bank.aggregates`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from bank.applications import STATUSES
from credentials.model import KINDS
from infra.aggregates import (
    ACTIVATED,
    ANCHORED,
    APPLICATIONS,
    COUNT,
    CREDENTIALS,
    CREDITS,
    DECISIONS,
    LEARNERS,
    OPENED,
    read,
)
from issuers.tables import issuers

MONTHS = 12
Series = list[tuple[str, float]]


@dataclass(frozen=True)
class Statistics:
    """The figures of the statistics page; monthly series cover the last `MONTHS` months, yearly
    ones every year from the bank's first figure to now."""

    months: list[str]
    learners: int
    activated: int
    learners_by_month: Series
    issuers: int
    suspended: int
    credentials: int
    anchored_batches: int
    credentials_by_kind: Series
    credentials_by_month: Series
    applications_by_status: Series
    decisions_by_month: Series
    credits_by_month: Series
    credits_granted: float
    years: list[str]
    learners_by_year: Series
    credentials_by_year: Series
    decisions_by_year: Series
    credits_by_year: Series


def statistics(engine: Engine, *, now: datetime | None = None) -> Statistics:
    """The figures, as of `now` (default: the current time)."""
    moment = now or datetime.now(UTC)
    months = last_months(moment, MONTHS)
    with engine.connect() as connection:
        figures = read(connection)
        issuer_count, suspended = connection.execute(select(
            func.count(), func.count().filter(issuers.c.suspended.is_(True)))).one()
    by_month: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for (series, key, month), value in figures.items():
        by_month[(series, key)][month] = value
        totals[(series, key)] += value
    credentials_by_month: dict[str, float] = defaultdict(float)
    by_kind: dict[str, float] = defaultdict(float)
    for (series, key), counts in by_month.items():
        if series == CREDENTIALS:
            by_kind[key] += totals[(series, key)]
            for month, value in counts.items():
                credentials_by_month[month] += value
    series_of = {
        "learners": by_month[(LEARNERS, OPENED)],
        "credentials": credentials_by_month,
        "decisions": by_month[(DECISIONS, COUNT)],
        "credits": by_month[(DECISIONS, CREDITS)],
    }
    years = life_years(moment, [month for counts in series_of.values() for month in counts])
    monthly = {name: [(month, counts.get(month, 0.0)) for month in months]
               for name, counts in series_of.items()}
    yearly = {name: _by_year(counts, years) for name, counts in series_of.items()}
    return Statistics(
        months=months,
        learners=int(totals[(LEARNERS, OPENED)]),
        activated=int(totals[(LEARNERS, ACTIVATED)]),
        learners_by_month=monthly["learners"],
        issuers=issuer_count,
        suspended=suspended,
        credentials=int(sum(by_kind.values())),
        anchored_batches=int(totals[(ANCHORED, COUNT)]),
        credentials_by_kind=_in_order(KINDS, by_kind),
        credentials_by_month=monthly["credentials"],
        applications_by_status=_in_order(STATUSES, {
            key: value for (series, key), value in totals.items() if series == APPLICATIONS}),
        decisions_by_month=monthly["decisions"],
        credits_by_month=monthly["credits"],
        credits_granted=totals[(DECISIONS, CREDITS)],
        years=years,
        learners_by_year=yearly["learners"],
        credentials_by_year=yearly["credentials"],
        decisions_by_year=yearly["decisions"],
        credits_by_year=yearly["credits"],
    )


def last_months(now: datetime, count: int) -> list[str]:
    """The `count` months up to and including `now`'s, oldest first, as `YYYY-MM`."""
    index = now.year * 12 + now.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def life_years(now: datetime, months: list[str]) -> list[str]:
    """Every year from the earliest of `months` (`YYYY-MM`) to `now`'s, oldest first."""
    first = min((int(month[:4]) for month in months if month), default=now.year)
    return [str(year) for year in range(min(first, now.year), now.year + 1)]


def _by_year(counts: dict[str, float], years: list[str]) -> Series:
    """Monthly counts summed by year, for each of `years`."""
    summed: dict[str, float] = defaultdict(float)
    for month, value in counts.items():
        summed[month[:4]] += value
    return [(year, summed.get(year, 0.0)) for year in years]


def _in_order(names: tuple[str, ...], counts: dict[str, float]) -> Series:
    """Counts in a fixed order of names, dropping the names with none."""
    return [(name, counts[name]) for name in names if counts.get(name)]
