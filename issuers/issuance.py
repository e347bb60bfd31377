"""Issuance: check outcomes, sign credentials, store each with its batch in one DB transaction."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from credentials.canon import SAFE_NUMBER_RULE, unsafe_number
from credentials.dids import verification_method_id
from credentials.model import Achievement, IssuerProfile
from infra.errors import Conflict, Forbidden, InvalidInput
from infra.sealing import ring_of
from infra.settings import Settings
from infra.times import iso_utc
from issuers.aggregates import count_credentials
from issuers.catalogue import catalogue_of
from issuers.learners import learner_pepper
from issuers.registry import signing_key
from issuers.signing import (
    OUTCOME,
    SIGNED_COLUMN,
    Checked,
    Checking,
    Chunk,
    Draft,
    Sealing,
    Signed,
    Signer,
    SignerOptions,
    check_and_sign,
    check_outcome,
    signing_pool,
    with_entries,
)
from issuers.status import Placement, allocate, entries
from issuers.tables import batches, credentials, stored_credentials

__all__ = ["Draft", "Signed", "Signer"]

OUTCOME_FIELDS = tuple(OUTCOME.fields)
CHUNK = 500
"""Outcomes checked and signed in one task: a signing process's share of work between two
stores, small enough that a bad line stops the signing of what follows within a few chunks."""
_LOOKUP_CHUNK = 500
_INSERT_CHUNK = 1_000
_FIRST_ANALYZE = 20_000
"""Credentials one transaction stores before it refreshes PostgreSQL's statistics of the table
(then at twice as many each time): a large import in one transaction would otherwise look up
repeats with the plan of an empty table, scanning all the issuer's credentials per chunk."""


@dataclass(frozen=True)
class BatchPolicy:
    """When a batch closes: at `size` credentials, or `max_age` seconds after it opened."""

    size: int
    max_age: float

    @classmethod
    def of(cls, settings: Settings) -> BatchPolicy:
        """The policy the settings give (`CREDITBANK_BATCH_SIZE`, `CREDITBANK_BATCH_SECONDS`)."""
        return cls(size=settings.batch_size, max_age=settings.batch_seconds)


@dataclass(frozen=True)
class Outcomes:
    """Outcome documents and where each came from: `outcomes` index or `file` line."""

    where: str
    labels: tuple[str, ...]
    rows: tuple[object, ...]

    def labelled(self) -> Iterator[tuple[str, object]]:
        """Each outcome with its label, in order."""
        return zip(self.labels, self.rows, strict=True)


class OutcomeSource(Protocol):
    """Outcomes to issue: where they come from (`outcomes` or `file`) and each with its label."""

    @property
    def where(self) -> str:
        """`file` for the lines of a CSV file, `outcomes` for a JSON list."""

    def labelled(self) -> Iterator[tuple[str, object]]:
        """Each outcome with its label, in order."""


@dataclass(frozen=True)
class OutcomeFile:
    """Outcomes in a `.csv` or `.json` file, read as they are issued (a CSV file is never held
    in memory whole)."""

    path: Path

    @property
    def where(self) -> str:
        """`file` for a CSV file's lines, `outcomes` for a JSON file's list."""
        return "file" if self._is_csv else "outcomes"

    @property
    def _is_csv(self) -> bool:
        return self.path.name.lower().endswith(".csv")

    def estimate(self) -> int:
        """About how many outcomes the file holds (its lines), without parsing it."""
        with self.path.open("rb") as handle:
            lines = sum(block.count(b"\n") for block in iter(partial(handle.read, 1 << 20), b""))
        return max(lines - 1 if self._is_csv else lines, 1)

    def labelled(self) -> Iterator[tuple[str, object]]:
        """Each outcome with its label, read from the file as it is asked for."""
        if not self._is_csv:
            try:
                value = json.loads(self.path.read_bytes())
            except (UnicodeDecodeError, ValueError) as error:
                raise InvalidInput(
                    "the file is not JSON", {"file": [f"is not JSON: {error}"]}
                ) from None
            yield from outcomes_from_json(value).labelled()
            return
        count = 0
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            try:
                for item in _csv_rows(handle):
                    count += 1
                    yield item
            except UnicodeDecodeError:
                raise _not_utf8() from None
        if not count:
            raise _no_rows()


