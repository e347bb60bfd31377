"""One credential under verification, and the facts checks establish about it for later checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from credentials.anchoring import AnchorProof
from credentials.status import StatusEntry
from ledger.records import AnchorRecord
from verify.errors import Invalid

T = TypeVar("T")

Raw = bytes | str | dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """What the format check read from a well-formed credential."""

    issuer: str
    valid_from: datetime
    valid_until: datetime | None
    integrity_proof: dict[str, Any]
    kind: str
    level: int | None
    status: tuple[StatusEntry, ...] = ()


@dataclass(frozen=True)
class Anchoring:
    """A confirmed anchor: the credential's anchor proof and digest, and the chain's record."""

    proof: AnchorProof
    digest: bytes
    record: AnchorRecord


@dataclass
class Subject:
    """The raw input and the facts each check records for the checks after it."""

    raw: Raw
    document: dict[str, Any] | None = None
    credential_format: str | None = None
    facts: Facts | None = None
    public_key: bytes | None = None
    anchoring: Anchoring | Invalid | None = None


def known(value: T | None, check: str) -> T:
    """A fact the named check established; checks run only after the checks they require."""
    if value is None:
        raise RuntimeError(f"the {check} check has not established this fact")
    return value
