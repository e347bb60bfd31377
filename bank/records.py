"""A learner's record: the credentials issuers delivered (as far as the learner proved who they
are, `bank.identity`) and the deposits the bank accepted, verified and read into the engine's
outcomes."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, and_, func, select, tuple_

from bank.identity import Disclosure, disclosure
from bank.tables import deposits
from bank.verdicts import (
    DEPOSIT,
    ISSUED,
    Shown,
    counts_now,
    ensure_verdicts,
    shown,
    stored_verdicts,
    verdicts,
)
from credentials.anchoring import anchor_proof_of
from credentials.errors import CredentialError
from credentials.merkle import credential_digest
from credentials.model import AGREEMENT_TYPE
from infra.errors import InvalidInput
from issuers.learners import credentials_of_learner, delivered_summaries
from issuers.tables import credentials, issuers
from rules.errors import InvalidOutcome
from rules.outcomes import Outcome, outcome_from_credential
from verify import Context, Status, verify_many
from verify.abc import LedgerView
from verify.codes import Code as VerifyCode
from verify.fragments import Report

REVOKED_CODES = (VerifyCode.REVOKED_BATCH, VerifyCode.REVOKED_CREDENTIAL)
NOT_OUTCOMES = ("ClrCredential", AGREEMENT_TYPE)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Held:
    """One credential of a learner's record, where it came from, and whether a reviewer (not
    the verifier) accepted it."""

    source: str
    credential: dict
    reviewed: bool = False

    @property
    def id(self) -> str:
        """The credential's id."""
        return str(self.credential.get("id", ""))

    def anchor(self) -> tuple[bytes | None, bytes | None]:
        """The batch root and the leaf digest the credential is anchored under (None if not)."""
        try:
            proof = anchor_proof_of(self.credential)
            return (proof.root, credential_digest(self.credential)) if proof else (None, None)
        except CredentialError:
            return None, None


@dataclass(frozen=True)
class Verified:
    """The learner's outcomes, and the credentials left out of them with the reason."""

    outcomes: tuple[Outcome, ...]
    set_aside: tuple[dict, ...]


def held_credentials(engine: Engine, learner: dict) -> list[Held]:
    """Every credential in the learner's record: delivered ones they may see, then accepted
    deposits of credentials not among those (one deposited before a proof showed it)."""
    issuer_ids = disclosure(engine, learner["id"]).issuers()
    delivered = (credentials_of_learner(engine, learner["did"], issuer_ids=issuer_ids)
                 if issuer_ids is None or issuer_ids else [])
    held = [Held(ISSUED, credential) for credential in delivered if is_outcome(credential)]
    query = (select(deposits.c.credential, deposits.c.reviewer)
             .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted")
             .order_by(deposits.c.deposited_at, deposits.c.id))
    delivered_ids = {item.id for item in held}
    with engine.connect() as connection:
        deposited = [Held(DEPOSIT, json.loads(row.credential), reviewed=row.reviewer is not None)
                     for row in connection.execute(query)]
    return held + [item for item in deposited
                   if item.id not in delivered_ids and is_outcome(item.credential)]


def held_credential(engine: Engine, learner: dict, matches: Callable[[str], bool]) -> Held | None:
    """The credential of the record (as `held_credentials` lists it) whose id `matches`: ids are
    read first and only that document is opened; None if there is none."""
    issuer_ids = disclosure(engine, learner["id"]).issuers()
    delivered = (select(credentials.c.id)
                 .where(credentials.c.learner_did == learner["did"],
                        credentials.c.anchored.is_not(None))
                 .order_by(credentials.c.issued_at, credentials.c.id))
    if issuer_ids is not None:
        delivered = delivered.where(credentials.c.issuer_id.in_(list(issuer_ids)))
    deposited = (select(deposits.c.id, deposits.c.credential_id)
                 .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted")
                 .order_by(deposits.c.deposited_at, deposits.c.id))
    with engine.connect() as connection:
        for credential_id in (connection.execute(delivered).scalars()
                              if issuer_ids is None or issuer_ids else ()):
            if matches(credential_id):
                document = json.loads(connection.execute(
                    select(credentials.c.anchored).where(credentials.c.id == credential_id)
                ).scalar_one())
                return Held(ISSUED, document) if is_outcome(document) else None
        for row in list(connection.execute(deposited)):
            if matches(row.credential_id):
                found = connection.execute(select(deposits.c.credential, deposits.c.reviewer)
                                           .where(deposits.c.id == row.id)).one()
                document = json.loads(found.credential)
                return (Held(DEPOSIT, document, reviewed=found.reviewer is not None)
                        if is_outcome(document) else None)
    return None


