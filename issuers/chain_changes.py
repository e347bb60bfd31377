"""What this bank's workers changed on chain (a revocation, a key retired), told to whatever keeps
state derived from the chain's events in the transaction that records the change, once its
transaction is mined: the bank's stored verdicts are right at once, not at the revocation watch's
next pass. The watch still brings in changes made elsewhere, and the operator's suspensions and
reinstatements, which touch every credential of an issuer and so stay out of the request.

A follower must be idempotent: the watch later indexes the same event and applies it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

ROOT_REVOKED = "RootRevoked"
LEAF_REVOKED = "LeafRevoked"
SUSPENDED = "Suspended"
REINSTATED = "Reinstated"
KEY_RETIRED = "KeyRetired"


@dataclass(frozen=True)
class ChainChange:
    """One change mined on chain, named and shaped as the indexer records its event: `event`
    one of the names above, `issuer_id` the issuer's id on chain; a revocation's `root`,
    `digest` (a leaf's) and `reason`; a retired key's `public_key` and `retired_block`."""

    event: str
    issuer_id: bytes
    block: int
    root: bytes | None = None
    digest: bytes | None = None
    reason: int | None = None
    public_key: bytes | None = None
    retired_block: int | None = None


Follower = Callable[[Connection, ChainChange], None]
_followers: list[Follower] = []


def follow(follower: Follower) -> Follower:
    """Tell `follower` every change this process makes on chain from now on (once however often
    it is registered); returns it, so it can decorate."""
    if follower not in _followers:
        _followers.append(follower)
    return follower


def changed(connection: Connection, change: ChainChange) -> None:
    """Tell every follower of a change just mined, on the connection recording it."""
    for follower in _followers:
        follower(connection, change)
