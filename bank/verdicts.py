"""Stored verdicts of the credentials in learners' records, so a record page reads what was
concluded instead of verifying every credential on every view.

A verdict keeps what does not change once anchored (the checks' outcomes with the chain's
mutable facts left out: suspension, key retirement, revocation) and the chain facts it depended
on (batch root, leaf digest, issuer, key, anchoring block, validity window). The mutable facts
are kept as flags, refreshed from the indexed chain events by the revocation watch each pass
(`refresh_from_chain`, touching only the rows of the batch, credential, issuer or key an event
names), and at once, in the transaction recording it, by a revocation or key retirement this
bank's workers make on chain (`apply_chain_change`). A
page overlays what the process's verify cache holds now (it reads new events at most once per
ttl) on its own rows, and the validity window on the clock, so every status it shows is current
within the verify cache's bound; the cost is the page's, not the record's.

A credential the bank's issuer service delivered gets its verdict from the issuance records
(what was signed with which registered key, under which root, anchored in which block); a
deposited one from a full verification with the mutable facts left out.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError

from bank.tables import deposits
from credentials import dids
from credentials.anchoring import anchor_proof_of
from credentials.errors import CredentialError
from credentials.merkle import credential_digest
from infra.metadata import metadata
from infra.times import parse_iso
from issuers.chain_changes import (
    KEY_RETIRED,
    LEAF_REVOKED,
    REINSTATED,
    ROOT_REVOKED,
    SUSPENDED,
    ChainChange,
    follow,
)
from issuers.tables import batches, credentials, issuer_keys, issuers, units
from ledger.errors import LedgerError
from ledger.indexer import EMPTY_DIGEST, REGISTRY_EVENTS, cursor, issuer_events
from ledger.indexer import revocations as chain_revocations
from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation
from verify import Context, Status, verify_credential
from verify.abc import LedgerView
from verify.codes import Code

ISSUED = "issued"
DEPOSIT = "deposit"
ISSUANCE = "issuance"
VERIFICATION = "verification"
CURSOR = "bank.verdicts"
INDEXER = "default"
CHUNK = 5_000
MUTABLE = ("key_binding", "accreditation", "status")
"""The checks whose outcome can change after anchoring (a key retired, an issuer suspended or
reinstated, a revocation): stored without those facts, overlaid when shown."""

verdicts = Table(
    "bank_verdicts",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("ref", String(64), primary_key=True),
    Column("learner_did", String(200), nullable=False),
    Column("basis", String(16), nullable=False),
    Column("checks", Text, nullable=False),
    Column("static_status", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("root", LargeBinary(32)),
    Column("digest", LargeBinary(32)),
    Column("issuer_did", String(200)),
    Column("issuer_id", LargeBinary(32)),
    Column("public_key", LargeBinary(32)),
    Column("anchor_block", BigInteger),
    Column("valid_from", Float),
    Column("valid_until", Float),
    Column("revoked_code", String(32)),
    Column("revoked_reason", Integer),
    Column("revoked_block", BigInteger),
    Column("suspended", Boolean, nullable=False),
    Column("key_retired", Boolean, nullable=False),
    Column("checked_at", Float, nullable=False),
    Column("kind", String(32)),
    Column("level", String(80)),
    Column("year", String(4)),
    Column("credits", Float),
    Index("ix_bank_verdicts_learner", "learner_did", "source", "status", "issuer_did", "kind",
          "level", "year", "credits", "valid_until", "valid_from"),
    Index("ix_bank_verdicts_root", "root", "digest"),
    Index("ix_bank_verdicts_issuer_key", "issuer_id", "public_key", "anchor_block"),
)
"""One verdict per credential of a record: `source` "issued" (`ref` a credentials id) or
"deposit" (`ref` a deposit id). `checks` are the checks in order as [name, status, code, the
check a skip waited on], validity left out (the page reads the window on its clock);
`static_status` their verdict; `status` that verdict with the flags (revoked, suspended, key
retired) as of the last refresh. `kind`, `level`, `year` and `credits` are the headings the
record's summary counts it under, so summing a record reads this table alone."""

