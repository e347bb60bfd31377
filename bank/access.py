"""Access by purpose: staff, the centre's operators and guardians see a learner's personal data
only through a task that needs it, and every such read is logged for the learner to see.

A learner's personal data, for this module, is anything that identifies the learner or is about
one identifiable learner: their DID, name, national id (or its hash), birth date and account;
their credentials and the verifier's reports on them; the audit of their record (outcomes,
grades, credits counted and refused, credentials set aside), reviews, decisions and appeals of
their applications; a deposit's credential, report and evidence; the planned units and agreed
lines of a learning-agreement request and its signed agreement (which names their DID).
Not personal: an application's, deposit's or agreement's random id, its programme or rule set,
its status, the verifier's verdict code and dates. Queues staff browse (`application_queue`,
`deposit_queue`, `agreement_queue`) carry only those, and log nothing.

"Assigned" means, with no assignment table: an institution's reviewers are assigned to every
application and learning-agreement request addressed to their institution (first review, its
outcome, amendment, the appeal and a flag); the centre's operators to an application waiting for
the second review, under appeal or whose decision in force is flagged, to a deposit waiting for
review, and to an in-person identity check (whose answer shows the learner's DID). A guardian
reads through `bank.minors` (purpose "guardian"), a correction's reviewer through
`bank.corrections` (purpose "correction"); both call `log_read`. An institution looking up a
credential it issued (to revoke it) reads its own issuance record, which names the learner's DID:
that is logged too (purpose "issuer-record"), when the learner has an account.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, insert, select

from bank.agreements import REQUESTED, agreement_json, agreement_row
from bank.applications import application_json, application_row, filtered
from bank.closure import refuse_closing
from bank.deposits import REVIEW, deposit_json, deposit_row
from bank.minors import minor_account, today
from bank.tables import (
    APPEALED,
    FIRST_REVIEWED,
    SUBMITTED,
    access_log,
    agreements,
    applications,
    decisions,
    deposits,
    learners,
)
from infra.errors import Forbidden
from infra.paging import keyset_page
from infra.times import iso_utc
from issuers.tables import issuers, rule_sets

CENTRE = "centre"
GUARDIAN = "guardian"
ORGANISATION_NAMES = {CENTRE: {"en": "the city learning centre", "zh": "城市学习中心"},
                      GUARDIAN: {"en": "your guardian", "zh": "你的监护人"}}
MAX_LIMIT = 100
QUEUE_PAGE = 50


@dataclass(frozen=True)
class Reader:
    """Who reads: the person or token ("institution:alice", "operator:bob", "guardian:<did>")
    and the organisation they read for (an issuer id, "centre" or "guardian")."""

    actor: str
    organisation: str


def staff_reader(role: str, subject: str, person: str) -> Reader:
    """The reader a staff session or API token stands for: an institution's person (`subject`
    its issuer id) or one of the centre's operators."""
    if role == "operator":
        return Reader(f"operator:{person}", CENTRE)
    return Reader(f"institution:{person}", subject)


def log_read(connection: Connection, reader: Reader, *, learner_id: str, what: str,
             object_id: str, purpose: str) -> None:
    """Log one read of a learner's personal data, in the caller's transaction; `NotFound` when
    the learner closed their account (nobody opens its record then)."""
    refuse_closing(connection, learner_id)
    connection.execute(insert(access_log).values(
        at=time.time(), learner_id=learner_id, actor=reader.actor,
        organisation=reader.organisation, what=what, object_id=object_id, purpose=purpose))


