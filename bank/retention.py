"""The retention job: purge what the catalogue's retention periods say has expired, in small
batches (each its own transaction, so a large purge never holds the database), idempotently, and
report what it purged by category, in one audit entry.

Expired sessions and tokens, verification results, presentation requests, withdrawn or long
expired share links, expired wallet offers never delivered and spent nonces, old replayable
issuer requests, notices, sign-in failure counters, access-log and audit-log lines, and the
accounts whose closure grace period has passed (erased by `bank.closure.erase`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, Table, and_, delete, func, or_, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from bank.closure import ERASE_ACTION, due, erase
from bank.tables import (
    access_log,
    learner_tokens,
    notices,
    presentation_requests,
    shared_links,
    sign_in_failures,
    verification_results,
    wallet_deliveries,
    wallet_nonces,
    wallet_offers,
)
from infra.audit import audit_log, record
from infra.classification import (
    ACCESS_LOG_DAYS,
    AUDIT_LOG_DAYS,
    IDEMPOTENCY_DAYS,
    NOTICE_DAYS,
    PRESENTATION_DAYS,
    SESSION_GRACE_DAYS,
    SHARE_LINK_DAYS,
    SIGN_IN_FAILURE_DAYS,
    VERIFICATION_RESULT_DAYS,
    WALLET_OFFER_DAYS,
)
from infra.metadata import metadata
from issuers.tables import idempotency

logger = logging.getLogger(__name__)

DAY = 86_400
BATCH = 500
ACTION = "retention.run"
ACTOR = "system:retention"
RUN_SECONDS = 3_600.0
CLOSED_ACCOUNTS = "closed_accounts"


@dataclass(frozen=True)
class Category:
    """One kind of expired data: its table and which of its rows have expired at a moment."""

    name: str
    table: str
    expired: Callable[[Table, float], ColumnElement[bool]]


def _days(days: int) -> float:
    return days * DAY


CATEGORIES = (
    Category("web_sessions", "web_sessions",
             lambda t, now: t.c.expires_at < now - _days(SESSION_GRACE_DAYS)),
    Category("learner_tokens", learner_tokens.name,
             lambda t, now: t.c.expires_at < now - _days(SESSION_GRACE_DAYS)),
    Category("verification_results", verification_results.name,
             lambda t, now: t.c.expires_at < now - _days(VERIFICATION_RESULT_DAYS)),
    Category("presentation_requests", presentation_requests.name,
             lambda t, now: t.c.expires_at < now - _days(PRESENTATION_DAYS)),
    Category("share_links", shared_links.name,
             lambda t, now: or_(t.c.revoked.is_(True),
                                t.c.expires_at < now - _days(SHARE_LINK_DAYS))),
    Category("wallet_offers", wallet_offers.name,
             lambda t, now: and_(t.c.expires_at < now - _days(WALLET_OFFER_DAYS),
                                 t.c.status != "delivered",
                                 t.c.id.not_in(select(wallet_deliveries.c.offer_id)))),
    Category("wallet_nonces", wallet_nonces.name, lambda t, now: t.c.expires_at < now),
    Category("idempotency", idempotency.name,
             lambda t, now: t.c.created_at < now - _days(IDEMPOTENCY_DAYS)),
    Category("notices", notices.name,
             lambda t, now: t.c.created_at < now - _days(NOTICE_DAYS)),
    Category("sign_in_failures", sign_in_failures.name,
             lambda t, now: and_(t.c.last_failure < now - _days(SIGN_IN_FAILURE_DAYS),
                                 t.c.wait_until < now)),
    Category("access_log", access_log.name,
             lambda t, now: t.c.at < now - _days(ACCESS_LOG_DAYS)),
    Category("audit_log", audit_log.name,
             lambda t, now: t.c.at < now - _days(AUDIT_LOG_DAYS)),
)
"""What expires, in order; web sessions are the portal's table, purged when it is loaded."""


def run(engine: Engine, *, now: float | None = None, dry_run: bool = False) -> dict[str, int]:
    """Purge everything expired at `now` (default: the clock) and erase the closed accounts whose
    grace period has passed; counts by category. A dry run counts what would go and changes
    nothing; a real run records one audit entry with the counts."""
    moment = time.time() if now is None else now
    counts: dict[str, int] = {CLOSED_ACCOUNTS: _erase_closed(engine, moment, dry_run)}
    for category in CATEGORIES:
        table = metadata.tables.get(category.table)
        if table is not None:
            counts[category.name] = _purge(engine, table, category.expired(table, moment),
                                           dry_run)
    if not dry_run:
        record(engine, actor=ACTOR, action=ACTION, subject="retention", details=counts)
    return counts


def work(engine: Engine, stop: threading.Event, every: float = RUN_SECONDS) -> None:
    """Run the job at once, then every `every` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            counts = run(engine)
        except SQLAlchemyError as error:
            logger.warning("retention paused: %s", type(error).__name__)
        else:
            logger.info("retention: %s", counts)
        stop.wait(every)


def _erase_closed(engine: Engine, now: float, dry_run: bool) -> int:
    """Erase each closed account past its grace period, one transaction each."""
    if dry_run:
        with engine.connect() as connection:
            return len(due(connection, now=now, limit=2**31 - 1))
    erased = 0
    while True:
        with engine.begin() as connection:
            learner_ids = due(connection, now=now, limit=1)
            if not learner_ids:
                return erased
            counts = erase(connection, learner_ids[0])
            record(connection, actor=ACTOR, action=ERASE_ACTION, subject="account",
                   details=counts)
        erased += 1


def _purge(engine: Engine, table: Table, expired: ColumnElement[bool], dry_run: bool) -> int:
    """Delete the expired rows of a table, `BATCH` at a time; how many (would) go."""
    if dry_run:
        with engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(table).where(expired)).scalar_one())
    keys = list(table.primary_key.columns)
    purged = 0
    while True:
        with engine.begin() as connection:
            found = connection.execute(select(*keys).where(expired).limit(BATCH)).all()
            if not found:
                return purged
            if len(keys) == 1:
                condition = keys[0].in_([row[0] for row in found])
            else:
                condition = tuple_(*keys).in_([tuple(row) for row in found])
            purged += connection.execute(delete(table).where(condition)).rowcount
        if len(found) < BATCH:
            return purged
