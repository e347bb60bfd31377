"""The off-chain audit trail of privileged actions: who did what, to what, when, and from where.

Each action records one row in the same database transaction as the action itself, so an
action that fails (and rolls back) leaves no row. Actors are `role:id`: `operator:<name>`,
`institution:<issuer id>`, `cli:<os user>`, `system:<what>`.
"""

from __future__ import annotations

import getpass
import json
import time
from contextvars import ContextVar
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
)

from infra.metadata import metadata
from infra.paging import keyset_page
from infra.times import iso_utc

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("details", Text, nullable=False),
    Column("client", String(64)),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
    Index("ix_audit_log_actor_at", "actor", "at", "id"),
    Index("ix_audit_log_subject_at", "subject", "at", "id"),
)

client_address: ContextVar[str | None] = ContextVar("client_address", default=None)
"""The address of the client whose request is being served (the portal sets it per request)."""


def cli_actor() -> str:
    """The actor of a command run from a shell: `cli:<os user>`."""
    return f"cli:{getpass.getuser()}"


def record(
    target: Engine | Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict | None = None,
) -> None:
    """Record one privileged action; pass the action's own Connection to share its transaction."""
    row = {
        "at": time.time(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
        "client": client_address.get(),
    }
    if isinstance(target, Connection):
        target.execute(insert(audit_log).values(**row))
        return
    with target.begin() as connection:
        connection.execute(insert(audit_log).values(**row))


def entries(
    engine: Engine,
    *,
    since: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict]:
    """Recorded actions, newest first; `action` ending in '.' matches every action under it."""
    return entry_page(engine, since=since, action=action, actor=actor, subject=subject,
                      limit=limit)[0]


def entry_page(
    engine: Engine,
    *,
    since: datetime | None = None,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    after: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[dict], str | None]:
    """A page of recorded actions, newest first, after the cursor `after`, and the next page's
    cursor (None on the last); `action` ending in '.' matches every action under it. Indexes on
    (at), (action, at), (actor, at) and (subject, at) serve each filter in this order."""
    query = select(audit_log)
    if since is not None:
        query = query.where(audit_log.c.at >= since.timestamp())
    if action is not None:
        if action.endswith("."):
            query = query.where(audit_log.c.action.startswith(action, autoescape=True))
        else:
            query = query.where(audit_log.c.action == action)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    with engine.connect() as connection:
        page = keyset_page(connection, query, (audit_log.c.at, audit_log.c.id), after=after,
                           limit=max(1, min(limit, MAX_LIMIT)), descending=True)
    return [entry_json(dict(row)) for row in page.rows], page.after


def entry_json(row: dict) -> dict:
    """One recorded action as the API and the CLI show it."""
    return {
        "id": row["id"],
        "at": iso_utc(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "details": json.loads(row["details"]),
        "client": row["client"],
    }
