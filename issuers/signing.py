"""Issuance's work that needs no database: check outcomes against the units they name, build
their credentials and sign them, in this process or in a pool of signing processes.

Everything a task needs travels with it (the outcomes, their status places, the units they
name, the signer's options), so a signing process holds no database or chain connection.
"""

from __future__ import annotations

import json
import multiprocessing
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from multiprocessing.pool import Pool
from typing import Any

from marshmallow import ValidationError

from credentials.keys import SigningKey
from credentials.merkle import credential_digest
from credentials.model import Achievement, IssuerProfile, Result, achievement_credential
from credentials.proofs import sign
from credentials.status import StatusEntry, with_status
from infra.errors import InvalidInput
from issuers.catalogue import achievement_of
from issuers.learners import learner_ref
from issuers.schemas import OutcomeSchema

OUTCOME = OutcomeSchema()
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
    """A signed credential as stored: compact JSON text and its Merkle digest."""

    text: str
    digest: bytes


@dataclass(frozen=True)
class SignerOptions:
    """What a signer is made of, as it travels to a signing process: the key's seed, the
    verification method, the cryptosuite and the proofs' creation time."""

    seed: bytes
    verification_method: str
    cryptosuite: str
    created: str


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
    (list number, index and entries), and the units of the catalogue they name."""

    labels: tuple[str, ...]
    rows: tuple[object, ...]
    placements: tuple[tuple[int, int, tuple[StatusEntry, ...]], ...]
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
    (and `options` is given)."""
    achievements: dict[tuple[str, int], Achievement] = {}
    checked: list[tuple[str, Any, Draft | None]] = []
    for label, row, (number, index, entries) in zip(
        chunk.labels, chunk.rows, chunk.placements, strict=True
    ):
        problems, draft = check_outcome(checking, chunk.units, row, achievements)
        if draft is not None:
            draft = replace(draft, unsigned=partial(with_entries, draft.unsigned, entries),
                            status_list=number, status_index=index)
        checked.append((label, problems, draft))
    if options is None or any(draft is None for _, _, draft in checked):
        return [(label, problems, _stored(draft), None) for label, problems, draft in checked]
    signer = _signer(options)
    return [(label, None, _stored(draft), signer(draft.unsigned))
            for label, _, draft in checked if draft is not None]


@contextmanager
def signing_pool(processes: int) -> Iterator[Pool]:
    """A pool of `processes` signing processes (spawned: they share nothing with this one)."""
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        yield pool


_SIGNERS: dict[SignerOptions, Signer] = {}


def _signer(options: SignerOptions) -> Signer:
    """The signer of these options, made once per process."""
    if options not in _SIGNERS:
        _SIGNERS.clear()
        _SIGNERS[options] = Signer.of(options)
    return _SIGNERS[options]


def _stored(draft: Draft | None) -> Draft | None:
    """The draft without its document: what is stored beside the signed credential."""
    return None if draft is None else replace(draft, unsigned={})


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
