"""What the contracts record, as plain values read back from the chain."""

from __future__ import annotations

from dataclasses import dataclass


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
