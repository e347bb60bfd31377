"""The city centre's statistics: learners, credentials and conversions, by kind and by month.

Every figure is one SQL aggregate. The one expression SQL dialects spell differently, the UTC
month of a unix time, is compiled per dialect (SQLite and PostgreSQL) below. Credits are summed
from the decisions' `credits` column (their documents are sealed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from bank.applications import STATUSES
from bank.tables import applications, decisions, learners
from credentials.model import KINDS
from issuers.tables import batches, credentials, issuers, units

MONTHS = 12
Series = list[tuple[str, float]]


class MonthOf(FunctionElement):
    """The UTC month (`YYYY-MM`) of a unix-seconds column."""

    type = String()
    inherit_cache = True


@compiles(MonthOf, "sqlite")
def _month_sqlite(element: MonthOf, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, 'unixepoch')"


@compiles(MonthOf, "postgresql")
def _month_postgresql(element: MonthOf, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@dataclass(frozen=True)
class Statistics:
    """The figures of the statistics page; monthly series cover the last `MONTHS` months."""

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


def statistics(engine: Engine, *, now: datetime | None = None) -> Statistics:
    """The figures, as of `now` (default: the current time)."""
    months = last_months(now or datetime.now(UTC), MONTHS)
    kind_of = (units.c.issuer_id == credentials.c.issuer_id) & (
        units.c.code == credentials.c.unit_code) & (units.c.version == credentials.c.unit_version)
    decided = decisions.c.in_force.is_(True)
    credits = func.coalesce(func.sum(decisions.c.credits), 0)
    with engine.connect() as connection:
        def scalar(query: Any) -> Any:
            return connection.execute(query).scalar_one()

        def grouped(query: Any) -> dict[str, float]:
            return {str(key): float(value) for key, value in connection.execute(query)}

        def monthly(column: ColumnElement, value: Any, *where: Any) -> Series:
            month = MonthOf(column)
            counts = grouped(select(month, value).where(*where, column >= _start(months))
                             .group_by(month))
            return [(label, counts.get(label, 0.0)) for label in months]

        figures = {
            "learners": scalar(select(func.count()).select_from(learners)),
            "activated": scalar(select(func.count()).where(learners.c.password_hash.is_not(None))),
            "learners_by_month": monthly(learners.c.created_at, func.count()),
            "issuers": scalar(select(func.count()).select_from(issuers)),
            "suspended": scalar(select(func.count()).where(issuers.c.suspended.is_(True))),
            "credentials": scalar(select(func.count()).select_from(credentials)),
            "anchored_batches": scalar(select(func.count()).where(batches.c.status == "anchored")),
            "credentials_by_kind": _in_order(KINDS, grouped(
                select(units.c.kind, func.count()).select_from(credentials.join(units, kind_of))
                .group_by(units.c.kind))),
            "credentials_by_month": monthly(credentials.c.issued_at, func.count()),
            "applications_by_status": _in_order(STATUSES, grouped(
                select(applications.c.status, func.count()).group_by(applications.c.status))),
            "decisions_by_month": monthly(decisions.c.decided_at, func.count(), decided),
            "credits_by_month": monthly(decisions.c.decided_at, credits, decided),
            "credits_granted": float(scalar(select(credits).where(decided))),
        }
    return Statistics(months=months, **figures)


def last_months(now: datetime, count: int) -> list[str]:
    """The `count` months up to and including `now`'s, oldest first, as `YYYY-MM`."""
    index = now.year * 12 + now.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def _start(months: list[str]) -> float:
    year, month = (int(part) for part in months[0].split("-"))
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def _in_order(names: tuple[str, ...], counts: dict[str, float]) -> Series:
    """Counts in a fixed order of names, dropping the names with none."""
    return [(name, counts[name]) for name in names if counts.get(name)]

