"""Follows our contracts' events into SQL tables, so that look-ups never scan the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    select,
)
from web3 import Web3
from web3.types import LogReceipt

from contracts import NAMES
from ledger.client import Ledger
from ledger.errors import translated
from ledger.sql import metadata

cursor = Table(
    "ledger_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("block", BigInteger, nullable=False),
)
anchors = Table(
    "ledger_anchors",
    metadata,
    Column("root", LargeBinary(32), primary_key=True),
    Column("issuer_id", LargeBinary(32), nullable=False, index=True),
    Column("sender", String(42), nullable=False),
    Column("block", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
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
)
issuers = Table(
    "ledger_issuers",
    metadata,
    Column("issuer_id", LargeBinary(32), primary_key=True),
    Column("did", String(128), nullable=False, unique=True),
    Column("kind_mask", String(80), nullable=False),
    Column("level_mask", String(80), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("block", BigInteger, nullable=False),
)
issuer_accounts = Table(
    "ledger_issuer_accounts",
    metadata,
    Column("account", String(42), primary_key=True),
    Column("issuer_id", LargeBinary(32), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
)
signing_keys = Table(
    "ledger_signing_keys",
    metadata,
    Column("issuer_id", LargeBinary(32), primary_key=True),
    Column("public_key", LargeBinary(32), primary_key=True),
    Column("registered_block", BigInteger, nullable=False),
    Column("retired_block", BigInteger, nullable=False),
)
rule_sets = Table(
    "ledger_rule_sets",
    metadata,
    Column("rule_set_id", LargeBinary(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("owner_id", LargeBinary(32), nullable=False),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("published_block", BigInteger, nullable=False),
    Column("approved_block", BigInteger, nullable=False),
)

EMPTY_DIGEST = bytes(32)


@dataclass(frozen=True)
class Event:
    """One decoded contract event, with where it happened."""

    name: str
    args: dict[str, Any]
    block: int
    tx_hash: str


class Indexer:
    """Copies our contracts' events into SQL tables and resumes where it stopped."""

    def __init__(self, ledger: Ledger, engine: Engine, *, name: str = "default") -> None:
        if ledger.deployment is None:
            raise ValueError("the indexer needs a deployment")
        self.ledger = ledger
        self.engine = engine
        self.name = name
        self._addresses = [
            Web3.to_checksum_address(ledger.deployment.address(contract)) for contract in NAMES
        ]
        self._handlers: dict[str, Callable[[Connection, Event], None]] = {
            "Anchored": self._anchored,
            "RootRevoked": self._root_revoked,
            "LeafRevoked": self._leaf_revoked,
            "Accredited": self._accredited,
            "Suspended": self._suspension(True),
            "Reinstated": self._suspension(False),
            "AccountAdded": self._account(True),
            "AccountRemoved": self._account(False),
            "KeyRegistered": self._key_registered,
            "KeyRetired": self._key_retired,
            "RuleSetPublished": self._rule_published,
            "RuleSetApproved": self._rule_approved,
        }
        self._decoders = self._event_decoders()

    def indexed_block(self) -> int:
        """The last block whose events are in the tables (one before the deployment if none)."""
        with self.engine.connect() as connection:
            block = connection.scalar(select(cursor.c.block).where(cursor.c.name == self.name))
        assert self.ledger.deployment is not None
        return block if block is not None else self.ledger.deployment.block - 1

    def sync(self, *, to_block: int | None = None, step: int = 2000) -> int:
        """Index every event up to `to_block` (default: the head); returns how many were indexed."""
        head = self.ledger.block_number() if to_block is None else to_block
        count = 0
        start = self.indexed_block() + 1
        while start <= head:
            end = min(start + step - 1, head)
            events = self._events(start, end)
            with self.engine.begin() as connection:
                for event in events:
                    self._handlers[event.name](connection, event)
                self._save_cursor(connection, end)
            count += len(events)
            start = end + 1
        return count

    def _events(self, start: int, end: int) -> list[Event]:
        """Decoded events of our contracts in a block range, in chain order."""
        with translated():
            logs = self.ledger.w3.eth.get_logs(
                {"fromBlock": start, "toBlock": end, "address": self._addresses}
            )
        return [event for event in (self._decode(log) for log in logs) if event is not None]

    def _decode(self, log: LogReceipt) -> Event | None:
        """A log as one of our events, or None for events we do not index."""
        if not log["topics"]:
            return None
        source = self._decoders.get(bytes(log["topics"][0]))
        if source is None:
            return None
        contract, name = source
        with translated():
            data = self.ledger.contract(contract).events[name]().process_log(log)
        return Event(
            name=name,
            args=dict(data["args"]),
            block=int(log["blockNumber"]),
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
        )

    def _event_decoders(self) -> dict[bytes, tuple[str, str]]:
        """(contract, event) of every event we index, by topic 0."""
        decoders = {}
        for contract in NAMES:
            for abi in self.ledger.contract(contract).abi:
                if abi.get("type") == "event" and abi["name"] in self._handlers:
                    signature = f"{abi['name']}({','.join(i['type'] for i in abi['inputs'])})"
                    decoders[bytes(Web3.keccak(text=signature))] = (contract, abi["name"])
        return decoders

    def _save_cursor(self, connection: Connection, block: int) -> None:
        updated = connection.execute(
            cursor.update().where(cursor.c.name == self.name).values(block=block)
        )
        if updated.rowcount == 0:
            connection.execute(cursor.insert().values(name=self.name, block=block))

    def _anchored(self, connection: Connection, event: Event) -> None:
        root = bytes(event.args["root"])
        if connection.scalar(select(anchors.c.root).where(anchors.c.root == root)) is not None:
            return
        connection.execute(
            anchors.insert().values(
                root=root,
                issuer_id=bytes(event.args["issuerId"]),
                sender=event.args["sender"],
                block=event.block,
                timestamp=self.ledger.block_timestamp(event.block),
                tx_hash=event.tx_hash,
            )
        )

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

    def _accredited(self, connection: Connection, event: Event) -> None:
        _upsert(
            connection,
            issuers,
            {"issuer_id": bytes(event.args["issuerId"])},
            {
                "did": event.args["did"],
                "kind_mask": hex(event.args["kindMask"]),
                "level_mask": hex(event.args["levelMask"]),
                "valid_from": event.args["validFrom"],
                "valid_until": event.args["validUntil"],
                "block": event.block,
            },
            insert_only={"suspended": False},
        )

    def _suspension(self, suspended: bool) -> Callable[[Connection, Event], None]:
        def handle(connection: Connection, event: Event) -> None:
            connection.execute(
                issuers.update()
                .where(issuers.c.issuer_id == bytes(event.args["issuerId"]))
                .values(suspended=suspended)
            )

        return handle

    def _account(self, active: bool) -> Callable[[Connection, Event], None]:
        def handle(connection: Connection, event: Event) -> None:
            _upsert(
                connection,
                issuer_accounts,
                {"account": event.args["account"]},
                {"issuer_id": bytes(event.args["issuerId"]), "active": active},
            )

        return handle

    def _key_registered(self, connection: Connection, event: Event) -> None:
        _upsert(
            connection,
            signing_keys,
            {
                "issuer_id": bytes(event.args["issuerId"]),
                "public_key": bytes(event.args["publicKey"]),
            },
            {"registered_block": event.block, "retired_block": 0},
        )

    def _key_retired(self, connection: Connection, event: Event) -> None:
        connection.execute(
            signing_keys.update()
            .where(signing_keys.c.issuer_id == bytes(event.args["issuerId"]))
            .where(signing_keys.c.public_key == bytes(event.args["publicKey"]))
            .values(retired_block=event.args["retiredBlock"])
        )

    def _rule_published(self, connection: Connection, event: Event) -> None:
        _upsert(
            connection,
            rule_sets,
            {"rule_set_id": bytes(event.args["ruleSetId"]), "version": event.args["version"]},
            {
                "owner_id": bytes(event.args["ownerId"]),
                "content_hash": bytes(event.args["contentHash"]),
                "published_block": event.block,
                "approved_block": 0,
            },
        )

    def _rule_approved(self, connection: Connection, event: Event) -> None:
        connection.execute(
            rule_sets.update()
            .where(rule_sets.c.rule_set_id == bytes(event.args["ruleSetId"]))
            .where(rule_sets.c.version == event.args["version"])
            .values(approved_block=event.block)
        )


def _upsert(
    connection: Connection,
    table: Table,
    key: dict[str, Any],
    values: dict[str, Any],
    insert_only: dict[str, Any] | None = None,
) -> None:
    """Update the row with this key, or insert it (portable across SQLite and PostgreSQL)."""
    condition = [table.c[name] == value for name, value in key.items()]
    updated = connection.execute(table.update().where(*condition).values(**values))
    if updated.rowcount == 0:
        connection.execute(table.insert().values(**key, **values, **(insert_only or {})))


def rows(engine: Engine, table: Table) -> Iterable[dict[str, Any]]:
    """Every row of an index table as a dict (for reports and tests)."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table))]