@dataclass(frozen=True)
class Issued:
    """What an issue request produced: each credential's id, learner and batch."""

    credentials: tuple[tuple[str, str, str], ...]

    def to_json(self) -> dict:
        """The API response body."""
        return {
            "credentials": [
                {"id": credential_id, "learner": learner, "batch": batch}
                for credential_id, learner, batch in self.credentials
            ],
            "batches": list(dict.fromkeys(batch for _, _, batch in self.credentials)),
        }


def outcomes_from_json(value: object) -> Outcomes:
    """Outcomes from parsed JSON: a list of objects, or {"outcomes": [...]}."""
    if isinstance(value, dict) and "outcomes" in value:
        value = value["outcomes"]
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            "send a non-empty list of outcomes", {"outcomes": ["must be a non-empty list"]}
        )
    unsafe = {str(index): where for index, row in enumerate(value)
              if (where := unsafe_number(row)) is not None}
    if unsafe:
        raise InvalidInput(
            f"{len(unsafe)} of {len(value)} outcomes hold a number JSON cannot carry exactly; "
            "nothing was issued",
            {"outcomes": {label: {where or "outcome": [SAFE_NUMBER_RULE]}
                          for label, where in unsafe.items()}},
        )
    return Outcomes(
        where="outcomes",
        labels=tuple(str(index) for index in range(len(value))),
        rows=tuple(value),
    )