def is_outcome(credential: dict) -> bool:
    """Whether a credential records learning: not a transcript (CLR) nor a learning agreement,
    which the record holds apart and never audits."""
    types = credential.get("type", ())
    return not any(name in types for name in NOT_OUTCOMES)


def held_agreements(engine: Engine, learner: dict) -> list[dict]:
    """The learning agreements delivered to the learner (anchored), held beside the record and
    listed apart from it: an agreement is no learning outcome."""
    return [credential for credential in credentials_of_learner(engine, learner["did"])
            if AGREEMENT_TYPE in credential.get("type", ())]


def verified_outcomes(context: Context, learner: dict, held: Sequence[Held]) -> Verified:
    """Verify every held credential in `context` and read it into an outcome of this learner.

    A revoked credential stays in (the audit refuses it with its reason); one that no longer
    verifies is set aside, unless a reviewer accepted it on its evidence (such a deposit may
    name the learner otherwise: it counts for this account).
    """
    reports = verify_held(context, held)
    outcomes, set_aside = [], []
    for item, report in zip(held, reports, strict=True):
        revoked = report.fragment("status").code in REVOKED_CODES
        if report.verdict is not Status.VALID and not revoked and not item.reviewed:
            failed = next(f for f in report.fragments if f.status is report.verdict)
            set_aside.append({"credential": item.id, "verdict": str(report.verdict),
                              "code": str(failed.code), "message": failed.message})
            continue
        try:
            outcome = outcome_from_credential(item.credential, revoked=revoked)
        except InvalidOutcome as error:
            set_aside.append({"credential": item.id, "verdict": str(report.verdict),
                              "code": "unreadable", "message": error.message})
            continue
        outcomes.append(replace(outcome, learner=learner["did"]))
    return Verified(outcomes=tuple(outcomes), set_aside=tuple(set_aside))


@dataclass(frozen=True)
class Entry:
    """One credential of a page of the record: its summary, the key of its stored verdict
    (source, credentials id or deposit id), its issuer's names (when the bank knows it) and, for
    a deposit, the document."""

    source: str
    ref: str
    at: float
    summary: dict
    issuer_names: tuple[str | None, str | None] = (None, None)
    document: dict | None = None

    @property
    def cursor(self) -> str:
        """The cursor of this entry's place in the record."""
        return _write_cursor(self.source, self.at, self.ref)


@dataclass(frozen=True)
class RecordPage:
    """A page of a learner's record and the cursors of the next and previous pages (None at
    either end)."""

    entries: list[Entry]
    next: str | None
    previous: str | None = None

    @property
    def credentials(self) -> list[dict]:
        """What the page lists of each credential."""
        return [entry.summary for entry in self.entries]


def record_page(target: Engine | Connection, learner: dict, *, limit: int = PAGE_SIZE,
                after: str | None = None, before: str | None = None,
                disclosed: Disclosure | None = None) -> RecordPage:
    """One page of the record, in the order of `held_credentials` (delivered credentials, then
    accepted deposits), listed from stored columns rather than by parsing each document: after
    the `after` cursor, or the `limit` entries before the `before` cursor (`disclosed`: the
    learner's disclosure, when the caller read it already)."""
    issuer_ids = (disclosed or disclosure(target, learner["id"])).issuers()
    if before is not None:
        return _page_before(target, learner, limit, before, issuer_ids)
    phase, position = _read_cursor(after, "after")
    entries: list[Entry] = []
    if phase == ISSUED:
        entries += _delivered(target, learner, limit + 1, issuer_ids, after=position)
        position = None
    if len(entries) <= limit:
        entries += _deposited(target, learner, limit + 1 - len(entries), after=position)
    page = entries[:limit]
    return RecordPage(page, page[-1].cursor if len(entries) > limit else None,
                      page[0].cursor if after is not None and page else None)


