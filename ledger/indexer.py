"""Follows the anchor contract's revocation events and the registry's suspensions,
reinstatements and key retirements into SQL tables, so that the bank's revocation watch never
scans the chain; registry events from before the indexer followed them (migration 0016) are
backfilled once, a bounded range at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    select,
)
from web3 import Web3
from web3.types import LogReceipt

from infra.metadata import metadata
from ledger.client import Ledger
from ledger.errors import translated

CONTRACT = "CredentialAnchor"
REGISTRY = "IssuerRegistry"

cursor = Table(
    "ledger_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("block", BigInteger, nullable=False),
)
revocations = Table(
    "ledger_revocations",
    metadata,
    Column("root", LargeBinary(32), primary_key=True),
    Column("digest", LargeBinary(32), primary_key=True),
    Column("issuer_id", LargeBinary(32), nullable=False),
    Column("reason", Integer, nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Index("ix_ledger_revocations_block", "block"),
)
issuer_events = Table(
    "ledger_issuer_events",
    metadata,
    Column("block", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("event", String(16), nullable=False),
    Column("issuer_id", LargeBinary(32), nullable=False),
    Column("public_key", LargeBinary(32)),
    Column("retired_block", BigInteger),
)
"""The registry's events that change what a verifier concludes of credentials already anchored
(an issuer suspended or reinstated, a key retired from a block on), in chain order."""
EMPTY_DIGEST = bytes(32)
REGISTRY_EVENTS = ".issuer-events"
"""Suffix of the cursor up to which the registry's events are indexed: the indexer's own in
step, behind it only in a bank upgraded from before migration 0016 (when the indexer followed
revocations alone) until the backfill catches up."""
BACKFILL_STEP = 5_000
BACKFILL_SECONDS = 2.0


@dataclass(frozen=True)
class Event:
    """One decoded contract event, with where it happened."""

    name: str
    args: dict[str, Any]
    block: int
    tx_hash: str
    log_index: int = 0


class Indexer:
    """Copies the anchor contract's revocation events into SQL tables and resumes where it
    stopped."""

    def __init__(self, ledger: Ledger, engine: Engine, *, name: str = "default") -> None:
        if ledger.deployment is None:
            raise ValueError("the indexer needs a deployment")
        self.ledger = ledger
        self.engine = engine
        self.name = name
        self._addresses = [Web3.to_checksum_address(ledger.deployment.address(name))
                           for name in (CONTRACT, REGISTRY)]
        self._registry = self._addresses[1]
        self._handlers: dict[str, Callable[[Connection, Event], None]] = {
            "RootRevoked": self._root_revoked,
            "LeafRevoked": self._leaf_revoked,
            "Suspended": self._issuer_event,
            "Reinstated": self._issuer_event,
            "KeyRetired": self._issuer_event,
        }
        self._decoders = self._event_decoders()

    def indexed_block(self) -> int:
        """The last block whose events are in the tables (one before the deployment if none)."""
        with self.engine.connect() as connection:
            block = connection.scalar(select(cursor.c.block).where(cursor.c.name == self.name))
        assert self.ledger.deployment is not None
        return block if block is not None else self.ledger.deployment.block - 1

    def registry_block(self) -> int:
        """The last block whose registry events are in the tables (one before the deployment
        if none: a bank that never indexed them)."""
        with self.engine.connect() as connection:
            block = connection.scalar(select(cursor.c.block).where(
                cursor.c.name == self.name + REGISTRY_EVENTS))
        assert self.ledger.deployment is not None
        return block if block is not None else self.ledger.deployment.block - 1

    def sync(self, *, to_block: int | None = None, step: int = 2000) -> int:
        """Index every event up to `to_block` (default: the head), then backfill for a bounded
        while the registry events a bank upgraded from before migration 0016 never indexed
        (`backfill`); returns how many were indexed."""
        head = self.ledger.block_number() if to_block is None else to_block
        count = 0
        start = self.indexed_block() + 1
        registry = self.registry_block()
        while start <= head:
            end = min(start + step - 1, head)
            events = self._events(start, end, self._addresses)
            with self.engine.begin() as connection:
                for event in events:
                    self._handlers[event.name](connection, event)
                self._save_cursor(connection, self.name, end)
                if registry == start - 1:
                    self._save_cursor(connection, self.name + REGISTRY_EVENTS, end)
                    registry = end
            count += len(events)
            start = end + 1
        return count + self.backfill()

    def backfill(self, *, step: int = BACKFILL_STEP, seconds: float = BACKFILL_SECONDS) -> int:
        """Index the registry's events from its cursor up to the indexer's, in ranges of `step`
        blocks each committed with its cursor (an interrupted backfill resumes), one range and
        then more for about `seconds` a call at most (normal indexing waits no longer); how many
        were indexed."""
        deadline = time.monotonic() + seconds
        registry, indexed = self.registry_block(), self.indexed_block()
        count = 0
        while registry < indexed:
            end = min(registry + step, indexed)
            events = self._events(registry + 1, end, [self._registry])
            with self.engine.begin() as connection:
                for event in events:
                    self._handlers[event.name](connection, event)
                self._save_cursor(connection, self.name + REGISTRY_EVENTS, end)
            count += len(events)
            registry = end
            if time.monotonic() >= deadline:
                break
        return count

    def _events(self, start: int, end: int, addresses: list[ChecksumAddress]) -> list[Event]:
        """Decoded events we index in a block range of these contracts, in chain order."""
        with translated():
            logs = self.ledger.w3.eth.get_logs(
                {"fromBlock": start, "toBlock": end, "address": addresses}
            )
        return [event for event in (self._decode(log) for log in logs) if event is not None]

    def _decode(self, log: LogReceipt) -> Event | None:
        """A log as one of our events, or None for events we do not index."""
        if not log["topics"]:
            return None
        found = self._decoders.get(bytes(log["topics"][0]))
        if found is None:
            return None
        contract, name = found
        with translated():
            data = self.ledger._contract(contract).events[name]().process_log(log)
        return Event(
            name=name,
            args=dict(data["args"]),
            block=int(log["blockNumber"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            log_index=int(log["logIndex"]),
        )

    def _event_decoders(self) -> dict[bytes, tuple[str, str]]:
        """The contract and name of every event we index, by topic 0."""
        decoders = {}
        for contract in (CONTRACT, REGISTRY):
            events = self.ledger._contract(contract).events
            for name in self._handlers:
                if hasattr(events, name):
                    topic = events[name]().topic.removeprefix("0x")
                    decoders[bytes.fromhex(topic)] = (contract, name)
        return decoders

    def _save_cursor(self, connection: Connection, name: str, block: int) -> None:
        updated = connection.execute(
            cursor.update().where(cursor.c.name == name).values(block=block)
        )
        if updated.rowcount == 0:
            connection.execute(cursor.insert().values(name=name, block=block))

    def _root_revoked(self, connection: Connection, event: Event) -> None:
        self._revoked(connection, event, EMPTY_DIGEST)

    def _leaf_revoked(self, connection: Connection, event: Event) -> None:
        self._revoked(connection, event, bytes(event.args["digest"]))

    def _revoked(self, connection: Connection, event: Event, digest: bytes) -> None:
        _upsert(
            connection,
            revocations,
            {"root": bytes(event.args["root"]), "digest": digest},
            {
                "issuer_id": bytes(event.args["issuerId"]),
                "reason": event.args["reason"],
                "block": event.block,
                "tx_hash": event.tx_hash,
            },
        )


    def _issuer_event(self, connection: Connection, event: Event) -> None:
        _upsert(
            connection,
            issuer_events,
            {"block": event.block, "log_index": event.log_index},
            {
                "event": event.name,
                "issuer_id": bytes(event.args["issuerId"]),
                "public_key": bytes(event.args["publicKey"]) if "publicKey" in event.args
                else None,
                "retired_block": event.args.get("retiredBlock"),
            },
        )


def _upsert(
    connection: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Update the row with this key, or insert it (portable across SQLite and PostgreSQL)."""
    condition = [table.c[name] == value for name, value in key.items()]
    updated = connection.execute(table.update().where(*condition).values(**values))
    if updated.rowcount == 0:
        connection.execute(table.insert().values(**key, **values))


def rows(engine: Engine, table: Table) -> Iterable[dict[str, Any]]:
    """Every row of an index table as a dict (for reports and tests)."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table))]