def reads_of(engine: Engine, learner_id: str, *, before: int | None = None,
             limit: int = 50) -> tuple[list[dict], int | None]:
    """Reads of the learner's data, newest first, older than the entry `before`; and the cursor
    of the next (older) page, None on the last."""
    query = (select(access_log, issuers.c.name, issuers.c.name_zh)
             .outerjoin(issuers, issuers.c.id == access_log.c.organisation)
             .where(access_log.c.learner_id == learner_id)
             .order_by(access_log.c.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(access_log.c.id < before)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    reads = [_read_json(dict(row)) for row in rows[:limit]]
    return reads, (reads[-1]["id"] if len(rows) > limit else None)


def read_application(engine: Engine, reader: Reader, application_id: str) -> dict:
    """The application for a reader assigned to it, logged with the task; `Forbidden` for one who
    is not (nothing is logged), `NotFound` for none."""
    row = application_row(engine, application_id)
    purpose = application_task(engine, reader, row)
    shown = application_json(engine, row)
    record_read(engine, reader, learner_id=row["learner_id"], what="application",
                object_id=application_id, purpose=purpose)
    return shown


def application_task(engine: Engine, reader: Reader, row: dict) -> str:
    """The task for which the reader may read the application; `Forbidden` when there is none."""
    flagged = _flagged(engine, row["id"])
    if reader.organisation == CENTRE:
        if row["status"] == APPEALED:
            return "appeal"
        if flagged:
            return "flag-review"
        if row["status"] == FIRST_REVIEWED:
            return "second-review"
        raise Forbidden("the centre reads an application only at its second review, an appeal "
                        "or a flag review")
    if reader.organisation != row["institution_id"]:
        raise Forbidden("the application is addressed to another institution")
    if row["status"] == APPEALED:
        return "appeal"
    if flagged:
        return "flag-review"
    if row["status"] != SUBMITTED and minor_account(engine, today(), learner_id=row["learner_id"]):
        raise Forbidden("the learner is under 18: the institution reads their application only "
                        "while reviewing it")
    return "first-review"


def answered_application(engine: Engine, reader: Reader, application: dict,
                         purpose: str) -> dict:
    """Log the application a review's answer shows to the reviewer who did it; the answer."""
    row = application_row(engine, application["id"])
    record_read(engine, reader, learner_id=row["learner_id"], what="application",
                object_id=row["id"], purpose=purpose)
    return application


def read_deposit(engine: Engine, reader: Reader, deposit_id: str) -> dict:
    """A deposit waiting for review, for the centre to check (logged); `Forbidden` otherwise."""
    row = deposit_row(engine, deposit_id)
    if reader.organisation != CENTRE or row["status"] != REVIEW:
        raise Forbidden("only the centre reads a deposit, while it waits for review")
    record_read(engine, reader, learner_id=row["learner_id"], what="deposit",
                object_id=deposit_id, purpose="deposit-check")
    return deposit_json(row)


def answered_deposit(engine: Engine, reader: Reader, deposit: dict) -> dict:
    """Log the deposit a review's answer shows to the operator who reviewed it; the answer."""
    row = deposit_row(engine, deposit["id"])
    record_read(engine, reader, learner_id=row["learner_id"], what="deposit",
                object_id=row["id"], purpose="deposit-check")
    return deposit


def read_agreement(engine: Engine, reader: Reader, agreement_id: str) -> dict:
    """A learning-agreement request for its institution's reviewer (logged); `Forbidden` for
    another."""
    row = agreement_row(engine, agreement_id)
    if reader.organisation != row["institution_id"]:
        raise Forbidden("the request is addressed to another institution")
    shown = agreement_json(engine, row)
    record_read(engine, reader, learner_id=row["learner_id"], what="agreement",
                object_id=agreement_id, purpose="agreement-review")
    return shown


def waiting_agreements(engine: Engine, reader: Reader, *, after: str | None = None,
                       limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of the requests waiting for the reader's institution, oldest first, after the
    cursor `after`, each shown with its planned units and logged (one entry per request shown);
    and the next page's cursor. The index on (institution, status, requested, id) serves it."""
    query = select(agreements).where(agreements.c.institution_id == reader.organisation,
                                     agreements.c.status == REQUESTED)
    with engine.begin() as connection:
        page = keyset_page(connection, query, (agreements.c.requested_at, agreements.c.id),
                           after=after, limit=limit)
        rows = [dict(row) for row in page.rows]
        for row in rows:
            log_read(connection, reader, learner_id=row["learner_id"], what="agreement",
                     object_id=row["id"], purpose="agreement-review")
    return [agreement_json(engine, row) for row in rows], page.after


def checked_identity(engine: Engine, reader: Reader, did: str) -> None:
    """Log an in-person identity check, whose answer shows the learner's DID."""
    with engine.begin() as connection:
        learner_id = connection.execute(select(learners.c.id).where(
            learners.c.did == did)).scalar_one()
        log_read(connection, reader, learner_id=learner_id, what="account",
                 object_id=learner_id, purpose="identity-check")


def looked_up_credential(engine: Engine, reader: Reader, credential_id: str,
                         learner_did: str | None) -> None:
    """Log an institution's look-up of a credential it issued (it shows the learner's DID and
    results), when the learner has an account to see it in."""
    if learner_did is None:
        return
    with engine.begin() as connection:
        learner_id = connection.execute(select(learners.c.id).where(
            learners.c.did == learner_did)).scalar_one_or_none()
        if learner_id is not None:
            log_read(connection, reader, learner_id=learner_id, what="credential",
                     object_id=credential_id, purpose="issuer-record")


def record_read(engine: Engine, reader: Reader, *, learner_id: str, what: str, object_id: str,
                purpose: str) -> None:
    """Log one read in a transaction of its own."""
    with engine.begin() as connection:
        log_read(connection, reader, learner_id=learner_id, what=what, object_id=object_id,
                 purpose=purpose)


def application_queue(engine: Engine, *, institution_id: str | None = None,
                      learner_id: str | None = None, status: str | None = None,
                      statuses: Sequence[str] = (),
                      flagged: bool | None = None, after: str | None = None,
                      limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of applications, oldest first, as staff queues list them (id, programme, status,
    dates), after the cursor `after`; and the next page's cursor (None on the last). Indexes on
    (institution, status, submitted, id) and its prefixes serve each filter in this order."""
    query = (select(applications.c.id, applications.c.status, applications.c.rule_set_id,
                    applications.c.version, applications.c.institution_id,
                    applications.c.agreement_id, applications.c.submitted_at,
                    applications.c.updated_at, rule_sets.c.document)
             .join(rule_sets, and_(rule_sets.c.rule_set_id == applications.c.rule_set_id,
                                   rule_sets.c.version == applications.c.version)))
    query = filtered(query, learner_id=learner_id, institution_id=institution_id,
                     status=status, flagged=flagged).order_by(None)
    if statuses:
        query = query.where(applications.c.status.in_(statuses))
    with engine.connect() as connection:
        page = keyset_page(connection, query, (applications.c.submitted_at, applications.c.id),
                           after=after, limit=limit)
    return [{"id": row["id"], "status": row["status"],
             "rule_set": {"id": row["rule_set_id"], "version": row["version"],
                          "institution": row["institution_id"]},
             "programme": json.loads(row["document"])["programme"]["title"],
             "agreement_id": row["agreement_id"], "submitted_at": iso_utc(row["submitted_at"]),
             "updated_at": iso_utc(row["updated_at"])} for row in page.rows], page.after


def deposit_queue(engine: Engine, *, status: str = REVIEW, after: str | None = None,
                  limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of deposits in a status, oldest first, as the centre's queue lists them (id, the
    verifier's verdict and reason, status and dates), after the cursor `after`; and the next
    page's cursor. The index on (status, deposited, id) serves it."""
    query = (select(deposits.c.id, deposits.c.status, deposits.c.verdict, deposits.c.reason,
                    deposits.c.deposited_at, deposits.c.reviewed_at)
             .where(deposits.c.status == status))
    with engine.connect() as connection:
        page = keyset_page(connection, query, (deposits.c.deposited_at, deposits.c.id),
                           after=after, limit=limit)
    return [{"id": row["id"], "status": row["status"], "verdict": row["verdict"],
             "reason": row["reason"], "deposited_at": iso_utc(row["deposited_at"]),
             "reviewed_at": iso_utc(row["reviewed_at"])} for row in page.rows], page.after


def agreement_queue(engine: Engine, institution_id: str, *, status: str | None = None,
                    decided: bool = False, after: str | None = None,
                    limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of an institution's learning-agreement requests, newest first (`decided`: only
    those decided or withdrawn, latest decision first), as its console lists them: id,
    programme, status and dates; and the next page's cursor. Indexes on (institution, [status,]
    requested, id) and (institution, decided, id) serve it."""
    query = (select(agreements.c.id, agreements.c.status, agreements.c.rule_set_id,
                    agreements.c.version, agreements.c.institution_id, agreements.c.complete_by,
                    agreements.c.requested_at, agreements.c.decided_at)
             .where(agreements.c.institution_id == institution_id))
    if status is not None:
        query = query.where(agreements.c.status == status)
    if decided:
        query = query.where(agreements.c.decided_at.is_not(None))
    keys = (agreements.c.decided_at if decided else agreements.c.requested_at, agreements.c.id)
    with engine.connect() as connection:
        page = keyset_page(connection, query, keys, after=after, limit=limit, descending=True)
    return [{"id": row["id"], "status": row["status"],
             "rule_set": {"id": row["rule_set_id"], "version": row["version"],
                          "institution": row["institution_id"]},
             "complete_by": row["complete_by"], "requested_at": iso_utc(row["requested_at"]),
             "decided_at": iso_utc(row["decided_at"])} for row in page.rows], page.after


def _flagged(engine: Engine, application_id: str) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(decisions.c.id).where(
            decisions.c.application_id == application_id, decisions.c.in_force.is_(True),
            decisions.c.flagged.is_(True))).first() is not None


def _read_json(row: dict) -> dict:
    names = ORGANISATION_NAMES.get(row["organisation"]) or {
        "en": row["name"] or row["organisation"],
        "zh": row["name_zh"] or row["name"] or row["organisation"]}
    return {"id": row["id"], "at": iso_utc(row["at"]), "actor": row["actor"],
            "organisation": row["organisation"], "organisation_name": dict(names),
            "what": row["what"], "object_id": row["object_id"], "purpose": row["purpose"]}