def _page_before(target: Engine | Connection, learner: dict, limit: int, before: str,
                 issuer_ids: Collection[str] | None) -> RecordPage:
    """The `limit` entries before a cursor, and the cursors around them."""
    phase, position = _read_cursor(before, "before")
    entries: list[Entry] = []
    if phase == DEPOSIT:
        entries = _deposited(target, learner, limit + 1, before=position)
    if len(entries) <= limit:
        entries = _delivered(target, learner, limit + 1 - len(entries), issuer_ids,
                             before=position if phase == ISSUED else None,
                             from_end=phase == DEPOSIT) + entries
    page = entries[-limit:]
    return RecordPage(page, before if page else None,
                      page[0].cursor if len(entries) > limit else None)


def _delivered(target: Engine | Connection, learner: dict, limit: int,
               issuer_ids: Collection[str] | None, **where: Any) -> list[Entry]:
    if issuer_ids is not None and not issuer_ids:
        return []
    return [Entry(ISSUED, row["id"], row["issued_at"], _delivered_summary(row),
                  (row["issuer_name"], row["issuer_name_zh"]))
            for row in delivered_summaries(target, learner["did"], limit=limit,
                                           issuer_ids=issuer_ids,
                                           **{"after": None, **where})]


def _deposited(target: Engine | Connection, learner: dict, limit: int, *,
               after: tuple[float, str] | None = None,
               before: tuple[float, str] | None = None) -> list[Entry]:
    """Up to `limit` accepted deposits after (or the last before) a position, oldest first."""
    position = tuple_(deposits.c.deposited_at, deposits.c.id)
    query = (select(deposits.c.id, deposits.c.deposited_at, deposits.c.credential,
                    deposits.c.reviewer)
             .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted")
             .limit(limit))
    if before is not None:
        query = query.where(position < before).order_by(deposits.c.deposited_at.desc(),
                                                         deposits.c.id.desc())
    else:
        query = query.order_by(deposits.c.deposited_at, deposits.c.id)
    if after is not None:
        query = query.where(position > after)
    rows = _rows(target, query)
    entries = []
    for row in rows[::-1] if before is not None else rows:
        held = Held(DEPOSIT, json.loads(row.credential), reviewed=row.reviewer is not None)
        entries.append(Entry(DEPOSIT, row.id, row.deposited_at, credential_summary(held),
                             document=held.credential))
    return entries


def _rows(target: Engine | Connection, query: Select) -> list[Row]:
    """A query's rows, on the caller's connection or a new one."""
    if isinstance(target, Connection):
        return list(target.execute(query))
    with target.connect() as connection:
        return list(connection.execute(query))


def _delivered_summary(row: dict) -> dict:
    credits = row["credits"]
    return {
        "id": row["id"], "source": ISSUED, "issuer": row["issuer"], "unit": row["unit"],
        "title": row["title"], "kind": row["kind"],
        "credits": int(credits) if credits is not None and credits.is_integer() else credits,
        "completed_on": row["completed_on"],
        "level": f"{row['framework']} {row['level']}" if row["framework"] else None,
    }


def _write_cursor(phase: str, at: float, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([phase, at, key]).encode()).decode().rstrip("=")


def _read_cursor(cursor: str | None, name: str) -> tuple[str, tuple[float, str] | None]:
    """(phase, (time, id) to list after or before) of a cursor; the start of the record for
    None."""
    if cursor is None:
        return ISSUED, None
    try:
        phase, at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if phase in (ISSUED, DEPOSIT) and isinstance(at, int | float) and isinstance(key, str):
            return phase, (float(at), key)
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidInput(f"{name} is not a cursor this record gave out",
                       {name: ["not a cursor of this record"]})


