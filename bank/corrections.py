"""Corrections (更正): a learner asks whoever owns data about them to correct it, and is told the
answer.

A request is about one object the learner owns (`CORRECTION_ABOUT`): a credential goes to its
issuer, a decision to the institution whose programme it decided, a deposit or the account to
the city centre (`routed_to` "centre"). The owner answers "corrected" (saying what was done) or
"refused" (with the reasons); the learner gets a notice. Queues show no learner identity; opening
a request (its text and the object it is about) is a read of the learner's personal data, logged
with purpose "correction". Request and answer texts are sealed at rest.
"""

from __future__ import annotations

import re
import time
import uuid

from sqlalchemy import Connection, Engine, RowMapping, select, update

from bank.access import CENTRE, Reader, log_read
from bank.identity import disclosure
from bank.notices import notify, programme_title
from bank.tables import (
    CORRECTION_ABOUT,
    applications,
    corrections,
    decisions,
    deposits,
    learners,
)
from infra.audit import record
from infra.errors import Conflict, FieldErrors, InvalidInput, NotFound
from infra.paging import keyset_page
from infra.times import iso_utc
from issuers.tables import credentials, issuers, units

OPEN, CORRECTED, REFUSED = "open", "corrected", "refused"
ANSWERS = (CORRECTED, REFUSED)
MAX_TEXT = 2_000
QUEUE_PAGE = 50
QUEUED = (corrections.c.id, corrections.c.about, corrections.c.status, corrections.c.requested_at,
          corrections.c.answered_at)
PURPOSE = "correction"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def request_correction(engine: Engine, learner: dict, *, about: object, object_id: object,
                       text: object, now: float | None = None) -> dict:
    """File the learner's request to correct one of their objects; routed to its owner, who is
    told when it is an institution. `InvalidInput` names each bad field."""
    errors: FieldErrors = {}
    if about not in CORRECTION_ABOUT:
        errors["about"] = [f"must be one of {', '.join(CORRECTION_ABOUT)}"]
    if not isinstance(object_id, str) or not object_id or len(object_id) > 300:
        errors["object_id"] = ["must name one of your credentials, deposits or decisions"]
    _check_text(errors, "request", text)
    if errors:
        raise InvalidInput("the correction request is invalid", errors)
    assert isinstance(about, str) and isinstance(object_id, str) and isinstance(text, str)
    moment = now or time.time()
    with engine.begin() as connection:
        routed_to = owner_of(connection, learner, about, object_id)
        if routed_to is None:
            raise InvalidInput("the correction request is about nothing of yours",
                               {"object_id": [f"is not one of your {about} records"]})
        row = {"id": str(uuid.uuid4()), "learner_id": learner["id"], "about": about,
               "object_id": object_id, "routed_to": routed_to, "request": text.strip(),
               "status": OPEN, "requested_at": moment}
        connection.execute(corrections.insert().values(**row))
        record(connection, actor=f"learner:{learner['id']}", action="correction.request",
               subject=row["id"], details={"about": about, "routed_to": routed_to})
        if routed_to != CENTRE:
            notify(connection, recipient_kind="institution", recipient_id=routed_to,
                   kind="correction_waiting", link=f"/institution/corrections/{row['id']}",
                   params={"correction": row["id"], "about": f"about:{about}",
                           "requested_on": (iso_utc(moment) or "")[:10]}, now=moment)
    return correction_json({**row, "answer": None, "answered_by": None, "answered_at": None})


def owner_of(connection: Connection, learner: dict, about: str, object_id: str) -> str | None:
    """Who owns the learner's object (an issuer id or "centre"); None when it is not theirs."""
    if about == "account":
        return CENTRE if object_id == learner["id"] else None
    if about == "deposit":
        found = connection.execute(select(deposits.c.id).where(
            deposits.c.id == object_id, deposits.c.learner_id == learner["id"])).first()
        return CENTRE if found is not None else None
    if about == "decision":
        return connection.execute(
            select(applications.c.institution_id)
            .join(decisions, decisions.c.application_id == applications.c.id)
            .where(decisions.c.id == object_id, applications.c.learner_id == learner["id"])
        ).scalar()
    issuer_id = connection.execute(select(credentials.c.issuer_id).where(
        credentials.c.id == object_id, credentials.c.learner_did == learner["did"],
        credentials.c.anchored.is_not(None))).scalar()
    shown = disclosure(connection, learner["id"]).issuers()
    return issuer_id if issuer_id is not None and (shown is None or issuer_id in shown) else None


def account_object(learner: dict) -> dict:
    """The learner's account as something to ask a correction about."""
    return {"about": "account", "object_id": learner["id"], "title": None, "by": None,
            "by_zh": None, "on": iso_utc(learner["created_at"])}