ORDER = ("parse", "format", "proof", "key_binding", "accreditation", "anchor", "status")
ISSUED_CHECKS = json.dumps([[name, Status.VALID, None, None] for name in ORDER])
LATE_KEY_CHECKS = json.dumps([[name, Status.INVALID, Code.KEY_REGISTERED_AFTER_ANCHOR, None]
                              if name == "key_binding" else [name, Status.VALID, None, None]
                              for name in ORDER])


@dataclass(frozen=True)
class Shown:
    """A credential's status as a page shows it, and the code of the first check that failed."""

    status: Status
    code: Code | None

    @property
    def revoked(self) -> bool:
        """Whether its batch or the credential itself was revoked."""
        return self.code in (Code.REVOKED_BATCH, Code.REVOKED_CREDENTIAL)


class WithoutMutableFacts:
    """A ledger view that answers as if no issuer were suspended, no key retired and nothing
    revoked: what a verdict keeps for good (the flags carry the rest)."""

    def __init__(self, view: LedgerView) -> None:
        self.view = view

    def chain_id(self) -> int:
        """The chain id."""
        return self.view.chain_id()

    def anchor_contract(self) -> str:
        """The anchor contract."""
        return self.view.anchor_contract()

    def anchor(self, root: bytes) -> AnchorRecord | None:
        """A root's anchor."""
        return self.view.anchor(root)

    def anchored_in(self, transaction_hash: str) -> set[bytes]:
        """The roots a transaction anchored."""
        return self.view.anchored_in(transaction_hash)

    def root_revocation(self, root: bytes) -> Revocation | None:
        """Left out: kept as a flag."""
        return None

    def leaf_revocation(self, root: bytes, leaf: bytes) -> Revocation | None:
        """Left out: kept as a flag."""
        return None

    def issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The issuer's accreditation, suspension left out."""
        record = self.view.issuer_by_did(did)
        return None if record is None else replace(record, suspended=False)

    def key(self, issuer_id: bytes, public_key: bytes) -> KeyRecord | None:
        """The key's registration, retirement left out."""
        record = self.view.key(issuer_id, public_key)
        return None if record is None else replace(record, retired_block=0)


# -- writing verdicts ----------------------------------------------------------------------------


def store_issued(connection: Connection, condition: ColumnElement[bool], *,
                 now: float | None = None) -> int:
    """Store the verdicts of the anchored credentials matching `condition` (on the credentials
    table) that have none, from the issuance records, with the chain's flags as indexed now;
    how many were stored."""
    stamp = now or time.time()
    late_key = issuer_keys.c.registered_block > batches.c.block
    query = (
        select(
            literal(ISSUED), credentials.c.id, credentials.c.learner_did, literal(ISSUANCE),
            case((late_key, LATE_KEY_CHECKS), else_=ISSUED_CHECKS),
            case((late_key, str(Status.INVALID)), else_=str(Status.VALID)),
            case((late_key, str(Status.INVALID)), else_=str(Status.VALID)),
            batches.c.root, credentials.c.digest, issuers.c.did, issuers.c.chain_id,
            issuer_keys.c.public_key, batches.c.block, null(), credentials.c.valid_until,
            false(), false(), literal(stamp), units.c.kind,
            case((units.c.framework.is_not(None),
                  units.c.framework + literal(" ") + func.cast(units.c.level, String)),
                 else_=null()),
            func.substr(func.coalesce(credentials.c.completed_on, ""), 1, 4),
            credentials.c.credits,
        )
        .join(batches, batches.c.id == credentials.c.batch_id)
        .join(issuers, issuers.c.id == credentials.c.issuer_id)
        .join(issuer_keys, issuer_keys.c.id == credentials.c.key_id)
        .outerjoin(units, and_(units.c.issuer_id == credentials.c.issuer_id,
                               units.c.code == credentials.c.unit_code,
                               units.c.version == credentials.c.unit_version))
        .where(condition, credentials.c.anchored.is_not(None), batches.c.root.is_not(None),
               batches.c.block.is_not(None),
               ~exists().where(verdicts.c.source == ISSUED, verdicts.c.ref == credentials.c.id))
    )
    columns = ["source", "ref", "learner_did", "basis", "checks", "static_status", "status",
               "root", "digest", "issuer_did", "issuer_id", "public_key", "anchor_block",
               "valid_from", "valid_until", "suspended", "key_retired", "checked_at", "kind",
               "level", "year", "credits"]
    stored = len(connection.execute(insert(verdicts).from_select(columns, query)
                                    .returning(verdicts.c.ref)).all())
    if stored:
        settle(connection, and_(verdicts.c.source == ISSUED, verdicts.c.checked_at == stamp,
                                verdicts.c.ref.in_(select(credentials.c.id).where(condition))))
    return stored


