"""Issuance's work that needs no database: check outcomes against the units they name, build
their credentials and sign them, in this process or in a pool of signing processes.

Everything a task needs travels with it (the outcomes, their status places, the units they
name, the signer's options), so a signing process holds no database or chain connection.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from importlib.machinery import ModuleSpec
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from credentials.anchoring import attach_anchor_text
from credentials.keys import SigningKey
from credentials.merkle import credential_digest
from credentials.model import Achievement, IssuerProfile, Result, achievement_credential
from credentials.proofs import sign
from credentials.status import StatusEntry, with_status
from infra.errors import InvalidInput
from infra.keyring import KeyRing
from infra.secrets import write_private
from issuers.outcomes import OutcomeSchema, achievement_of, learner_ref

OUTCOME = OutcomeSchema()
SIGNED_COLUMN = "credentials.signed"
ANCHORED_COLUMN = "credentials.anchored"
Catalogue = Mapping[str, Mapping[int, dict]]
"""An issuer's units: code → version → unit row."""


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
    """A signed credential as stored: compact JSON text (`sealed`: that text sealed for the
    `credentials.signed` column, as a signing process returns it) and its Merkle digest."""

    text: str
    digest: bytes
    sealed: bool = False


@dataclass(frozen=True)
class Sealing:
    """The master key and the key generation a signing process seals stored texts with."""

    master_key: bytes
    generation: int

    def ring(self) -> KeyRing:
        """The key ring of this master key sealing under this generation, made once per
        process."""
        if self not in _RINGS:
            _RINGS[self] = KeyRing(self.master_key, self.generation)
        return _RINGS[self]


@dataclass(frozen=True)
class SignerOptions:
    """What a signer is made of, as it travels to a signing process: the key's seed, the
    verification method, the cryptosuite and the proofs' creation time."""

    seed: bytes
    verification_method: str
    cryptosuite: str
    created: str
    sealing: Sealing | None = None


class Signer:
    """Signs unsigned credentials with one key and cryptosuite, returning their stored form."""

    def __init__(self, key: SigningKey, verification_method: str, cryptosuite: str, created: str):
        self.key = key
        self.verification_method = verification_method
        self.cryptosuite = cryptosuite
        self.created = created

    @classmethod
    def of(cls, options: SignerOptions) -> Signer:
        """The signer the options describe."""
        return cls(SigningKey.from_seed(options.seed), options.verification_method,
                   options.cryptosuite, options.created)

    @property
    def options(self) -> SignerOptions:
        """The options that make this signer again in another process."""
        return SignerOptions(self.key.seed, self.verification_method, self.cryptosuite,
                             self.created)

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


@dataclass(frozen=True)
class Checking:
    """What checking an issuer's outcomes needs besides their units: the issuer as credentials
    name it, the learner pepper, the DID host and today's date."""

    profile: IssuerProfile
    pepper: bytes
    did_host: str
    today: date


@dataclass(frozen=True)
class Chunk:
    """Consecutive outcomes to check and sign in one task, each with its status placement
    (list number and index), the (purpose, URL) of each of those lists' entries by list number,
    and the units of the catalogue they name."""

    labels: tuple[str, ...]
    rows: tuple[object, ...]
    placements: tuple[tuple[int, int], ...]
    lists: Mapping[int, tuple[tuple[str, str], ...]]
    units: Catalogue


Checked = tuple[str, Any, Draft | None, Signed | None]
"""One outcome checked: its label, its field errors (None when it is valid), its draft (the
document left out) and its signed credential (None when the chunk was not signed)."""


def check_outcome(
    checking: Checking, units: Catalogue, row: object,
    achievements: dict[tuple[str, int], Achievement],
) -> tuple[Any, Draft | None]:
    """One outcome's field errors (None if it has none) and, when it has none, its draft
    (without status); `achievements` caches each unit's achievement."""
    if not isinstance(row, dict):
        return {"outcome": ["must be a JSON object"]}, None
    if "\0extra" in row:
        return {"row": ["has more fields than the header"]}, None
    try:
        outcome = OUTCOME.load(row)
    except ValidationError as error:
        return error.messages, None
    problems, unit = _check(outcome, units, checking.today)
    try:
        learner = learner_ref(outcome["national_id"], checking.pepper, checking.did_host)
    except InvalidInput as error:
        problems.update(error.errors)
    if problems or unit is None:
        return problems, None
    unit_key = (unit["code"], unit["version"])
    if unit_key not in achievements:
        achievements[unit_key] = achievement_of(unit)
    return None, _draft(outcome, unit, learner, checking.profile, achievements[unit_key])


