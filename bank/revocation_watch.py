"""Flag for review every decision in force that relied on a credential revoked since: the
chain's revocation events (copied by the ledger indexer) are matched against the batch root
and leaf digest of each credential a decision used."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, and_, or_, select, update

from bank.notices import notify, programme_title
from bank.tables import applications, decision_credentials, decisions
from bank.verdicts import refresh_from_chain
from infra.coordination import LEADER_RETRY, lead
from ledger.client import Ledger
from ledger.errors import LedgerUnavailable
from ledger.indexer import EMPTY_DIGEST, Indexer
from ledger.indexer import revocations as chain_revocations
from ledger.records import revocation_reason_label

logger = logging.getLogger(__name__)

WATCH_SECONDS = 30.0
WATCH_LEADER = "revocation-watch"


def flag_decisions_for_revoked(engine: Engine, *, now: float | None = None) -> list[str]:
    """Flag each decision in force, never flagged before, that used a revoked credential;
    returns the ids of the decisions flagged now."""
    query = (
        select(decisions.c.id, decision_credentials.c.credential_id,
               chain_revocations.c.reason, chain_revocations.c.block,
               applications.c.id.label("application_id"), applications.c.learner_id,
               applications.c.rule_set_id, applications.c.version)
        .join(decision_credentials, decision_credentials.c.decision_id == decisions.c.id)
        .join(applications, applications.c.id == decisions.c.application_id)
        .join(chain_revocations, and_(
            chain_revocations.c.root == decision_credentials.c.root,
            or_(chain_revocations.c.digest == decision_credentials.c.digest,
                chain_revocations.c.digest == EMPTY_DIGEST)))
        .where(decisions.c.in_force.is_(True), decisions.c.flagged_at.is_(None))
        .order_by(decisions.c.id, decision_credentials.c.credential_id)
    )
    moment = now or time.time()
    found: dict[str, list[str]] = {}
    owners = {}
    with engine.begin() as connection:
        for row in connection.execute(query):
            owners[row.id] = row
            found.setdefault(row.id, []).append(
                f"{row.credential_id} was revoked in block {row.block} "
                f"({revocation_reason_label(row.reason)})")
        for decision_id, notes in found.items():
            connection.execute(update(decisions).where(
                decisions.c.id == decision_id, decisions.c.flagged_at.is_(None)
            ).values(flagged=True, flagged_at=moment, flag_reason="; ".join(notes)))
            owner = owners[decision_id]
            notify(connection, recipient_kind="learner", recipient_id=owner.learner_id,
                   kind="decision_flagged", link=f"/me/applications/{owner.application_id}",
                   once_key=f"flagged:{decision_id}", now=moment,
                   params={"application": owner.application_id, "decision": decision_id,
                           "programme": programme_title(connection, owner.rule_set_id,
                                                        owner.version)})
    return list(found)


def watch_once(engine: Engine, ledger: Ledger) -> list[str]:
    """Index the ledger's new revocation events, bring the stored verdicts they touch up to
    date, then flag the decisions they touch."""
    indexer = Indexer(ledger, engine)
    indexer.sync()
    refresh_from_chain(engine)
    return flag_decisions_for_revoked(engine)


def watch(engine: Engine, ledger: Ledger, stop: threading.Event,
          every: float = WATCH_SECONDS, *, retry: float = LEADER_RETRY) -> None:
    """Watch for revocations until `stop` is set, in the one process elected to among all the
    hosts (the others take over within `retry` s of its end); ledger outages are waited out."""
    lead(engine, WATCH_LEADER, stop, lambda: _watch_pass(engine, ledger), every=every,
         retry=retry)


def _watch_pass(engine: Engine, ledger: Ledger) -> None:
    """One pass of the elected watch, logging what it flagged."""
    try:
        flagged = watch_once(engine, ledger)
    except LedgerUnavailable as error:
        logger.warning("revocation watch paused: %s", error.message)
    else:
        if flagged:
            logger.info("flagged %d decision(s) for review", len(flagged))