def outcomes_from_csv(data: bytes) -> Outcomes:
    """Outcomes from a CSV file whose header names the outcome fields; empty cells are omitted."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_utf8() from None
    labelled = list(_csv_rows(io.StringIO(text, newline="")))
    if not labelled:
        raise _no_rows()
    return Outcomes(where="file", labels=tuple(label for label, _ in labelled),
                    rows=tuple(row for _, row in labelled))


def _csv_rows(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, object]]]:
    """Each row of CSV text whose header names the outcome fields, labelled by its line; empty
    cells are omitted, and a row longer than the header is marked."""
    reader = csv.DictReader(lines, restkey="\0extra")
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in OUTCOME_FIELDS]
    missing = [
        name for name, field in OUTCOME.fields.items() if field.required and name not in header
    ]
    if unknown or missing:
        messages = [f"unknown column {name!r}" for name in unknown]
        messages += [f"missing column {name!r}" for name in missing]
        raise InvalidInput("the CSV header is wrong", {"file": {"line 1": {"header": messages}}})
    for row in reader:
        label = f"line {reader.line_num}"
        if "\0extra" in row:
            yield label, {"\0extra": True}
            continue
        yield label, {name: value for name, value in row.items() if value not in (None, "")}


def _not_utf8() -> InvalidInput:
    return InvalidInput("the CSV file is not UTF-8 text", {"file": ["is not UTF-8 text"]})


def _no_rows() -> InvalidInput:
    return InvalidInput("the CSV file has no outcomes", {"file": ["has no outcome rows"]})


class Issuance:
    """Turns an issuer's outcomes into signed, stored, batched credentials."""

    def __init__(
        self,
        engine: Engine,
        *,
        master_key: bytes,
        did_host: str,
        policy: BatchPolicy,
        public_url: str,
    ) -> None:
        self.engine = engine
        self.master_key = master_key
        self.pepper = learner_pepper(master_key)
        self.did_host = did_host
        self.policy = policy
        self.public_url = public_url

    @classmethod
    def of(
        cls, engine: Engine, *, settings: Settings, policy: BatchPolicy | None = None
    ) -> Issuance:
        """Issuance over a database, with the settings' master key, DID host and batch policy."""
        return cls(
            engine,
            master_key=settings.master_key(),
            did_host=settings.did_host,
            policy=policy or BatchPolicy.of(settings),
            public_url=settings.public_url,
        )

    def issue(
        self,
        connection: Connection,
        issuer: dict,
        outcomes: OutcomeSource,
        *,
        cryptosuite: str,
        processes: int = 1,
        pool: Pool | None = None,
        progress: Callable[[int], None] | None = None,
        issued_at: float | None = None,
        status_apart: bool = False,
    ) -> Issued:
        """Check every outcome, sign them and store them; any bad outcome issues nothing.

        Outcomes are read, checked, signed and stored a chunk at a time on the caller's
        transaction: with `processes` > 1, a pool of signing processes checks and signs the
        next chunks while this process stores the last ones. A bad outcome raises InvalidInput
        naming every bad one once all are checked (signing stops a few chunks after the first),
        and the caller's transaction must then not commit. `pool`: the `processes` signing
        processes to use (from `signing_pool`) instead of making them. `progress` is told of
        each chunk stored; `issued_at` (unix seconds, default now) backdates their issuance, as
        the city demo's seasons do. `status_apart`: claim the first chunk's status places in a
        transaction of their own, committed at once, so that a request of up to CHUNK outcomes
        holds no lock while it is signed and concurrent requests of one issuer sign side by side
        (only when the caller's transaction has written nothing yet; a refused request then
        leaves those places unused, bits never set, at no cost).
        """
        check_may_issue(issuer)
        key_id, signer = self.signer(issuer, cryptosuite)
        issuing = _Issuing(self, connection, issuer, key_id,
                           replace(signer.options, sealing=self.sealing()), issued_at, progress,
                           status_apart=status_apart)
        chunks = _chunks(outcomes.labelled(), CHUNK)
        if pool is not None:
            _sign_in(pool, processes, issuing, chunks)
        elif processes > 1:
            with signing_pool(processes) as own:
                _sign_in(own, processes, issuing, chunks)
        else:
            for labels, rows in chunks:
                options = issuing.signing()
                issuing.take(check_and_sign(issuing.checking, options, issuing.chunk(labels, rows)))
        return issuing.result(outcomes.where)

    def sealing(self) -> Sealing:
        """How a signing process seals what it returns for storing: this master key, under the
        generation the database seals with now."""
        return Sealing(self.master_key, ring_of(self.engine).generation)

    def signer(self, issuer: dict, cryptosuite: str) -> tuple[int, Signer]:
        """The id of the issuer's active key, and a signer with it whose proofs are created now."""
        key_id, key = signing_key(self.engine, self.master_key, issuer["id"])
        signer = Signer(
            key,
            verification_method_id(issuer["did"], key.public_key),
            cryptosuite,
            iso_utc(time.time()),
        )
        return key_id, signer

    def sign(
        self, issuer: dict, drafts: Sequence[Draft], *, cryptosuite: str
    ) -> tuple[int, Iterator[Signed]]:
        """Sign drafts with the issuer's active key: the key's id, and the credentials in the
        drafts' order as they are signed (pass them to `store`)."""
        key_id, signer = self.signer(issuer, cryptosuite)
        return key_id, map(signer, (draft.unsigned for draft in drafts))

    def with_status(
        self, connection: Connection, issuer_id: str, drafts: Sequence[Draft]
    ) -> list[Draft]:
        """The drafts with their status entries, placed in the issuer's status lists on the
        caller's transaction (one claim per list, whatever the number of drafts)."""
        placements = allocate(connection, self.master_key, issuer_id, len(drafts))
        return [
            replace(
                draft,
                unsigned=partial(
                    with_entries, draft.unsigned, entries(self.public_url, issuer_id, placement)
                ),
                status_list=placement.list,
                status_index=placement.index,
            )
            for draft, placement in zip(drafts, placements, strict=True)
        ]

    def _keep_statistics(self, connection: Connection, stored: int) -> None:
        """On PostgreSQL, ANALYZE the credentials (this transaction's own rows included) each
        time the transaction has stored twice as many as at the last time."""
        if connection.dialect.name != "postgresql":
            return
        transaction = connection.get_transaction()
        seen = connection.info.get("credentials stored")
        if seen is None or seen[0] is not transaction:
            seen = connection.info["credentials stored"] = [transaction, 0, _FIRST_ANALYZE]
        seen[1] += stored
        if seen[1] >= seen[2]:
            connection.execute(text("ANALYZE credentials"))
            seen[2] = 2 * seen[1]

    def checking(self, issuer: dict) -> Checking:
        """What checking the issuer's outcomes needs, as of today."""
        return Checking(
            profile=IssuerProfile(did=issuer["did"], name=issuer["name"],
                                  name_zh=issuer["name_zh"], url=issuer["url"]),
            pepper=self.pepper,
            did_host=self.did_host,
            today=datetime.now(UTC).date(),
        )

    def prepare(self, connection: Connection, issuer: dict, outcomes: OutcomeSource) -> list[Draft]:
        """Check outcomes against the schema, the catalogue and what was issued before, and place
        each draft in the issuer's status lists (on the caller's transaction), for a caller that
        signs them itself."""
        check_may_issue(issuer)
        catalogue = catalogue_of(connection, issuer["id"])
        checking = self.checking(issuer)
        achievements: dict[tuple[str, int], Achievement] = {}
        verdicts = _Verdicts()
        drafts = verdicts.admit(connection, issuer["id"], [
            (label, *check_outcome(checking, catalogue, row, achievements))
            for label, row in outcomes.labelled()
        ])
        verdicts.refuse(outcomes.where)
        return self.with_status(connection, issuer["id"], list(drafts.values()))

    def store(
        self,
        connection: Connection,
        issuer_id: str,
        key_id: int,
        drafts: Sequence[Draft],
        signed: Iterable[Signed],
        *,
        issued_at: float | None = None,
    ) -> Issued:
        """Store the credentials in the issuer's open batch(es), closing each one that fills up.

        `signed` holds one credential per draft, in order; it is read as it is inserted (and
        sealed here unless a signing process sealed it). `issued_at` (unix seconds) backdates
        their issuance; the batches keep the real time.
        """
        now = time.time() if issued_at is None else issued_at
        ring = ring_of(connection.engine)
        issued: list[tuple[str, str, str]] = []
        items = iter(signed)
        start = 0
        try:
            while start < len(drafts):
                batch_id, position, room = self._claim(connection, issuer_id, len(drafts) - start)
                for first in range(start, start + room, _INSERT_CHUNK):
                    chunk = drafts[first : min(first + _INSERT_CHUNK, start + room)]
                    connection.execute(
                        insert(stored_credentials),
                        [
                            {
                                "id": draft.credential_id,
                                "issuer_id": issuer_id,
                                "learner_did": draft.learner_did,
                                "learner_hash": draft.learner_hash,
                                "unit_code": draft.unit_code,
                                "unit_version": draft.unit_version,
                                "session": draft.session,
                                "key_id": key_id,
                                "batch_id": batch_id,
                                "position": position + first - start + offset,
                                "digest": item.digest,
                                "signed": item.text if item.sealed
                                else ring.seal(item.text, SIGNED_COLUMN),
                                "valid_until": draft.valid_until,
                                "issued_at": now,
                                "credits": draft.credits,
                                "completed_on": draft.completed_on,
                                "status_list": draft.status_list,
                                "status_index": draft.status_index,
                            }
                            for offset, (draft, item) in enumerate(
                                zip(chunk, islice(items, len(chunk)), strict=True)
                            )
                        ],
                    )
                    issued.extend((d.credential_id, d.learner_did, batch_id) for d in chunk)
                start += room
            if next(items, None) is not None:
                raise ValueError("more signed credentials than drafts")
            count_credentials(connection, issuer_id,
                              Counter((d.unit_code, d.unit_version) for d in drafts), now)
            self._keep_statistics(connection, len(drafts))
        except IntegrityError:
            raise Conflict(
                "another request issued one of these outcomes meanwhile; nothing was issued",
                {"outcomes": ["a credential for the same learner, unit and session exists"]},
            ) from None
        return Issued(credentials=tuple(issued))

    def _claim(self, connection: Connection, issuer_id: str, wanted: int) -> tuple[str, int, int]:
        """Room for up to `wanted` credentials in the issuer's open batch (opened if none):
        returns (batch id, first position, count). A batch that fills up is closed."""
        now = time.time()
        while True:
            current = connection.execute(
                select(batches.c.id, batches.c.size).where(
                    batches.c.issuer_id == issuer_id, batches.c.status == "open"
                )
            ).first()
            if current is None:
                batch_id = str(uuid.uuid4())
                count = min(wanted, self.policy.size)
                connection.execute(
                    insert(batches).values(
                        id=batch_id, issuer_id=issuer_id, status="open", size=count, opened_at=now
                    )
                )
                self._close_if_full(connection, batch_id, count, now)
                return batch_id, 0, count
            count = max(0, min(wanted, self.policy.size - current.size))
            claimed = connection.execute(
                update(batches)
                .where(
                    batches.c.id == current.id,
                    batches.c.status == "open",
                    batches.c.size == current.size,
                )
                .values(size=current.size + count)
            )
            if claimed.rowcount == 1 and count > 0:
                self._close_if_full(connection, current.id, current.size + count, now)
                return current.id, current.size, count
            if claimed.rowcount == 1:
                self._close_if_full(connection, current.id, current.size, now)

    def _close_if_full(self, connection: Connection, batch_id: str, size: int, now: float) -> None:
        if size >= self.policy.size:
            connection.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(status="closed", closed_at=now)
            )