def check_and_sign(
    checking: Checking, options: SignerOptions | None, chunk: Chunk
) -> list[Checked]:
    """Check every outcome of a chunk; sign them all with `options` when every one is valid
    (and `options` is given), sealed for storing when the options say how."""
    achievements: dict[tuple[str, int], Achievement] = {}
    checked: list[tuple[str, Any, Draft | None, Callable[[], dict] | None]] = []
    for label, row, (number, index) in zip(
        chunk.labels, chunk.rows, chunk.placements, strict=True
    ):
        problems, draft = check_outcome(checking, chunk.units, row, achievements)
        if draft is None:
            checked.append((label, problems, None, None))
            continue
        entries = tuple(StatusEntry(purpose, url, index) for purpose, url in chunk.lists[number])
        checked.append((label, problems,
                        replace(draft, unsigned={}, status_list=number, status_index=index),
                        partial(with_entries, draft.unsigned, entries)))
    if options is None or any(draft is None for _, _, draft, _ in checked):
        return [(label, problems, draft, None) for label, problems, draft, _ in checked]
    signer = _signer(options)
    ring = None if options.sealing is None else options.sealing.ring()
    return [(label, None, draft, _sealed(signer(unsigned), ring))
            for label, _, draft, unsigned in checked if unsigned is not None]


@contextmanager
def signing_pool(processes: int) -> Iterator[Pool]:
    """A pool of `processes` signing processes (spawned: they share nothing with this one, and
    import only what their tasks need: this module's imports)."""
    with _main_not_rerun():
        pool = multiprocessing.get_context("spawn").Pool(processes, initializer=_leave_interrupts)
    with pool:
        yield pool


def _leave_interrupts() -> None:
    """A signing process leaves Ctrl-C to the process that started it, which ends the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _main_not_rerun() -> Iterator[None]:
    """While processes are spawned, the main module passes for a package's `__main__`, which
    `multiprocessing` does not re-run in them: a signing process needs nothing of the parent's
    main script (the `creditbank` command imports every room: seconds of CPU a process)."""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    main.__spec__ = ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = spec


_SIGNERS: dict[SignerOptions, Signer] = {}
_RINGS: dict[Sealing, KeyRing] = {}


def sign_with(options: SignerOptions, unsigned: dict | Callable[[], dict]) -> Signed:
    """One credential signed by the signer of `options` (a task of a signing pool)."""
    return _signer(options)(unsigned)


def _signer(options: SignerOptions) -> Signer:
    """The signer of these options, made once per process."""
    if options not in _SIGNERS:
        _SIGNERS.clear()
        _SIGNERS[options] = Signer.of(options)
    return _SIGNERS[options]


def _sealed(signed: Signed, ring: KeyRing | None) -> Signed:
    """The signed credential with its text sealed for storing (as it is without a ring)."""
    if ring is None:
        return signed
    return Signed(ring.seal(signed.text, SIGNED_COLUMN), signed.digest, sealed=True)


@dataclass(frozen=True)
class Anchored:
    """Where a batch's root is anchored, and a folder its credentials are also written to."""

    chain_id: int
    contract: str
    transaction_hash: str
    root: bytes
    deliver_to: Path | None = None


Stored = tuple[str, str | None, str | None, tuple[bytes, ...]]
"""A credential of a batch as stored: its id, sealed signed and anchored texts and its path in
the batch's Merkle tree."""


def anchor_sealed(
    sealing: Sealing, anchored: Anchored, rows: list[Stored]
) -> list[tuple[str, str]]:
    """`anchor_stored` in a signing process, with the keys `sealing` names."""
    return anchor_stored(sealing.ring(), anchored, rows)


def anchor_stored(ring: KeyRing, anchored: Anchored, rows: list[Stored]) -> list[tuple[str, str]]:
    """(id, anchored text sealed for storing) of each credential still holding its signed text,
    that text with its anchor proof spliced in; every credential (anchored earlier ones too) is
    written to `deliver_to` when it is given."""
    done = []
    for credential_id, signed, stored_anchored, path in rows:
        if signed is not None:
            text = attach_anchor_text(
                ring.open(signed, SIGNED_COLUMN), chain_id=anchored.chain_id,
                contract=anchored.contract, transaction_hash=anchored.transaction_hash,
                root=anchored.root, path=path)
            done.append((credential_id, ring.seal(text, ANCHORED_COLUMN)))
        elif stored_anchored is not None and anchored.deliver_to is not None:
            text = ring.open(stored_anchored, ANCHORED_COLUMN)
        else:
            continue
        if anchored.deliver_to is not None:
            write_private(anchored.deliver_to / f"{credential_id.removeprefix('urn:uuid:')}.json",
                          text)
    return done


def with_entries(
    unsigned: dict | Callable[[], dict], status: tuple[StatusEntry, ...]
) -> dict:
    """The unsigned credential (built first if it is a call) carrying its status entries."""
    return with_status(unsigned() if callable(unsigned) else unsigned, status)


def _check(outcome: dict, catalogue: Catalogue, today: date) -> tuple[dict, dict | None]:
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
    outcome: dict, unit: dict, learner: Any, profile: IssuerProfile, achievement: Achievement
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