def credential_summary(item: Held) -> dict:
    """What the learner's record lists for one credential."""
    credential = item.credential
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    issuer = credential.get("issuer")
    level = achievement.get("qualificationLevel")
    level = level if isinstance(level, dict) else {}
    return {
        "id": item.id,
        "source": item.source,
        "issuer": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "unit": achievement.get("humanCode"),
        "title": achievement.get("name"),
        "kind": achievement.get("kind"),
        "credits": subject.get("creditsEarned"),
        "completed_on": subject.get("activityEndDate"),
        "level": " ".join(str(level[key]) for key in ("levelFramework", "levelNumber")
                          if key in level) or None,
    }


@dataclass(frozen=True)
class Tally:
    """The credentials counted under one heading (an institution, kind, level or year)."""

    key: str
    count: int
    credits: Decimal


@dataclass(frozen=True)
class Overview:
    """A learner's record summed up by institution, kind of learning, level and year."""

    count: int
    credits: Decimal
    by_institution: tuple[Tally, ...]
    by_kind: tuple[Tally, ...]
    by_level: tuple[Tally, ...]
    by_year: tuple[Tally, ...]


def verify_held(context: Context, held: Sequence[Held]) -> list[Report]:
    """Verify every held credential in one context (one chain look-up per batch root)."""
    return verify_many([item.credential for item in held], context)


def record_overview(held: Sequence[Held]) -> Overview:
    """Count and sum the credits of credentials by issuer DID, kind, level and year."""
    return _overview(_tallied(credential_summary(item), item.credential) for item in held)


def _tallied(summary: dict, credential: dict) -> tuple[dict[str, str], int, Decimal]:
    """The headings one credential is counted under, once, with its credits."""
    credits = summary["credits"]
    amount = Decimal(str(credits)) if isinstance(credits, int | float) else Decimal(0)
    return ({"institution": summary["issuer"] or "", "kind": summary["kind"] or "",
             "level": summary["level"] or "",
             "year": str(summary["completed_on"] or credential.get("validFrom", ""))[:4]},
            1, amount)


def _overview(counted: Iterable[tuple[dict[str, str], int, Decimal]]) -> Overview:
    """Tallies by institution, kind, level and year of (headings, count, credits) groups."""
    groups: dict[str, dict[str, list[Decimal]]] = {
        name: defaultdict(lambda: [Decimal(0), Decimal(0)])
        for name in ("institution", "kind", "level", "year")}
    for keys, count, amount in counted:
        for name, key in keys.items():
            groups[name][key][0] += count
            groups[name][key][1] += amount

    def tallies(name: str, *, by_key: bool = False) -> tuple[Tally, ...]:
        found = [Tally(key, int(count), credits)
                 for key, (count, credits) in groups[name].items()]
        order = (lambda t: t.key) if by_key else (lambda t: (-t.credits, t.key))
        return tuple(sorted(found, key=order))

    kinds = tallies("kind")
    return Overview(
        count=sum(t.count for t in kinds),
        credits=sum((t.credits for t in kinds), Decimal(0)),
        by_institution=tallies("institution"),
        by_kind=kinds,
        by_level=tallies("level", by_key=True),
        by_year=tallies("year", by_key=True),
    )


@dataclass(frozen=True)
class CheckedPage:
    """A page of the record with each credential's status now, the whole record summed up over
    its valid credentials (by stored verdicts), how many do not count, and issuers' names."""

    page: RecordPage
    shown: list[Shown]
    overview: Overview
    set_aside: int
    issuer_names: dict[str, tuple[str | None, str | None]]