def check_may_issue(issuer: dict) -> None:
    """Refuse a suspended issuer, or one outside its accreditation window."""
    now = time.time()
    if issuer["suspended"]:
        raise Forbidden(f"issuer {issuer['id']!r} is suspended and may not issue")
    if now < issuer["valid_from"] or (issuer["valid_until"] and now >= issuer["valid_until"]):
        raise Forbidden(f"issuer {issuer['id']!r} is outside its accreditation window")


class _Verdicts:
    """The outcomes of one request checked so far: the bad ones' errors by label, and each
    learner, unit and session admitted (a second outcome for one is refused)."""

    def __init__(self) -> None:
        self.errors: dict[str, object] = {}
        self.seen: dict[tuple[str, str, str], str] = {}
        self.count = 0

    def admit(
        self, connection: Connection, issuer_id: str,
        checked: Sequence[tuple[str, Any, Draft | None]],
    ) -> dict[str, Draft]:
        """The drafts of checked outcomes that are valid, repeat no earlier one and no stored
        credential; the others' errors are kept."""
        self.count += len(checked)
        drafts: dict[str, Draft] = {}
        for label, problems, draft in checked:
            if draft is None:
                self.errors[label] = problems
                continue
            key = (draft.learner_did, draft.unit_code, draft.session)
            if key in self.seen:
                self.errors[label] = {
                    "session": [f"repeats {self.seen[key]}: same learner, unit and session"]
                }
                continue
            self.seen[key] = label
            drafts[label] = draft
        for label, credential_id in _already_issued(connection, issuer_id, drafts):
            self.errors[label] = {
                "session": [f"the learner already has {credential_id} for this unit and session"]
            }
            del drafts[label]
        return drafts

    def refuse(self, where: str) -> None:
        """Raise InvalidInput naming every bad outcome, if there is one."""
        if self.errors:
            what = "lines" if where == "file" else "outcomes"
            raise InvalidInput(
                f"{len(self.errors)} of {self.count} {what} are invalid; nothing was issued",
                {where: self.errors},
            )


