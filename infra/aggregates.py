"""Maintained aggregates: the counts and sums the operator's statistics read, one row per
(series, key, month, part), changed in the same transaction as each write that changes them.

A `part` splits one figure over rows that different writers touch (the issuer for credentials
and anchored batches, the institution for applications and decisions, who opened an account for
learners), so concurrent writers on PostgreSQL rarely wait on one row. Readers sum the parts.
`month` is the UTC `YYYY-MM` of the event, or "" for a figure with no month.

`recompute` derives every row from the base tables (named, not imported: infra sits left of the
rooms that define them), for `rebuild` after a bulk load and for the migration that adds them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    String,
    Table,
    and_,
    column,
    delete,
    func,
    insert,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from infra.metadata import metadata

LEARNERS = "learners"
CREDENTIALS = "credentials"
ANCHORED = "anchored_batches"
APPLICATIONS = "applications"
DECISIONS = "decisions"
OPENED = "opened"
ACTIVATED = "activated"
COUNT = "count"
CREDITS = "credits"
NO_MONTH = ""
CHUNK = 5_000

Key = tuple[str, str, str, str]
"""(series, key, month, part)."""

aggregates = Table(
    "aggregates",
    metadata,
    Column("series", String(32), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("part", String(64), primary_key=True),
    Column("value", Float, nullable=False),
)
"""Series: `learners` (key `opened` or `activated`, by the month the account was opened, part
who opened it), `credentials` (key the unit's kind, by month of issuance, part the issuer),
`anchored_batches` (by month anchored, part the issuer), `applications` (key the status, no
month, part the receiving institution), `decisions` (key `count` or `credits` of decisions in
force, by month decided, part the institution)."""


class MonthOf(FunctionElement):
    """The UTC month (`YYYY-MM`) of a unix-seconds column."""

    type = String()
    inherit_cache = True


@compiles(MonthOf, "sqlite")
def _month_sqlite(element: MonthOf, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, 'unixepoch')"


@compiles(MonthOf, "postgresql")
def _month_postgresql(element: MonthOf, compiler: Any, **kw: Any) -> str:
    column_ = compiler.process(element.clauses, **kw)
    return f"to_char(to_timestamp({column_}) AT TIME ZONE 'UTC', 'YYYY-MM')"


def month_of(seconds: float) -> str:
    """The UTC month (`YYYY-MM`) of unix seconds, as `MonthOf` computes it in SQL."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m")


def add(connection: Connection, deltas: Mapping[Key, float]) -> None:
    """Add each delta to its row (created at zero) in one statement on the caller's transaction;
    rows are touched in key order, so two writers never wait on each other in a cycle."""
    rows = [{"series": key[0], "key": key[1], "month": key[2], "part": key[3], "value": value}
            for key, value in sorted(deltas.items()) if value]
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(aggregates)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[aggregates.c.series, aggregates.c.key, aggregates.c.month,
                        aggregates.c.part],
        set_={"value": aggregates.c.value + statement.excluded.value}), rows)


def read(connection: Connection) -> dict[tuple[str, str, str], float]:
    """Every figure summed over its parts: (series, key, month) -> value, zeros left out."""
    value = func.sum(aggregates.c.value)
    rows = connection.execute(
        select(aggregates.c.series, aggregates.c.key, aggregates.c.month, value)
        .group_by(aggregates.c.series, aggregates.c.key, aggregates.c.month))
    return {(series, key, month): float(total) for series, key, month, total in rows if total}


_learners = table("bank_learners", column("created_at"), column("opened_by"),
                  column("password_hash"))
_credentials = table("credentials", column("issuer_id"), column("unit_code"),
                     column("unit_version"), column("issued_at"))
_units = table("units", column("issuer_id"), column("code"), column("version"), column("kind"))
_batches = table("batches", column("issuer_id"), column("status"), column("anchored_at"))
_applications = table("bank_applications", column("id"), column("institution_id"),
                      column("status"))
_decisions = table("bank_decisions", column("application_id"), column("decided_at"),
                   column("credits"), column("in_force"))


def recompute(connection: Connection) -> dict[Key, float]:
    """Every aggregate row derived from the base tables (a grouped scan of each)."""
    found: dict[Key, float] = {}

    def collect(query: Any, series: str, keys: tuple[str, ...]) -> None:
        """Rows of (month, part, *values), one value per key."""
        for month, part, *values in connection.execute(query):
            for key, value in zip(keys, values, strict=True):
                found[(series, key, month, part)] = float(value or 0)

    month = MonthOf(_learners.c.created_at)
    collect(select(month, _learners.c.opened_by, func.count(),
                   func.count(_learners.c.password_hash))
            .group_by(month, _learners.c.opened_by), LEARNERS, (OPENED, ACTIVATED))
    month = MonthOf(_credentials.c.issued_at)
    kind = func.coalesce(_units.c.kind, "")
    for kind_, month_, issuer_id, count in connection.execute(
            select(kind, month, _credentials.c.issuer_id, func.count())
            .select_from(_credentials.outerjoin(_units, and_(
                _units.c.issuer_id == _credentials.c.issuer_id,
                _units.c.code == _credentials.c.unit_code,
                _units.c.version == _credentials.c.unit_version)))
            .group_by(kind, month, _credentials.c.issuer_id)):
        found[(CREDENTIALS, kind_, month_, issuer_id)] = float(count)
    month = MonthOf(_batches.c.anchored_at)
    collect(select(month, _batches.c.issuer_id, func.count())
            .where(_batches.c.status == "anchored")
            .group_by(month, _batches.c.issuer_id), ANCHORED, (COUNT,))
    for status, institution_id, count in connection.execute(
            select(_applications.c.status, _applications.c.institution_id, func.count())
            .group_by(_applications.c.status, _applications.c.institution_id)):
        found[(APPLICATIONS, status, NO_MONTH, institution_id)] = float(count)
    month = MonthOf(_decisions.c.decided_at)
    collect(select(month, _applications.c.institution_id, func.count(),
                   func.coalesce(func.sum(_decisions.c.credits), 0))
            .select_from(_decisions.join(
                _applications, _applications.c.id == _decisions.c.application_id))
            .where(_decisions.c.in_force.is_(True))
            .group_by(month, _applications.c.institution_id), DECISIONS, (COUNT, CREDITS))
    return {key: value for key, value in found.items() if value}


def rebuild(connection: Connection, *, progress: Callable[[int], None] | None = None) -> int:
    """Replace every aggregate row by `recompute`'s, on the caller's transaction; the row count.
    Run it while nothing else writes (after a bulk load, in a migration): a write committed
    between the recomputation and the commit would be counted twice or not at all."""
    rows = [{"series": key[0], "key": key[1], "month": key[2], "part": key[3], "value": value}
            for key, value in sorted(recompute(connection).items())]
    connection.execute(delete(aggregates))
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(aggregates), rows[start:start + CHUNK])
        if progress is not None:
            progress(min(CHUNK, len(rows) - start))
    return len(rows)