def checked_page(connection: Connection, learner: dict, context: Callable[[], Context],
                 ledger: LedgerView, *, limit: int = PAGE_SIZE, after: str | None = None,
                 before: str | None = None, now: float | None = None) -> CheckedPage:
    """A page of the record with stored verdicts (stored first where missing) brought up to
    now: the chain's mutable facts from `ledger` (the process's verify cache), the validity
    window on the clock. Costs the page and one sum over the record's verdicts in SQL (an index
    range), all on the caller's connection, not a verification of every credential."""
    moment = time.time() if now is None else now
    ensure_verdicts(connection, learner, context, _headings)
    disclosed = disclosure(connection, learner["id"])
    issuer_ids = disclosed.issuers()
    page = record_page(connection, learner, limit=limit, after=after, before=before,
                       disclosed=disclosed)
    stored = stored_verdicts(connection, ((entry.source, entry.ref) for entry in page.entries))
    names: dict[str, tuple[str | None, str | None]] = {
        entry.summary["issuer"]: entry.issuer_names for entry in page.entries
        if entry.summary["issuer"]}
    counted, total = _valid_delivered(connection, learner, issuer_ids, moment, names)
    deposited, deposit_total = _valid_deposited(connection, learner, moment)
    statuses = [shown(stored[key], ledger, moment) if key in stored
                else Shown(Status.INDETERMINATE, None)
                for key in ((entry.source, entry.ref) for entry in page.entries)]
    overview = _overview(counted + deposited)
    return CheckedPage(page, statuses, overview, total + deposit_total - overview.count, names)


def _valid_delivered(connection: Connection, learner: dict,
                     issuer_ids: Collection[str] | None, now: float,
                     names: dict[str, tuple[str | None, str | None]]
                     ) -> tuple[list[tuple[dict[str, str], int, Decimal]], int]:
    """The valid delivered credentials grouped by their headings and how many delivered
    credentials the record holds, from the learner's stored verdicts alone (one query on their
    index); the names of issuers counted and not on the page go into `names`."""
    of_learner = [verdicts.c.learner_did == learner["did"], verdicts.c.source == ISSUED,
                  verdicts.c.kind.is_not(None)]
    if issuer_ids is not None:
        if not issuer_ids:
            return [], 0
        of_learner.append(verdicts.c.issuer_did.in_(
            select(issuers.c.did).where(issuers.c.id.in_(list(issuer_ids)))))
    counts = counts_now(now).label("counts")
    headings = (verdicts.c.issuer_did, verdicts.c.kind, verdicts.c.level, verdicts.c.year)
    query = (select(*headings, counts, func.count(),
                    func.sum(func.coalesce(verdicts.c.credits, 0)))
             .where(*of_learner).group_by(*headings, counts))
    rows = list(connection.execute(query))
    unnamed = {row[0] for row in rows if row.counts} - set(names)
    if unnamed:
        names.update((row.did, (row.name, row.name_zh)) for row in connection.execute(
            select(issuers.c.did, issuers.c.name, issuers.c.name_zh)
            .where(issuers.c.did.in_(list(unnamed)))))
    counted = [({"institution": did or "", "kind": kind or "", "level": level or "",
                 "year": year or ""}, int(count), Decimal(str(credits or 0)))
               for did, kind, level, year, valid, count, credits in rows if valid]
    return counted, sum(int(row[5]) for row in rows)


def _valid_deposited(connection: Connection, learner: dict, now: float
                     ) -> tuple[list[tuple[dict[str, str], int, Decimal]], int]:
    """The accepted deposits whose stored verdict counts now, each under its headings, and how
    many accepted deposits the record holds (a learner deposits a few)."""
    query = (select(deposits.c.credential, counts_now(now).label("counts"))
             .select_from(deposits)
             .outerjoin(verdicts, and_(verdicts.c.source == DEPOSIT,
                                       verdicts.c.ref == deposits.c.id))
             .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted"))
    rows = list(connection.execute(query))
    counted = []
    for row in rows:
        if row.counts:
            credential = json.loads(row.credential)
            if is_outcome(credential):
                counted.append(_tallied(credential_summary(Held(DEPOSIT, credential)),
                                        credential))
    return counted, len(rows)


def _headings(credential: dict) -> dict:
    """What a deposited credential is counted under in the record's summary."""
    keys, _, credits = _tallied(credential_summary(Held(DEPOSIT, credential)), credential)
    return {"kind": keys["kind"] or None, "level": keys["level"] or None,
            "year": keys["year"] or None, "credits": float(credits)}