def object_of(engine: Engine, learner: dict, about: str, object_id: str) -> dict | None:
    """One of the learner's objects (`about` its kind) as the correction form offers it: its
    title, who issued or decided it and when; None when it is none of theirs (or their record
    does not show it yet). One lookup by key, whatever the size of the record."""
    if about == "account":
        return account_object(learner) if object_id == learner["id"] else None
    with engine.connect() as connection:
        if about == "credential":
            row = connection.execute(
                select(credentials.c.id, credentials.c.issued_at, credentials.c.issuer_id,
                       units.c.title, issuers.c.name, issuers.c.name_zh)
                .join(issuers, issuers.c.id == credentials.c.issuer_id)
                .join(units, (units.c.issuer_id == credentials.c.issuer_id)
                      & (units.c.code == credentials.c.unit_code)
                      & (units.c.version == credentials.c.unit_version))
                .where(credentials.c.id == object_id, credentials.c.learner_did == learner["did"],
                       credentials.c.anchored.is_not(None))).first()
            shown = disclosure(connection, learner["id"]).issuers()
            if row is None or (shown is not None and row.issuer_id not in shown):
                return None
            return {"about": about, "object_id": row.id, "title": row.title, "by": row.name,
                    "by_zh": row.name_zh, "on": iso_utc(row.issued_at)}
        if about == "deposit":
            found = connection.execute(
                select(deposits.c.id, deposits.c.credential_id, deposits.c.deposited_at)
                .where(deposits.c.id == object_id, deposits.c.learner_id == learner["id"])
            ).first()
            return None if found is None else {
                "about": about, "object_id": found.id, "title": found.credential_id, "by": None,
                "by_zh": None, "on": iso_utc(found.deposited_at)}
        if about == "decision":
            decided = connection.execute(
                select(decisions.c.id, decisions.c.decided_at, applications.c.rule_set_id,
                       applications.c.version, issuers.c.name, issuers.c.name_zh)
                .join(applications, applications.c.id == decisions.c.application_id)
                .join(issuers, issuers.c.id == applications.c.institution_id)
                .where(decisions.c.id == object_id, applications.c.learner_id == learner["id"])
            ).first()
            return None if decided is None else {
                "about": about, "object_id": decided.id,
                "title": programme_title(connection, decided.rule_set_id, decided.version),
                "by": decided.name, "by_zh": decided.name_zh, "on": iso_utc(decided.decided_at)}
    return None


def corrections_of(engine: Engine, learner_id: str, *, after: str | None = None,
                   limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of the learner's requests and their answers, newest first, after the cursor
    `after`, with the owner's names (an institution's; none for the centre); and the next
    page's cursor. The index on (learner, requested, id) serves it."""
    query = (select(corrections, issuers.c.name, issuers.c.name_zh)
             .outerjoin(issuers, issuers.c.id == corrections.c.routed_to)
             .where(corrections.c.learner_id == learner_id))
    with engine.connect() as connection:
        page = keyset_page(connection, query, (corrections.c.requested_at, corrections.c.id),
                           after=after, limit=limit, descending=True)
    return [{**correction_json(dict(row)), "owner": row["name"], "owner_zh": row["name_zh"]}
            for row in page.rows], page.after