class _Issuing:
    """One issue request in the process that stores it: the placement of each chunk, the
    verdicts so far, and what was stored while every outcome was valid."""

    def __init__(self, issuance: Issuance, connection: Connection, issuer: dict, key_id: int,
                 options: SignerOptions, issued_at: float | None,
                 progress: Callable[[int], None] | None, *, status_apart: bool) -> None:
        self.issuance = issuance
        self.connection = connection
        self.issuer_id = issuer["id"]
        self.key_id = key_id
        self.options = options
        self.issued_at = issued_at
        self.progress = progress
        self.catalogue = catalogue_of(connection, self.issuer_id)
        self.checking = issuance.checking(issuer)
        self.verdicts = _Verdicts()
        self.issued: list[tuple[str, str, str]] = []
        self.reserved = not status_apart

    def chunk(self, labels: tuple[str, ...], rows: tuple[object, ...]) -> Chunk:
        """A task of outcomes, each placed in the issuer's status lists, with the units of the
        catalogue they name: on the caller's transaction, but for a first chunk whose places are
        claimed apart (see `Issuance.issue`)."""
        if self.reserved:
            placements = allocate(self.connection, self.issuance.master_key, self.issuer_id,
                                  len(rows))
        else:
            with self.issuance.engine.begin() as own:
                placements = allocate(own, self.issuance.master_key, self.issuer_id, len(rows))
        self.reserved = True
        named = {row.get("unit") for row in rows if isinstance(row, dict)}
        public_url = self.issuance.public_url
        return Chunk(
            labels=labels,
            rows=rows,
            placements=tuple((placement.list, placement.index) for placement in placements),
            lists={number: tuple((entry.purpose, entry.list_url) for entry in entries(
                       public_url, self.issuer_id, Placement(number, 0)))
                   for number in {placement.list for placement in placements}},
            units={code: self.catalogue[code] for code in named
                   if isinstance(code, str) and code in self.catalogue},
        )

    def signing(self) -> SignerOptions | None:
        """The signer's options while every outcome so far is valid; None (check only) after."""
        return None if self.verdicts.errors else self.options

    def take(self, checked: list[Checked]) -> None:
        """Judge a checked chunk and, while every outcome so far is valid, store it."""
        signed = {label: item for label, _, _, item in checked}
        drafts = self.verdicts.admit(
            self.connection, self.issuer_id,
            [(label, problems, draft) for label, problems, draft, _ in checked],
        )
        if self.verdicts.errors or not drafts:
            return
        items = [signed[label] for label in drafts]
        stored = self.issuance.store(
            self.connection, self.issuer_id, self.key_id, list(drafts.values()),
            [item for item in items if item is not None], issued_at=self.issued_at,
        )
        self.issued.extend(stored.credentials)
        if self.progress is not None:
            self.progress(len(stored.credentials))

    def result(self, where: str) -> Issued:
        """What was issued, or InvalidInput naming every bad outcome."""
        self.verdicts.refuse(where)
        return Issued(credentials=tuple(self.issued))


