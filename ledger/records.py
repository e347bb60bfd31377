"""What the contracts record, as plain values read back from the chain."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@enum.unique
class RevocationReason(enum.IntEnum):
    """Why an issuer revoked a batch or a credential: the uint16 reason code stored on chain."""

    UNSPECIFIED = 1
    KEY_COMPROMISE = 2
    ISSUED_IN_ERROR = 3
    SUPERSEDED = 4
    FRAUD = 5
    WITHDRAWN_BY_ISSUER = 6

    @property
    def label(self) -> str:
        """The reason in plain words, e.g. "issued in error"."""
        return self.name.lower().replace("_", " ")


def revocation_reason_label(reason: int) -> str:
    """Plain words for an on-chain reason code, also for codes this version does not know."""
    try:
        return RevocationReason(reason).label
    except ValueError:
        return f"unknown reason ({reason})"


@dataclass(frozen=True)
class AnchorRecord:
    """A batch root anchored on chain: by which issuer and account, in which block."""

    root: bytes
    issuer_id: bytes
    sender: str
    block: int
    timestamp: int


@dataclass(frozen=True)
class Revocation:
    """A revocation of a root or a leaf, with its reason code and block."""

    reason: int
    block: int


@dataclass(frozen=True)
class IssuerRecord:
    """An issuer's accreditation as the registry holds it now."""

    issuer_id: bytes
    did: str
    kind_mask: int
    level_mask: int
    valid_from: int
    valid_until: int
    suspended: bool


@dataclass(frozen=True)
class KeyRecord:
    """An issuer's signing key: valid from its registration block until retired (0 = active)."""

    public_key: bytes
    registered_block: int
    retired_block: int


@dataclass(frozen=True)
class RuleSetRecord:
    """A published rule-set version: its owner, content hash, and publication and approval
    blocks (approval 0 = not approved)."""

    rule_set_key: bytes
    version: int
    owner_id: bytes
    content_hash: bytes
    published_block: int
    approved_block: int
