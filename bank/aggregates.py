"""The bank's side of the maintained aggregates (`infra.aggregates`): what each write adds, in
the writer's transaction, and `rebuild_aggregates` after a bulk load.

Erasing an account takes it out of the learner counts and its applications out of the counts by
status (they describe who and what the bank holds now), but its decisions stay counted by month
with their credits: a decision made is a fact of that month, though its document is gone. So after
an erasure the decision series exceed a recomputation from the base tables by what was erased.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import Connection, Engine, func, select

from bank.tables import applications, decisions, learners
from infra.aggregates import (
    ACTIVATED,
    APPLICATIONS,
    COUNT,
    CREDITS,
    DECISIONS,
    LEARNERS,
    NO_MONTH,
    OPENED,
    add,
    month_of,
    rebuild,
)


def rebuild_aggregates(engine: Engine, *, progress: Callable[[int], None] | None = None) -> None:
    """Recompute every maintained aggregate from the base tables (after a bulk load); `progress`
    is called with the number of aggregate rows written as they are."""
    with engine.begin() as connection:
        rebuild(connection, progress=progress)


def count_learners(connection: Connection, rows: Iterable[Mapping], *, opened: int = 0,
                   activated: int = 0) -> None:
    """Count accounts opened (1) or gone (-1), and ones activated or no longer (their password
    set or withdrawn): `rows` are their rows (created_at, opened_by), counted in one upsert."""
    deltas: Counter[tuple[str, str, str, str]] = Counter()
    for row in rows:
        month = month_of(row["created_at"])
        deltas[(LEARNERS, OPENED, month, row["opened_by"])] += opened
        deltas[(LEARNERS, ACTIVATED, month, row["opened_by"])] += activated
    add(connection, deltas)


def count_activation(connection: Connection, learner_id: str, change: int) -> None:
    """Count the account's password set (1) or withdrawn (-1); the caller changed it."""
    row = connection.execute(select(learners.c.created_at, learners.c.opened_by).where(
        learners.c.id == learner_id)).mappings().one()
    count_learners(connection, [row], activated=change)


def count_statuses(connection: Connection, institution_id: str,
                   changes: Mapping[str, int]) -> None:
    """Count applications to an institution by status: +n entering a status, -n leaving one."""
    add(connection, {(APPLICATIONS, status, NO_MONTH, institution_id): change
                     for status, change in changes.items()})


def count_moves(connection: Connection, moved: Counter[tuple[str, str]], status: str) -> None:
    """Count applications moved to `status`: `moved` holds (institution, former status) counts."""
    deltas: Counter[tuple[str, str, str, str]] = Counter()
    for (institution_id, former), count in moved.items():
        deltas[(APPLICATIONS, former, NO_MONTH, institution_id)] -= count
        deltas[(APPLICATIONS, status, NO_MONTH, institution_id)] += count
    add(connection, deltas)


def count_decision(connection: Connection, institution_id: str, decision: Mapping, *,
                   change: int = 1) -> None:
    """Count a decision put in force (1) or out of force (-1), with its credits, in the month it
    was decided."""
    month = month_of(decision["decided_at"])
    add(connection, {(DECISIONS, COUNT, month, institution_id): change,
                     (DECISIONS, CREDITS, month, institution_id):
                         change * float(decision["credits"] or 0)})


def forget_learner(connection: Connection, learner: Mapping) -> None:
    """Before an account is erased: it leaves the learner counts, and its applications the counts
    by status; its decisions stay counted (see the module's note)."""
    count_learners(connection, [learner], opened=-1,
                   activated=-1 if learner["password_hash"] is not None else 0)
    held = connection.execute(
        select(applications.c.institution_id, applications.c.status, func.count())
        .where(applications.c.learner_id == learner["id"])
        .group_by(applications.c.institution_id, applications.c.status))
    deltas: Counter[tuple[str, str, str, str]] = Counter()
    for institution_id, status, count in held:
        deltas[(APPLICATIONS, status, NO_MONTH, institution_id)] -= count
    add(connection, deltas)


def in_force(connection: Connection, application_id: str) -> Mapping | None:
    """The decision in force of an application (its decided_at and credits), or None."""
    return connection.execute(select(decisions.c.decided_at, decisions.c.credits).where(
        decisions.c.application_id == application_id, decisions.c.in_force.is_(True))
    ).mappings().first()