def store_verified(connection: Connection, context: Context, source: str, ref: str,
                   learner_did: str, credential: dict, headings: dict, *,
                   now: float | None = None) -> bool:
    """Verify a credential with the chain's mutable facts left out and store its verdict (with
    the flags as indexed now) and the `headings` a summary counts it under (kind, level, year,
    credits); whether it was stored (a verdict the ledger could not decide is not: the next view
    tries again)."""
    stamp = now or time.time()
    masked = Context(WithoutMutableFacts(context.ledger), clock=context.clock,
                     trusted_chain_id=context.trusted_chain_id,
                     trusted_anchor_contract=context.trusted_anchor_contract,
                     signatures=context.signatures)
    report = verify_credential(credential, masked)
    fragments = [fragment for fragment in report.fragments if fragment.name != "validity"]
    checks = [[fragment.name, str(fragment.status),
               None if fragment.code is None else str(fragment.code),
               fragment.details.get("requires") if fragment.status is Status.SKIPPED else None]
              for fragment in fragments]
    static = _verdict(Status(fragment.status) for fragment in fragments)
    if static is Status.INDETERMINATE:
        return False
    facts = _facts(credential, masked, report.fragment("anchor").details)
    summary = report.credential
    connection.execute(insert(verdicts).values(
        source=source, ref=ref, learner_did=learner_did, basis=VERIFICATION,
        checks=json.dumps(checks), static_status=str(static), status=str(static),
        valid_from=_seconds(summary.get("valid_from")),
        valid_until=_seconds(summary.get("valid_until")), suspended=False, key_retired=False,
        checked_at=stamp, issuer_did=summary.get("issuer"), **facts, **headings))
    settle(connection, and_(verdicts.c.source == source, verdicts.c.ref == ref))
    return True


def ensure_verdicts(connection: Connection, learner: dict, context: Callable[[], Context],
                    headings_of: Callable[[dict], dict]) -> int:
    """Store the missing verdicts of a learner's record on the caller's connection (its reads
    so far are ended; each store commits apart): delivered credentials (one statement, from the
    issuance records, run only when the learner holds more credentials than verdicts: two
    counts on indexes in one statement; a credential still waiting for its anchor keeps it
    running until anchored) and accepted deposits (each verified once, counted under
    `headings_of(document)`); how many were stored."""
    held = (select(func.count()).select_from(credentials)
            .where(credentials.c.learner_did == learner["did"]).scalar_subquery())
    kept = (select(func.count()).select_from(verdicts)
            .where(verdicts.c.learner_did == learner["did"], verdicts.c.source == ISSUED)
            .scalar_subquery())
    unchecked = exists().where(
        deposits.c.learner_id == learner["id"], deposits.c.status == "accepted",
        ~exists().where(verdicts.c.source == DEPOSIT, verdicts.c.ref == deposits.c.id))
    missing = (select(deposits.c.id, deposits.c.credential)
               .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted",
                      ~exists().where(verdicts.c.source == DEPOSIT,
                                      verdicts.c.ref == deposits.c.id)))
    behind, deposited = connection.execute(select(held != kept, unchecked)).one()
    waiting = list(connection.execute(missing)) if deposited else []
    if not (behind or waiting):
        return 0
    connection.rollback()
    stored = 0
    if behind:
        try:
            with connection.begin():
                stored += store_issued(connection,
                                       credentials.c.learner_did == learner["did"])
        except IntegrityError:
            pass  # another request stored them at the same moment
    if waiting:
        opened = context()
        for row in waiting:
            credential = json.loads(row.credential)
            try:
                with connection.begin():
                    stored += store_verified(connection, opened, DEPOSIT, row.id,
                                             learner["did"], credential, headings_of(credential))
            except IntegrityError:
                continue
    return stored


