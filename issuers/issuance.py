"""Issuance: check outcomes, sign credentials, store each with its batch in one DB transaction."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from itertools import islice
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from credentials.canon import SAFE_NUMBER_RULE, unsafe_number
from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.merkle import credential_digest
from credentials.model import IssuerProfile, Result, achievement_credential
from credentials.proofs import sign
from credentials.status import StatusEntry, with_status
from infra.errors import Conflict, Forbidden, InvalidInput
from infra.settings import Settings
from infra.times import iso_utc
from issuers.catalogue import achievement_of, catalogue_of
from issuers.learners import learner_pepper, learner_ref
from issuers.registry import signing_key
from issuers.schemas import OutcomeSchema
from issuers.status import allocate, entries
from issuers.tables import batches, credentials

OUTCOME_FIELDS = tuple(OutcomeSchema().fields)
_OUTCOME = OutcomeSchema()
_LOOKUP_CHUNK = 500
_INSERT_CHUNK = 1_000
_WORKER_CHUNK = 64


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


@dataclass(frozen=True)
class Draft:
    """A checked outcome, as the unsigned credential it becomes and the keys it is stored under.

    `unsigned` is the credential, or a call that builds it where it is signed (so a signing
    process receives a few fields instead of the whole document). `credits`, `completed_on` and
    `valid_until` (unix seconds) are kept beside it, so a learner's record lists and the expiry
    scan runs without opening every document.
    `status_list` and `status_index` are where its status entries point, once allocated.
    """

    credential_id: str
    learner_did: str
    learner_hash: str
    unit_code: str
    unit_version: int
    session: str
    unsigned: dict | Callable[[], dict]
    credits: float | None = None
    completed_on: str | None = None
    valid_until: float | None = None
    status_list: int | None = None
    status_index: int | None = None


@dataclass(frozen=True)
class Signed:
    """A signed credential as stored: compact JSON text and its Merkle digest."""

    text: str
    digest: bytes


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
        raise InvalidInput(
            "the CSV file is not UTF-8 text", {"file": ["is not UTF-8 text"]}
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="\0extra")
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in OUTCOME_FIELDS]
    missing = [
        name for name, field in _OUTCOME.fields.items() if field.required and name not in header
    ]
    if unknown or missing:
        messages = [f"unknown column {name!r}" for name in unknown]
        messages += [f"missing column {name!r}" for name in missing]
        raise InvalidInput("the CSV header is wrong", {"file": {"line 1": {"header": messages}}})
    labels: list[str] = []
    rows: list[dict[str, object]] = []
    for row in reader:
        labels.append(f"line {reader.line_num}")
        if "\0extra" in row:
            rows.append({"\0extra": True})
            continue
        rows.append({name: value for name, value in row.items() if value not in (None, "")})
    if not rows:
        raise InvalidInput("the CSV file has no outcomes", {"file": ["has no outcome rows"]})
    return Outcomes(where="file", labels=tuple(labels), rows=tuple(rows))


def read_outcomes(data: bytes, filename: str) -> Outcomes:
    """Outcomes from a `.csv` or `.json` file's bytes."""
    if filename.lower().endswith(".csv"):
        return outcomes_from_csv(data)
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidInput("the file is not JSON", {"file": [f"is not JSON: {error}"]}) from None
    return outcomes_from_json(value)