def queue(engine: Engine, routed_to: str, *, status: str | None = None, after: str | None = None,
          limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of the requests routed to an institution or the centre, oldest first, after the
    cursor `after`: what they are about, when, and their state; no learner identity, no text
    (nothing is read, nothing logged); and the next page's cursor. Indexes on (routed_to,
    [status,] requested_at, id) serve it."""
    query = select(*QUEUED).where(corrections.c.routed_to == routed_to)
    if status is not None:
        query = query.where(corrections.c.status == status)
    with engine.connect() as connection:
        page = keyset_page(connection, query, (corrections.c.requested_at, corrections.c.id),
                           after=after, limit=limit)
    return [_queued(row) for row in page.rows], page.after


def answered_queue(engine: Engine, routed_to: str, *, after: str | None = None,
                   limit: int = QUEUE_PAGE) -> tuple[list[dict], str | None]:
    """A page of the answered requests routed to an institution or the centre, latest answer
    first, after the cursor `after`; and the next page's cursor. The index on (routed_to,
    answered_at, id) serves it."""
    query = select(*QUEUED).where(corrections.c.routed_to == routed_to,
                                  corrections.c.answered_at.is_not(None))
    with engine.connect() as connection:
        page = keyset_page(connection, query, (corrections.c.answered_at, corrections.c.id),
                           after=after, limit=limit, descending=True)
    return [_queued(row) for row in page.rows], page.after


def open_request(engine: Engine, correction_id: str, reader: Reader) -> dict:
    """A request routed to the reader's organisation, with its text and the object it is about;
    the read is logged for the learner. `NotFound` for a request routed elsewhere."""
    with engine.begin() as connection:
        row = _routed(connection, correction_id, reader.organisation)
        log_read(connection, reader, learner_id=row["learner_id"], what=PURPOSE,
                 object_id=correction_id, purpose=PURPOSE)
        facts = _object_facts(connection, row)
    return {**correction_json(row), "object": facts}


def answer(engine: Engine, correction_id: str, reader: Reader, *, status: object, text: object,
           now: float | None = None) -> dict:
    """The owner answers an open request: "corrected" (what was done) or "refused" (why); the
    learner is told. Answering again is a `Conflict`."""
    errors: FieldErrors = {}
    if status not in ANSWERS:
        errors["status"] = [f"must be one of {', '.join(ANSWERS)}"]
    _check_text(errors, "answer", text)
    if errors:
        raise InvalidInput("the answer is invalid", errors)
    assert isinstance(status, str) and isinstance(text, str)
    moment = now or time.time()
    with engine.begin() as connection:
        row = _routed(connection, correction_id, reader.organisation)
        changed = connection.execute(update(corrections).where(
            corrections.c.id == correction_id, corrections.c.status == OPEN).values(
            status=status, answer=text.strip(), answered_by=reader.actor, answered_at=moment))
        if changed.rowcount == 0:
            raise Conflict("this request was already answered", {"status": [row["status"]]})
        record(connection, actor=reader.actor, action="correction.answer", subject=correction_id,
               details={"status": status})
        notify(connection, recipient_kind="learner", recipient_id=row["learner_id"],
               kind="correction_answered", link="/me/corrections", now=moment,
               params={"correction": correction_id, "about": f"about:{row['about']}",
                       "outcome": CORRECTED if status == CORRECTED else "not-corrected"})
        answered = dict(connection.execute(select(corrections).where(
            corrections.c.id == correction_id)).mappings().one())
    return correction_json(answered)


def correction_json(row: dict) -> dict:
    """A request as its learner (or, once opened, its owner) sees it."""
    return {
        "id": row["id"],
        "about": row["about"],
        "object_id": row["object_id"],
        "routed_to": row["routed_to"],
        "request": row["request"],
        "status": row["status"],
        "answer": row["answer"],
        "answered_by": row["answered_by"],
        "requested_at": iso_utc(row["requested_at"]),
        "answered_at": iso_utc(row["answered_at"]),
    }


# -- internals ----------------------------------------------------------------------------------


def _queued(row: RowMapping) -> dict:
    return {"id": row["id"], "about": row["about"], "status": row["status"],
            "requested_at": iso_utc(row["requested_at"]),
            "answered_at": iso_utc(row["answered_at"])}


def _check_text(errors: FieldErrors, field: str, text: object) -> None:
    if not isinstance(text, str) or not text.strip():
        errors[field] = ["must not be empty"]
    elif len(text) > MAX_TEXT:
        errors[field] = [f"at most {MAX_TEXT} characters"]
    elif _CONTROL.search(text):
        errors[field] = ["must not hold control characters"]


def _routed(connection: Connection, correction_id: str, routed_to: str) -> dict:
    row = connection.execute(select(corrections).where(
        corrections.c.id == correction_id, corrections.c.routed_to == routed_to)).mappings().first()
    if row is None:
        raise NotFound(f"no correction request {correction_id}")
    return dict(row)


def _object_facts(connection: Connection, row: dict) -> dict:
    """What the owner needs to find the object: its kind's facts, never more."""
    about, object_id = row["about"], row["object_id"]
    if about == "account":
        found = connection.execute(select(learners.c.did, learners.c.display_name,
                                          learners.c.opened_by).where(
            learners.c.id == object_id)).first()
        return dict(found._mapping) if found is not None else {}
    if about == "deposit":
        deposit = connection.execute(select(deposits.c.credential_id, deposits.c.status,
                                            deposits.c.deposited_at).where(
            deposits.c.id == object_id)).first()
        return ({"credential_id": deposit.credential_id, "status": deposit.status,
                 "deposited_at": iso_utc(deposit.deposited_at)} if deposit is not None else {})
    if about == "decision":
        decision = connection.execute(
            select(decisions.c.application_id, decisions.c.sequence, decisions.c.decided_at,
                   applications.c.rule_set_id, applications.c.version)
            .join(applications, applications.c.id == decisions.c.application_id)
            .where(decisions.c.id == object_id)).first()
        if decision is None:
            return {}
        return {"application_id": decision.application_id, "sequence": decision.sequence,
                "programme": programme_title(connection, decision.rule_set_id, decision.version),
                "decided_at": iso_utc(decision.decided_at)}
    credential = connection.execute(
        select(credentials.c.unit_code, credentials.c.unit_version, credentials.c.issued_at)
        .where(credentials.c.id == object_id)).first()
    return ({"unit": credential.unit_code, "unit_version": credential.unit_version,
             "issued_at": iso_utc(credential.issued_at)} if credential is not None else {})