def rebuild_verdicts(engine: Engine, *, progress: Callable[[int], None] | None = None,
                     connections: int | None = None) -> int:
    """Store a verdict for every delivered credential that has none, in chunks by id (after a
    bulk load), on `connections` connections at once (one by default, PostgreSQL only: SQLite
    takes one writer); `progress` hears the running count. Deposits get theirs
    on the learner's next view. How many were stored. On PostgreSQL the table's statistics are
    refreshed each time it doubles, so each chunk's statements keep to the chunk's rows by index
    instead of scanning a table the planner last saw empty."""
    postgres = engine.dialect.name == "postgresql"
    parallel = (connections or 1) if postgres else 1

    def store(after: str, last: str) -> int:
        with engine.begin() as connection:
            return store_issued(connection, and_(credentials.c.id > after,
                                                 credentials.c.id <= last))

    total, analysed = 0, 0
    waiting: deque[Future[int]] = deque()
    with ThreadPoolExecutor(parallel) as pool:
        for after, last in _chunks(engine):
            waiting.append(pool.submit(store, after, last))
            while waiting and (len(waiting) > parallel or waiting[0].done()):
                total += waiting.popleft().result()
                if postgres and total >= 2 * max(analysed, CHUNK):
                    with engine.begin() as connection:
                        connection.exec_driver_sql(f"ANALYZE {verdicts.name}")
                    analysed = total
                if progress is not None:
                    progress(total)
        while waiting:
            total += waiting.popleft().result()
            if progress is not None:
                progress(total)
    return total


def _chunks(engine: Engine) -> Iterator[tuple[str, str]]:
    """The credentials in runs of `CHUNK` ids: each run's bounds (after, last]."""
    after = ""
    while True:
        with engine.connect() as connection:
            last = connection.execute(
                select(credentials.c.id).where(credentials.c.id > after)
                .order_by(credentials.c.id).offset(CHUNK - 1).limit(1)).scalar()
            if last is None:
                last = connection.execute(select(func.max(credentials.c.id))
                                          .where(credentials.c.id > after)).scalar()
        if last is None:
            return
        yield after, last
        after = last


# -- chain facts into the flags ------------------------------------------------------------------


def settle(connection: Connection, condition: ColumnElement[bool]) -> None:
    """Set the flags of the verdicts matching `condition` from every indexed chain event (for
    verdicts just stored: one index look-up per row and per retired key or suspended issuer)."""
    leaf = (select(chain_revocations.c.reason, chain_revocations.c.block)
            .where(chain_revocations.c.root == verdicts.c.root,
                   chain_revocations.c.digest == verdicts.c.digest))
    batch = (select(chain_revocations.c.reason, chain_revocations.c.block)
             .where(chain_revocations.c.root == verdicts.c.root,
                    chain_revocations.c.digest == EMPTY_DIGEST))
    for found, code in ((leaf, Code.REVOKED_CREDENTIAL), (batch, Code.REVOKED_BATCH)):
        connection.execute(update(verdicts).where(condition, exists(found)).values(
            revoked_code=str(code),
            revoked_reason=found.with_only_columns(chain_revocations.c.reason).scalar_subquery(),
            revoked_block=found.with_only_columns(chain_revocations.c.block).scalar_subquery()))
    suspended, retired = _registry_state(connection)
    if suspended:
        connection.execute(update(verdicts).where(
            condition, verdicts.c.issuer_id.in_(list(suspended))).values(suspended=True))
    for (issuer_id, public_key), cutoff in retired.items():
        connection.execute(update(verdicts).where(
            condition, verdicts.c.issuer_id == issuer_id, verdicts.c.public_key == public_key,
            verdicts.c.anchor_block >= cutoff).values(key_retired=True))
    connection.execute(update(verdicts).where(condition, verdicts.c.status != _combined())
                       .values(status=_combined()))