class Signer:
    """Signs unsigned credentials with one key and cryptosuite, returning their stored form."""

    def __init__(self, key: SigningKey, verification_method: str, cryptosuite: str, created: str):
        self.key = key
        self.verification_method = verification_method
        self.cryptosuite = cryptosuite
        self.created = created

    def __call__(self, unsigned: dict | Callable[[], dict]) -> Signed:
        """Sign one credential (built first if it is given as a call)."""
        signed = sign(
            unsigned() if callable(unsigned) else unsigned,
            self.key,
            verification_method=self.verification_method,
            cryptosuite=self.cryptosuite,
            created=self.created,
        )
        text = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
        return Signed(text=text, digest=credential_digest(signed))


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
        outcomes: Outcomes,
        *,
        cryptosuite: str,
        processes: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> Issued:
        """Check every outcome, sign them all and store them; any bad outcome issues nothing.

        The credentials are stored as they are signed and committed with the caller's
        transaction on `connection`.
        """
        drafts = self.prepare(connection, issuer, outcomes)
        key_id, signed = self.sign(
            issuer, drafts, cryptosuite=cryptosuite, processes=processes, progress=progress
        )
        return self.store(connection, issuer["id"], key_id, drafts, signed)

    def sign(
        self,
        issuer: dict,
        drafts: Sequence[Draft],
        *,
        cryptosuite: str,
        processes: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, Iterator[Signed]]:
        """Sign drafts with the issuer's active key: the key's id, and the credentials in the
        drafts' order as they are signed (pass them to `store`)."""
        key_id, key = signing_key(self.engine, self.master_key, issuer["id"])
        signer = Signer(
            key,
            verification_method_id(issuer["did"], key.public_key),
            cryptosuite,
            iso_utc(time.time()),
        )
        return key_id, sign_all(drafts, signer, processes=processes, progress=progress)

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
                    _with_entries, draft.unsigned, entries(self.public_url, issuer_id, placement)
                ),
                status_list=placement.list,
                status_index=placement.index,
            )
            for draft, placement in zip(drafts, placements, strict=True)
        ]

    def prepare(self, connection: Connection, issuer: dict, outcomes: Outcomes) -> list[Draft]:
        """Check outcomes against the schema, the catalogue and what was issued before, and place
        each draft in the issuer's status lists (on the caller's transaction)."""
        check_may_issue(issuer)
        catalogue = catalogue_of(connection, issuer["id"])
        profile = IssuerProfile(
            did=issuer["did"], name=issuer["name"], name_zh=issuer["name_zh"], url=issuer["url"]
        )
        achievements: dict[tuple[str, int], Any] = {}
        today = datetime.now(UTC).date()
        errors: dict[str, object] = {}
        drafts: dict[str, Draft] = {}
        seen: dict[tuple[str, str, str], str] = {}
        for label, row in zip(outcomes.labels, outcomes.rows, strict=True):
            if not isinstance(row, dict):
                errors[label] = {"outcome": ["must be a JSON object"]}
                continue
            if "\0extra" in row:
                errors[label] = {"row": ["has more fields than the header"]}
                continue
            try:
                outcome = _OUTCOME.load(row)
            except ValidationError as error:
                errors[label] = error.messages
                continue
            problems, unit = _check(outcome, catalogue, today)
            try:
                learner = learner_ref(outcome["national_id"], self.pepper, self.did_host)
            except InvalidInput as error:
                problems.update(error.errors)
            if problems or unit is None:
                errors[label] = problems
                continue
            key = (learner.did, unit["code"], outcome["session"])
            if key in seen:
                errors[label] = {
                    "session": [f"repeats {seen[key]}: same learner, unit and session"]
                }
                continue
            seen[key] = label
            unit_key = (unit["code"], unit["version"])
            if unit_key not in achievements:
                achievements[unit_key] = achievement_of(unit)
            drafts[label] = _draft(outcome, unit, learner, profile, achievements[unit_key])
        for label, credential_id in _already_issued(connection, issuer["id"], drafts):
            errors[label] = {
                "session": [f"the learner already has {credential_id} for this unit and session"]
            }
        if errors:
            count = len(errors)
            what = "lines" if outcomes.where == "file" else "outcomes"
            raise InvalidInput(
                f"{count} of {len(outcomes.rows)} {what} are invalid; nothing was issued",
                {outcomes.where: errors},
            )
        return self.with_status(connection, issuer["id"], list(drafts.values()))

    def store(
        self,
        connection: Connection,
        issuer_id: str,
        key_id: int,
        drafts: Sequence[Draft],
        signed: Iterable[Signed],
    ) -> Issued:
        """Store the credentials in the issuer's open batch(es), closing each one that fills up.

        `signed` holds one credential per draft, in order; it is read as it is inserted.
        """
        now = time.time()
        issued: list[tuple[str, str, str]] = []
        items = iter(signed)
        start = 0
        try:
            while start < len(drafts):
                batch_id, position, room = self._claim(connection, issuer_id, len(drafts) - start)
                for first in range(start, start + room, _INSERT_CHUNK):
                    chunk = drafts[first : min(first + _INSERT_CHUNK, start + room)]
                    connection.execute(
                        insert(credentials),
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
                                "signed": item.text,
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


def sign_all(
    drafts: Sequence[Draft],
    signer: Signer,
    *,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Signed]:
    """Sign every draft, in order, as it is read: in this process or in a pool of `processes`
    spawned on the first read and ended when the iterator is exhausted or closed."""
    unsigned = (draft.unsigned for draft in drafts)
    if processes <= 1:
        yield from _counted(map(signer, unsigned), progress)
        return
    context = multiprocessing.get_context("spawn")
    options = (signer.key.seed, signer.verification_method, signer.cryptosuite, signer.created)
    with context.Pool(processes, initializer=_start_signer, initargs=options) as pool:
        signed = pool.imap(_sign_in_worker, unsigned, chunksize=_WORKER_CHUNK)
        yield from _counted(signed, progress)


_WORKER_SIGNER: Signer | None = None


def _start_signer(seed: bytes, verification_method: str, cryptosuite: str, created: str) -> None:
    global _WORKER_SIGNER
    _WORKER_SIGNER = Signer(SigningKey.from_seed(seed), verification_method, cryptosuite, created)


def _sign_in_worker(unsigned: dict | Callable[[], dict]) -> Signed:
    assert _WORKER_SIGNER is not None
    return _WORKER_SIGNER(unsigned)


def _counted(items: Iterable[Signed], progress: Callable[[int], None] | None) -> Iterable[Signed]:
    for item in items:
        if progress is not None:
            progress(1)
        yield item


def _with_entries(
    unsigned: dict | Callable[[], dict], status: tuple[StatusEntry, ...]
) -> dict:
    """The unsigned credential (built first if it is a call) carrying its status entries."""
    return with_status(unsigned() if callable(unsigned) else unsigned, status)


def _check(outcome: dict, catalogue: dict, today: date) -> tuple[dict, dict | None]:
    """Field errors of one outcome against the catalogue and the calendar, and its unit."""
    problems: dict[str, list[str]] = {
        name: ["must not be blank"] for name in ("grade", "session") if not outcome[name].strip()
    }
    versions = catalogue.get(outcome["unit"])
    if versions is None:
        problems["unit"] = [f"unknown unit {outcome['unit']!r}"]
        return problems, None
    version = outcome["unit_version"] or max(versions)
    unit = versions.get(version)
    if unit is None:
        problems["unit_version"] = [f"unit {outcome['unit']!r} has no version {version}"]
        return problems, None
    credits = outcome["credits"]
    if credits is not None and not 0 <= credits <= unit["credit_value"]:
        problems["credits"] = [
            f"must be between 0 and {unit['credit_value']:g}, the unit's credit value"
        ]
    completed, started = outcome["completed_on"], outcome["started_on"]
    if completed > today:
        problems["completed_on"] = ["is in the future"]
    elif not _within(completed, unit):
        window = f"{unit['valid_from']} to {unit['valid_until'] or 'open end'}"
        problems["completed_on"] = [
            f"is outside the validity of unit {unit['code']} v{unit['version']} ({window})"
        ]
    if started is not None and started > completed:
        problems["started_on"] = ["is after completed_on"]
    if outcome["valid_until"] is not None and outcome["valid_until"] <= completed:
        problems["valid_until"] = ["must be after completed_on"]
    return problems, unit


def _within(day: date, unit: dict) -> bool:
    text = day.isoformat()
    return unit["valid_from"] <= text and (
        unit["valid_until"] is None or text < unit["valid_until"]
    )


def _draft(
    outcome: dict, unit: dict, learner: Any, profile: IssuerProfile, achievement: Any
) -> Draft:
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    earned = unit["credit_value"] if outcome["credits"] is None else outcome["credits"]
    valid_until = outcome["valid_until"]
    unsigned = partial(
        achievement_credential,
        credential_id=credential_id,
        issuer=profile,
        learner=learner,
        achievement=achievement,
        result=Result(
            grade=outcome["grade"], scale=outcome["scale"], status=outcome["result_status"]
        ),
        credits_earned=earned,
        valid_from=f"{outcome['completed_on'].isoformat()}T00:00:00Z",
        valid_until=f"{valid_until.isoformat()}T00:00:00Z" if valid_until else None,
        activity_start=outcome["started_on"].isoformat() if outcome["started_on"] else None,
        activity_end=outcome["completed_on"].isoformat(),
        session=outcome["session"],
    )
    return Draft(
        credential_id=credential_id,
        learner_did=learner.did,
        learner_hash=learner.identifiers[0]["identityHash"],
        unit_code=unit["code"],
        unit_version=unit["version"],
        session=outcome["session"],
        unsigned=unsigned,
        credits=float(earned),
        completed_on=outcome["completed_on"].isoformat(),
        valid_until=_midnight_utc(valid_until),
    )


def _midnight_utc(day: date | None) -> float | None:
    """Unix seconds of a day's start in UTC (how a credential's `validUntil` is written)."""
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


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
