"""Closing a learner's account (注销账户): the learner confirms, everything open ends at once, and
once the grace period has passed the retention job erases the account's personal data off chain.

What the law obliges the bank or an issuer to keep stays, with nothing personal in it: each
issuing institution's entry of a credential (so it can still revoke it, and every verifier still
reads its status), the audit trail with the learner replaced by a pseudonym, the batch roots on
chain (which never held anything personal) and the statistics. A credential file the learner
kept still verifies.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, and_, delete, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from bank.accounts import check_password
from bank.aggregates import count_moves, forget_learner
from bank.agreements import REQUESTED
from bank.consents import ACCOUNT, APPLICATION, CLOSED_BY_CLOSING, EMAIL_NOTICES, end, give
from bank.deposits import REVIEW
from bank.notices import PENDING, notify
from bank.tables import (
    APPEALED,
    DECIDED,
    FIRST_REVIEWED,
    SUBMITTED,
    WITHDRAWN,
    agreements,
    appeals,
    applications,
    decisions,
    deposits,
    learner_tokens,
    learners,
    notice_preferences,
    notices,
    presentation_requests,
    rule_impacts,
    shared_links,
    verification_results,
    wallet_offers,
)
from infra.audit import audit_log, record
from infra.classification import CLOSURE_GRACE_DAYS, OWNERS, Owner
from infra.errors import Conflict, NotFound, Unauthenticated
from infra.metadata import metadata
from infra.times import iso_utc
from issuers.tables import credentials, idempotency

DAY = 86_400
GRACE_SECONDS = CLOSURE_GRACE_DAYS * DAY
ERASED = "erased:"
PSEUDONYM = "erased-"
CLOSE_ACTION = "account.close"
KEEP_ACTION = "account.keep"
ERASE_ACTION = "account.erase"
KEPT_TABLES = ("credentials", "audit_log")
"""Tables whose rows of a learner are kept, made non-personal (not deleted) on erasure; rows
owned through them (an issuer's revocations) are kept as they are."""
MENTION_CHUNK = 40
SEALED_MENTIONS = ((verification_results, "credential"), (presentation_requests, "report"),
                   (idempotency, "response"))
"""Sealed columns of rows nobody owns that may hold the learner's DID (a result link someone
made, a wallet's answer to a verifier, an issuer's replayable answer): such rows are deleted."""


def closes_at(learner: dict) -> float | None:
    """When a closing account's personal data is erased (None for an open account)."""
    closing_at = learner.get("closing_at")
    return None if closing_at is None else closing_at + GRACE_SECONDS


def closing_json(learner: dict) -> dict:
    """A closing account's state as the API shows it."""
    return {"closing": learner.get("closing_at") is not None,
            "closing_at": iso_utc(learner.get("closing_at")),
            "erased_after": iso_utc(closes_at(learner)),
            "grace_days": CLOSURE_GRACE_DAYS}


def is_closing(connection: Connection, learner_id: str) -> bool:
    """Whether the learner closed their account (nobody but them opens its record then)."""
    return connection.execute(select(learners.c.closing_at).where(
        learners.c.id == learner_id)).scalar_one_or_none() is not None


def refuse_closing(connection: Connection, learner_id: str) -> None:
    """`NotFound` for a closing account: staff, operators and guardians no longer open it."""
    if is_closing(connection, learner_id):
        raise NotFound("this learner closed their account")


def confirm(learner: dict, password: object) -> None:
    """`Unauthenticated` (naming the password) unless this is the account's password."""
    stored = learner.get("password_hash")
    if not isinstance(password, str) or stored is None or not check_password(password, stored):
        raise Unauthenticated("the password is wrong", {"password": ["is wrong"]})


def close(engine: Engine, learner: dict, *, actor: str, now: float | None = None) -> dict:
    """Close the learner's account (their password or a fresh city sign-on was checked by the
    caller): open applications, requests and deposits under review are withdrawn, share links
    revoked, wallet offers closed, API tokens ended and notice e-mails stopped; the personal
    data is erased once `CLOSURE_GRACE_DAYS` have passed. The portal ends the web sessions."""
    moment = time.time() if now is None else now
    learner_id = learner["id"]
    with engine.begin() as connection:
        closed = connection.execute(update(learners).where(
            learners.c.id == learner_id, learners.c.closing_at.is_(None)
        ).values(closing_at=moment)).rowcount
        if closed != 1:
            raise Conflict("this account is already closing",
                           {"account": ["is already closing"]})
        withdrawn = _end_everything_open(connection, learner_id, moment)
        state = closing_json({"closing_at": moment})
        notify(connection, recipient_kind="learner", recipient_id=learner_id,
               kind="account_closing", link="/me/close", now=moment,
               params={"erased_on": state["erased_after"][:10]})
        record(connection, actor=actor, action=CLOSE_ACTION, subject=learner_id,
               details={"erased_after": state["erased_after"], **withdrawn})
    return {**state, "withdrawn": withdrawn}


def cancel(engine: Engine, learner: dict, *, now: float | None = None) -> None:
    """Keep a closing account (before its grace period ends): it is open again, under the account
    consent given anew; what closing withdrew, revoked or stopped stays so."""
    moment = time.time() if now is None else now
    with engine.begin() as connection:
        closing_at = connection.execute(select(learners.c.closing_at).where(
            learners.c.id == learner["id"])).scalar_one_or_none()
        if closing_at is None:
            raise Conflict("this account is not closing", {"account": ["is not closing"]})
        if closing_at + GRACE_SECONDS <= moment:
            raise Conflict("the grace period is over: the account is being erased",
                           {"account": ["the grace period is over"]})
        connection.execute(update(learners).where(learners.c.id == learner["id"])
                           .values(closing_at=None))
        give(connection, learner["id"], ACCOUNT, now=moment)
        record(connection, actor=f"learner:{learner['id']}", action=KEEP_ACTION,
               subject=learner["id"])


def due(connection: Connection, *, now: float, limit: int) -> list[str]:
    """Closing accounts whose grace period has passed, oldest first (at most `limit`)."""
    return list(connection.execute(select(learners.c.id).where(
        learners.c.closing_at.is_not(None), learners.c.closing_at + GRACE_SECONDS <= now
    ).order_by(learners.c.closing_at, learners.c.id).limit(limit)).scalars())


def erase(connection: Connection, learner_id: str) -> dict[str, int]:
    """Erase a learner's personal data in the caller's transaction, by the catalogue's owners:
    every row of the learner in every owned table is deleted (children first), the issuers'
    entries of their credentials keep nothing personal, sealed result links, wallet answers and
    issuer replays naming them go, and the audit trail, notices to institutions and rule
    impacts name a pseudonym instead. Counts by table; {} when the
    account is gone already."""
    learner = connection.execute(select(learners).where(
        learners.c.id == learner_id)).mappings().first()
    if learner is None:
        return {}
    counts: dict[str, int] = {}
    identifiers = _identifiers(connection, dict(learner))
    forget_learner(connection, learner)
    for table in reversed(metadata.sorted_tables):
        owner = OWNERS.get(table.name)
        if owner is None or _kept(table.name) or table is learners:
            continue
        removed = connection.execute(delete(table).where(
            _belongs(table, owner, learner_id, learner["did"]))).rowcount
        if removed:
            counts[table.name] = removed
    counts["credentials"] = _anonymise_credentials(connection, learner["did"])
    pseudonyms = {identifier: PSEUDONYM + secrets.token_hex(6) for identifier in identifiers}
    pseudonyms.update(dict.fromkeys(
        (learner_id, learner["did"], learner["identity_hash"]), PSEUDONYM + secrets.token_hex(6)))
    counts["audit_log"] = _pseudonymise(connection, audit_log, ("actor", "subject", "details"),
                                        pseudonyms)
    counts["bank_rule_impacts"] = _pseudonymise(connection, rule_impacts, ("summary",),
                                                pseudonyms)
    counts["bank_notices"] = counts.get("bank_notices", 0) + connection.execute(
        delete(notices).where(notices.c.recipient_kind != "learner",
                              _mentions((notices.c.params, notices.c.link),
                                        list(identifiers)))).rowcount
    for table, column in SEALED_MENTIONS:
        forgotten = _forget_sealed(connection, table, column, (learner_id, learner["did"]))
        if forgotten:
            counts[table.name] = counts.get(table.name, 0) + forgotten
    counts["bank_learners"] = connection.execute(delete(learners).where(
        learners.c.id == learner_id)).rowcount
    return {table: count for table, count in counts.items() if count}


def _end_everything_open(connection: Connection, learner_id: str, moment: float) -> dict[str, int]:
    """Withdraw, revoke, close and stop what a closing account has open; counts by kind. An
    application not yet decided is withdrawn; an appeal under review is withdrawn and the
    decision stays (as withdrawing the application consent does)."""
    held = connection.execute(select(
        applications.c.id, applications.c.status, applications.c.institution_id).where(
        applications.c.learner_id == learner_id,
        applications.c.status.in_((SUBMITTED, FIRST_REVIEWED, APPEALED)))).all()
    undecided = [row.id for row in held if row.status != APPEALED]
    count_moves(connection, Counter((row.institution_id, row.status) for row in held
                                    if row.status != APPEALED), WITHDRAWN)
    count_moves(connection, Counter((row.institution_id, row.status) for row in held
                                    if row.status == APPEALED), DECIDED)
    appealed = select(applications.c.id).where(applications.c.learner_id == learner_id,
                                               applications.c.status == APPEALED)
    connection.execute(update(appeals).where(
        appeals.c.status == "pending",
        appeals.c.decision_id.in_(select(decisions.c.id).where(
            decisions.c.application_id.in_(appealed), decisions.c.in_force.is_(True)))
    ).values(status=WITHDRAWN, decided_at=moment))
    counts = {
        "appeals": connection.execute(update(applications).where(
            applications.c.id.in_(appealed)).values(status=DECIDED, updated_at=moment)).rowcount,
        "applications": connection.execute(update(applications).where(
            applications.c.id.in_(undecided)).values(status=WITHDRAWN, updated_at=moment)
        ).rowcount,
        "agreements": connection.execute(update(agreements).where(
            agreements.c.learner_id == learner_id, agreements.c.status == REQUESTED
        ).values(status=WITHDRAWN, decided_at=moment)).rowcount,
        "deposits": connection.execute(update(deposits).where(
            deposits.c.learner_id == learner_id, deposits.c.status == REVIEW
        ).values(status=WITHDRAWN, reviewed_at=moment)).rowcount,
        "share_links": connection.execute(update(shared_links).where(
            shared_links.c.learner_id == learner_id, shared_links.c.revoked.is_(False)
        ).values(revoked=True)).rowcount,
        "wallet_offers": connection.execute(update(wallet_offers).where(
            wallet_offers.c.learner_id == learner_id,
            wallet_offers.c.status.in_(("open", "redeemed"))
        ).values(status="locked")).rowcount,
        "tokens": connection.execute(delete(learner_tokens).where(
            learner_tokens.c.learner_id == learner_id)).rowcount,
    }
    for application_id in undecided:
        end(connection, learner_id, APPLICATION, application_id, now=moment)
    for purpose in (*CLOSED_BY_CLOSING, EMAIL_NOTICES):
        end(connection, learner_id, purpose, now=moment)
    connection.execute(update(notice_preferences).where(
        notice_preferences.c.learner_id == learner_id).values(email=None, updated_at=moment))
    connection.execute(update(notices).where(
        notices.c.recipient_kind == "learner", notices.c.recipient_id == learner_id,
        notices.c.email_status == PENDING).values(email_status=None, email_after=None))
    return counts


def _kept(name: str) -> bool:
    """Whether a table's rows of a learner are kept on erasure (by itself or by its parent)."""
    owner = OWNERS[name]
    return name in KEPT_TABLES or (owner.parent is not None and _kept(owner.parent))


def _belongs(table: Table, owner: Owner, learner_id: str, did: str) -> ColumnElement[bool]:
    """The rows of `table` that belong to the learner, by its owner in the catalogue."""
    conditions = [table.c[name] == value for name, value in owner.where]
    if owner.parent is None:
        conditions.append(table.c[owner.column] == (learner_id if owner.key == "id" else did))
    else:
        parent = metadata.tables[owner.parent]
        parent_owner = OWNERS[owner.parent]
        conditions.append(table.c[owner.column].in_(
            select(parent.c[owner.parent_column or "id"]).where(
                _belongs(parent, parent_owner, learner_id, did))))
    return and_(*conditions)


def _identifiers(connection: Connection, learner: dict) -> set[str]:
    """What names the learner or their objects elsewhere: their id, DID and identity hash, and
    the ids of their applications, decisions, appeals, deposits and agreements."""
    learner_id = learner["id"]
    application_ids = select(applications.c.id).where(applications.c.learner_id == learner_id)
    decision_ids = select(decisions.c.id).where(decisions.c.application_id.in_(application_ids))
    found = {learner_id, learner["did"], learner["identity_hash"]}
    for query in (application_ids, decision_ids,
                  select(appeals.c.id).where(appeals.c.decision_id.in_(decision_ids)),
                  select(deposits.c.id).where(deposits.c.learner_id == learner_id),
                  select(agreements.c.id).where(agreements.c.learner_id == learner_id)):
        found.update(connection.execute(query).scalars())
    return found


def _anonymise_credentials(connection: Connection, did: str) -> int:
    """The issuers' entries of the learner's credentials keep the id, unit, session, batch,
    position, digest and status entry (to revoke, and for verifiers), nothing personal."""
    marker = literal(ERASED) + credentials.c.id
    return connection.execute(update(credentials).where(credentials.c.learner_did == did).values(
        learner_did=marker, learner_hash=marker, signed=None, anchored=None, completed_on=None,
        valid_until=None)).rowcount


def _forget_sealed(connection: Connection, table: Table, column: str,
                   names: Sequence[str]) -> int:
    """Delete the rows whose sealed `column` (opened here, batch by batch) names the learner."""
    keys = list(table.primary_key.columns)
    found = [tuple(row[:-1]) for row in connection.execute(
        select(*keys, table.c[column]).where(table.c[column].is_not(None))
    ).yield_per(MENTION_CHUNK * 10) if any(name in row[-1] for name in names)]
    for key in found:
        connection.execute(delete(table).where(
            *[column_ == value for column_, value in zip(keys, key, strict=True)]))
    return len(found)


def _pseudonymise(connection: Connection, table: Table, columns: Sequence[str],
                  pseudonyms: dict[str, str]) -> int:
    """Replace every identifier in the text columns of the rows that mention one; how many."""
    changed: set[tuple] = set()
    names = sorted(pseudonyms, key=len, reverse=True)
    texts = [table.c[name] for name in columns]
    keys = list(table.primary_key.columns)
    for start in range(0, len(names), MENTION_CHUNK):
        chunk = names[start:start + MENTION_CHUNK]
        rows = connection.execute(select(table).where(_mentions(texts, chunk))).mappings().all()
        for row in rows:
            values = {name: _replace(row[name], names, pseudonyms) for name in columns}
            connection.execute(update(table).where(
                *[column == row[column.name] for column in keys]).values(**values))
            changed.add(tuple(row[column.name] for column in keys))
    return len(changed)


def _mentions(texts: Iterable[ColumnElement], identifiers: Sequence[str]) -> ColumnElement[bool]:
    """Rows whose text columns contain any of the identifiers."""
    return or_(*[text.contains(identifier, autoescape=True)
                 for text in texts for identifier in identifiers])


def _replace(text: str | None, names: Sequence[str], pseudonyms: dict[str, str]) -> str | None:
    if text is None:
        return None
    for name in names:
        text = text.replace(name, pseudonyms[name])
    return text