def refresh_from_chain(engine: Engine) -> int:
    """Apply the chain events indexed since the last refresh to the stored verdicts they touch
    (by batch root and digest, issuer, key), then, once the indexer's backfill of registry
    events has caught up, settle again the issuers it found events of behind this cursor; how
    many verdict rows changed (none for a change this bank made and applied already). The
    revocation watch calls it each pass, after indexing."""
    with engine.begin() as connection:
        marks = {row.name: row.block for row in connection.execute(
            select(cursor.c.name, cursor.c.block).where(cursor.c.name.in_(
                (INDEXER, INDEXER + REGISTRY_EVENTS, CURSOR, CURSOR + REGISTRY_EVENTS))))}
        indexed, done = marks.get(INDEXER), marks.get(CURSOR)
        if indexed is None:
            return 0
        since = -1 if done is None else done
        changed = 0
        revoked = connection.execute(
            select(chain_revocations).where(chain_revocations.c.block > since,
                                            chain_revocations.c.block <= indexed)
            .order_by(chain_revocations.c.block))
        for event in revoked:
            changed += _apply_revocation(connection, event.root, event.digest, event.reason,
                                         event.block)
        registry = connection.execute(
            select(issuer_events).where(issuer_events.c.block > since,
                                        issuer_events.c.block <= indexed)
            .order_by(issuer_events.c.block, issuer_events.c.log_index))
        for event in registry:
            changed += _apply_registry_event(connection, event)
        backfilled = marks.get(INDEXER + REGISTRY_EVENTS)
        seen = marks.get(CURSOR + REGISTRY_EVENTS)
        if backfilled is not None and backfilled >= indexed and seen != backfilled:
            if done is not None:
                changed += _settle_issuers(connection, -1 if seen is None else seen, done)
            _save_cursor(connection, CURSOR + REGISTRY_EVENTS, backfilled,
                         exists_already=seen is not None)
        if done is None or done < indexed:
            _save_cursor(connection, CURSOR, indexed, exists_already=done is not None)
    return changed


@follow
def apply_chain_change(connection: Connection, change: ChainChange) -> None:
    """Bring the verdicts a change this bank just made on chain touches up to date, in the
    transaction recording it (issuers.chain_changes calls it: this module follows them from
    its import); the watch's later pass over the same event changes nothing more."""
    if change.event in (ROOT_REVOKED, LEAF_REVOKED):
        assert change.root is not None and change.reason is not None
        _apply_revocation(connection, change.root, change.digest or EMPTY_DIGEST, change.reason,
                          change.block)
    else:
        _apply_registry_event(connection, change)


def _apply_revocation(connection: Connection, root: bytes, digest: bytes, reason: int,
                      block: int) -> int:
    """Mark revoked the verdicts of a batch (`digest` empty) or of one credential in it, unless
    marked so already; how many rows changed."""
    batch = digest == EMPTY_DIGEST
    target = ([verdicts.c.root == root, or_(verdicts.c.revoked_code.is_(None),
                                            verdicts.c.revoked_code != str(Code.REVOKED_BATCH))]
              if batch else [verdicts.c.root == root, verdicts.c.digest == digest,
                             verdicts.c.revoked_code.is_(None)])
    return connection.execute(update(verdicts).where(*target).values(
        revoked_code=str(Code.REVOKED_BATCH if batch else Code.REVOKED_CREDENTIAL),
        revoked_reason=reason, revoked_block=block, status=str(Status.INVALID))).rowcount


def _settle_issuers(connection: Connection, after: int, through: int) -> int:
    """Set the suspension and key flags of the verdicts of every issuer with registry events
    in blocks (`after`, `through`] (indexed late, by the backfill) from the registry's whole
    indexed history, not replaying them out of order; how many rows changed."""
    named = {bytes(issuer_id) for issuer_id in connection.execute(
        select(issuer_events.c.issuer_id).where(issuer_events.c.block > after,
                                                issuer_events.c.block <= through)
        .distinct()).scalars()}
    if not named:
        return 0
    suspended, retired = _registry_state(connection)
    changed = 0
    for issuer_id in named:
        now = issuer_id in suspended
        changed += connection.execute(update(verdicts).where(
            verdicts.c.issuer_id == issuer_id, verdicts.c.suspended.is_(not now)).values(
            suspended=now, status=_combined(suspended=now))).rowcount
    for (issuer_id, public_key), cutoff in retired.items():
        if issuer_id in named:
            changed += _apply_registry_event(connection, ChainChange(
                KEY_RETIRED, issuer_id, cutoff, public_key=public_key, retired_block=cutoff))
    return changed