def _sign_in(pool: Pool, processes: int, issuing: _Issuing,
             chunks: Iterator[tuple[tuple[str, ...], tuple[object, ...]]]) -> None:
    """Check and sign the chunks in the pool's processes, storing each as it comes back (up to
    two chunks a process signed ahead)."""
    pending: deque[AsyncResult[list[Checked]]] = deque()
    for labels, rows in chunks:
        task = (issuing.checking, issuing.signing(), issuing.chunk(labels, rows))
        pending.append(pool.apply_async(check_and_sign, task))
        if len(pending) > 2 * processes:
            issuing.take(pending.popleft().get())
    while pending:
        issuing.take(pending.popleft().get())


def _chunks(
    labelled: Iterator[tuple[str, object]], size: int
) -> Iterator[tuple[tuple[str, ...], tuple[object, ...]]]:
    """Labels and outcomes, `size` at a time."""
    while batch := list(islice(labelled, size)):
        yield tuple(label for label, _ in batch), tuple(row for _, row in batch)


def _already_issued(
    connection: Connection, issuer_id: str, drafts: Mapping[str, Draft]
) -> list[tuple[str, str]]:
    """(label, existing credential id) for each draft that repeats a stored credential."""
    by_key = {(d.learner_did, d.unit_code, d.session): label for label, d in drafts.items()}
    learners = sorted({draft.learner_did for draft in drafts.values()})
    found = []
    for start in range(0, len(learners), _LOOKUP_CHUNK):
        query = select(
            credentials.c.learner_did,
            credentials.c.unit_code,
            credentials.c.session,
            credentials.c.id,
        ).where(
            credentials.c.issuer_id == issuer_id,
            credentials.c.learner_did.in_(learners[start : start + _LOOKUP_CHUNK]),
        )
        for row in connection.execute(query):
            label = by_key.get((row.learner_did, row.unit_code, row.session))
            if label is not None:
                found.append((label, row.id))
    return found
