"""Deposits: a learner brings an external credential; it is verified on deposit, and one that
does not verify (or names someone else) waits for a reviewer with its evidence."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from bank.identity import disclosure
from bank.tables import deposits
from credentials.canon import SAFE_NUMBER_RULE, unsafe_number
from infra.audit import record
from infra.errors import Conflict, InvalidInput, NotFound
from infra.paging import keyset_page
from infra.times import iso_utc
from issuers.tables import credentials
from verify import Context, LedgerView, Status, verify_credential
from verify.context import MAX_BYTES

ACCEPTED = "accepted"
REVIEW = "review"
REJECTED = "rejected"
SUBJECT_MISMATCH = "SUBJECT_MISMATCH"
LIST_PAGE = 50
VERDICTS = {"accept": ACCEPTED, "reject": REJECTED}


def deposit(engine: Engine, view: LedgerView, learner: dict, credential: object, *,
            evidence: str | None = None, max_bytes: int = MAX_BYTES) -> dict:
    """Verify a credential the learner brings against the chain `view`: VALID and theirs →
    accepted; else → review."""
    if not isinstance(credential, dict):
        raise InvalidInput("send the credential as a JSON object",
                           {"credential": ["must be an object"]})
    where = unsafe_number(credential)
    if where is not None:
        raise InvalidInput(
            "the credential holds a number JSON cannot carry exactly",
            {"credential": {where: [SAFE_NUMBER_RULE]}})
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not 1 <= len(credential_id) <= 300:
        raise InvalidInput("the credential has no usable id",
                           {"credential": {"id": ["must be a string of 1–300 characters"]}})
    delivered = select(credentials.c.id).where(
        credentials.c.id == credential_id, credentials.c.learner_did == learner["did"])
    shown = disclosure(engine, learner["id"]).issuers()
    if shown is not None:
        delivered = delivered.where(credentials.c.issuer_id.in_(list(shown)))
    with engine.connect() as connection:
        issued = connection.execute(delivered).first()
    if issued is not None:
        raise Conflict(f"{credential_id} is already in your record: its issuer delivered it")
    report = verify_credential(credential, Context(view, max_bytes=max_bytes))
    reason = None
    if report.verdict is not Status.VALID:
        reason = str(next(f.code for f in report.fragments if f.status is report.verdict))
    elif not _names_learner(credential, learner):
        reason = SUBJECT_MISMATCH
    row = {
        "id": str(uuid.uuid4()),
        "learner_id": learner["id"],
        "credential_id": credential_id,
        "credential": json.dumps(credential, ensure_ascii=False, separators=(",", ":")),
        "verdict": str(report.verdict),
        "report": json.dumps(report.to_json(), ensure_ascii=False),
        "evidence": evidence,
        "status": ACCEPTED if reason is None else REVIEW,
        "reason": reason,
        "deposited_at": time.time(),
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(deposits).values(**row))
    except IntegrityError:
        raise Conflict(f"you already deposited {credential_id}") from None
    return deposit_json(row)


def review_deposit(engine: Engine, deposit_id: str, reviewer: str, verdict: str,
                   reasons: list[str], *, now: float | None = None) -> dict:
    """A reviewer accepts or rejects a deposit waiting for review (a rejection gives reasons)."""
    if verdict not in VERDICTS:
        raise InvalidInput("the verdict is accept or reject",
                           {"verdict": [f"must be one of {', '.join(VERDICTS)}"]})
    if verdict == "reject" and not reasons:
        raise InvalidInput("a rejection states its reasons", {"reasons": ["must not be empty"]})
    with engine.begin() as connection:
        changed = connection.execute(
            update(deposits)
            .where(deposits.c.id == deposit_id, deposits.c.status == REVIEW)
            .values(status=VERDICTS[verdict], reviewer=reviewer, review_reasons=json.dumps(reasons),
                    reviewed_at=now or time.time()))
        if changed.rowcount:
            record(connection, actor=reviewer, action="deposit.review", subject=deposit_id,
                   details={"verdict": verdict})
    if changed.rowcount == 0:
        row = deposit_row(engine, deposit_id)
        raise Conflict(f"deposit {deposit_id} is {row['status']}, not waiting for review")
    return deposit_json(deposit_row(engine, deposit_id))


def deposits_of(target: Engine | Connection, *, learner_id: str | None = None,
                status: str | None = None) -> list[dict]:
    """Deposits, oldest first, of one learner and/or in one status (as `deposit_json` shows
    them: the credentials themselves, sealed, are not read)."""
    shown = [column for column in deposits.c if column.name != "credential"]
    query = select(*shown).order_by(deposits.c.deposited_at, deposits.c.id)
    if learner_id is not None:
        query = query.where(deposits.c.learner_id == learner_id)
    if status is not None:
        query = query.where(deposits.c.status == status)
    if isinstance(target, Connection):
        return [deposit_json(dict(row)) for row in target.execute(query).mappings()]
    with target.connect() as connection:
        return [deposit_json(dict(row)) for row in connection.execute(query).mappings()]


def learner_deposits(target: Engine | Connection, learner_id: str, *, after: str | None = None,
                     limit: int = LIST_PAGE) -> tuple[list[dict], str | None]:
    """A page of the learner's deposits, newest first, after the cursor `after` (as
    `deposit_json` shows them); and the next page's cursor. The index on (learner, deposited,
    id) serves it."""
    shown = [column for column in deposits.c if column.name != "credential"]
    query = select(*shown).where(deposits.c.learner_id == learner_id)
    keys = (deposits.c.deposited_at, deposits.c.id)
    if isinstance(target, Connection):
        page = keyset_page(target, query, keys, after=after, limit=limit, descending=True)
    else:
        with target.connect() as connection:
            page = keyset_page(connection, query, keys, after=after, limit=limit,
                               descending=True)
    return [deposit_json(dict(row)) for row in page.rows], page.after


def deposit_row(engine: Engine, deposit_id: str, learner_id: str | None = None) -> dict:
    """A deposit's row (of this learner, when given); `NotFound` otherwise."""
    query = select(deposits).where(deposits.c.id == deposit_id)
    if learner_id is not None:
        query = query.where(deposits.c.learner_id == learner_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no deposit {deposit_id}")
    return dict(row)


def deposit_json(row: dict) -> dict:
    """A deposit as the API shows it: status and why, the verifier's report and the evidence."""
    return {
        "id": row["id"],
        "credential_id": row["credential_id"],
        "status": row["status"],
        "verdict": row["verdict"],
        "reason": row["reason"],
        "evidence": row["evidence"],
        "report": json.loads(row["report"]),
        "reviewer": row.get("reviewer"),
        "review_reasons": json.loads(row["review_reasons"]) if row.get("review_reasons") else [],
        "deposited_at": iso_utc(row["deposited_at"]),
        "reviewed_at": iso_utc(row.get("reviewed_at")),
    }


def _names_learner(credential: dict, learner: dict) -> bool:
    """Whether the credential's subject is the learner: their DID or their identity hash."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return False
    if subject.get("id") == learner["did"]:
        return True
    identifiers = subject.get("identifier")
    return isinstance(identifiers, list) and any(
        isinstance(item, dict) and item.get("identityHash") == learner["identity_hash"]
        for item in identifiers)