def _apply_registry_event(connection: Connection, event: Any) -> int:
    """Suspend, reinstate or retire a key on the verdicts it touches (unless they show it
    already); how many rows changed."""
    of_issuer = verdicts.c.issuer_id == event.issuer_id
    if event.event == SUSPENDED:
        return connection.execute(update(verdicts).where(
            of_issuer, verdicts.c.suspended.is_(False)).values(
            suspended=True, status=str(Status.INVALID))).rowcount
    if event.event == REINSTATED:
        return connection.execute(update(verdicts).where(
            of_issuer, verdicts.c.suspended.is_(True)).values(
            suspended=False, status=_combined(suspended=False))).rowcount
    return connection.execute(update(verdicts).where(
        of_issuer, verdicts.c.public_key == event.public_key,
        verdicts.c.anchor_block >= event.retired_block, verdicts.c.key_retired.is_(False)
    ).values(key_retired=True, status=str(Status.INVALID))).rowcount


def _registry_state(connection: Connection) -> tuple[set[bytes], dict[tuple[bytes, bytes], int]]:
    """The issuers suspended now and each retired key's cut-off block, from the registry's
    indexed events (as many as suspensions and retirements ever, not as credentials)."""
    suspended: set[bytes] = set()
    retired: dict[tuple[bytes, bytes], int] = {}
    for event in connection.execute(select(issuer_events).order_by(
            issuer_events.c.block, issuer_events.c.log_index)):
        issuer_id = bytes(event.issuer_id)
        if event.event == SUSPENDED:
            suspended.add(issuer_id)
        elif event.event == REINSTATED:
            suspended.discard(issuer_id)
        else:
            key = (issuer_id, bytes(event.public_key))
            retired[key] = min(retired.get(key, event.retired_block), event.retired_block)
    return suspended, retired


def _combined(**now: bool) -> Any:
    """The stored status from the static verdict and the flags (`now` overrides a flag being
    set in the same statement)."""
    suspended = true() if now.get("suspended") else (
        false() if "suspended" in now else verdicts.c.suspended.is_(True))
    return case(
        (or_(verdicts.c.static_status == str(Status.INVALID),
             verdicts.c.revoked_code.is_not(None), suspended,
             verdicts.c.key_retired.is_(True)), str(Status.INVALID)),
        else_=verdicts.c.static_status)


def _save_cursor(connection: Connection, name: str, block: int, *, exists_already: bool) -> None:
    if exists_already:
        connection.execute(update(cursor).where(cursor.c.name == name).values(block=block))
    else:
        connection.execute(insert(cursor).values(name=name, block=block))


# -- showing verdicts ----------------------------------------------------------------------------


def stored_verdicts(connection: Connection,
                    keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The stored verdict rows of these (source, ref) keys (a page's worth)."""
    refs: dict[str, list[str]] = {}
    for source, ref in keys:
        refs.setdefault(source, []).append(ref)
    if not refs:
        return {}
    found = connection.execute(select(verdicts).where(or_(*(
        and_(verdicts.c.source == source, verdicts.c.ref.in_(listed))
        for source, listed in refs.items()))))
    return {(row.source, row.ref): row for row in found}


def shown(row: Any, ledger: LedgerView, now: float) -> Shown:
    """A stored verdict as of now: a revocation or key retirement already stored (they are never
    undone), the chain's mutable facts as `ledger` (the process's verify cache) holds them, and
    the validity window on the clock."""
    checks = {name: [Status(status), code, requires]
              for name, status, code, requires in json.loads(row.checks)}
    try:
        _overlay(checks, row, ledger)
    except LedgerError:
        checks["status"] = [Status.INDETERMINATE, str(Code.LEDGER_UNAVAILABLE), None]
    if checks.get("format", [Status.SKIPPED])[0] is Status.VALID:
        checks["validity"] = _validity(row, now)
    status = _verdict(check[0] for check in checks.values())
    if status is Status.VALID:
        return Shown(status, None)
    code = next(check[1] for check in checks.values() if check[0] is status)
    return Shown(status, None if code is None else Code(code))


def _overlay(checks: dict[str, list], row: Any, ledger: LedgerView) -> None:
    """Put the chain's mutable facts into the checks they decide."""
    key_binding, accreditation, status = (checks.get(name) for name in MUTABLE)
    if key_binding and key_binding[0] is Status.VALID and row.key_retired:
        checks["key_binding"] = [Status.INVALID, str(Code.KEY_RETIRED), None]
    elif key_binding and key_binding[0] is Status.VALID and row.issuer_id is not None \
            and row.public_key is not None and row.anchor_block is not None:
        key = ledger.key(bytes(row.issuer_id), bytes(row.public_key))
        if key is not None and key.retired_block and row.anchor_block >= key.retired_block:
            checks["key_binding"] = [Status.INVALID, str(Code.KEY_RETIRED), None]
    if accreditation and row.issuer_did and accreditation[1] != Code.ISSUER_NOT_ACCREDITED \
            and (accreditation[0] is not Status.SKIPPED or accreditation[2] == "anchor"):
        issuer = ledger.issuer_by_did(row.issuer_did)
        if issuer is not None and issuer.suspended:
            checks["accreditation"] = [Status.INVALID, str(Code.ISSUER_SUSPENDED), None]
    if status and status[0] is Status.VALID and row.revoked_code is not None:
        checks["status"] = [Status.INVALID, row.revoked_code, None]
    elif status and status[0] is Status.VALID and row.root is not None:
        root = bytes(row.root)
        if ledger.root_revocation(root) is not None:
            checks["status"] = [Status.INVALID, str(Code.REVOKED_BATCH), None]
        elif row.digest is not None and ledger.leaf_revocation(root, bytes(row.digest)):
            checks["status"] = [Status.INVALID, str(Code.REVOKED_CREDENTIAL), None]


def _validity(row: Any, now: float) -> list:
    if row.valid_from is not None and now < row.valid_from:
        return [Status.INVALID, str(Code.NOT_YET_VALID), None]
    if row.valid_until is not None and now >= row.valid_until:
        return [Status.INVALID, str(Code.EXPIRED), None]
    return [Status.VALID, None, None]


def counts_now(now: float) -> ColumnElement[bool]:
    """Whether a stored verdict counts as valid now (flags as of the last refresh, the validity
    window on the clock): for sums over a whole record in SQL."""
    return and_(verdicts.c.status == str(Status.VALID),
                or_(verdicts.c.valid_until.is_(None), verdicts.c.valid_until > now),
                or_(verdicts.c.valid_from.is_(None), verdicts.c.valid_from <= now))


def _verdict(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    if Status.INVALID in found:
        return Status.INVALID
    if Status.INDETERMINATE in found:
        return Status.INDETERMINATE
    return Status.VALID


def _facts(credential: dict, context: Context, anchor: dict) -> dict[str, Any]:
    """The chain facts a verified credential's verdict depends on (None where it has none)."""
    facts: dict[str, Any] = {"root": None, "digest": None, "issuer_id": None,
                             "public_key": None, "anchor_block": anchor.get("block")}
    try:
        proof = anchor_proof_of(credential)
        if proof is not None:
            facts["root"], facts["digest"] = proof.root, credential_digest(credential)
    except CredentialError:
        pass
    issuer = credential.get("issuer")
    did = issuer.get("id") if isinstance(issuer, dict) else issuer
    try:
        record = context.issuer(did) if isinstance(did, str) else None
    except LedgerError:
        record = None
    facts["issuer_id"] = None if record is None else record.issuer_id
    proofs = credential.get("proof")
    for proof_item in proofs if isinstance(proofs, list) else [proofs]:
        method = proof_item.get("verificationMethod") if isinstance(proof_item, dict) else None
        if isinstance(method, str):
            try:
                facts["public_key"] = dids.public_key_of(method)
                break
            except CredentialError:
                continue
    return facts


def _seconds(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_iso(text).timestamp()
    except ValueError:
        return None

