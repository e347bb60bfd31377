"""SQLite storage for the embedded node: py-evm's key-value store plus the node's own tables.

Everything py-evm writes is buffered in memory and reaches SQLite only in `Storage.commit`,
together with the node's own rows for that block, as ONE SQLite transaction: a sealed block is
on disk whole or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from eth.abc import AtomicWriteBatchAPI
from eth.db.atomic import AtomicDBWriteBatch
from eth.db.backends.base import BaseAtomicDB
from lru import LRU

from infra.secrets import keep_private

CHAIN_FILE = "chain.sqlite"
READ_CACHE_ENTRIES = 500_000
COMMITTED_CACHE_ENTRIES = 100_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS allowlist (address BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY,
    block INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    sender BLOB NOT NULL,
    gas_used INTEGER NOT NULL,
    first_log INTEGER NOT NULL,
    contract BLOB
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    address BLOB NOT NULL,
    topic0 BLOB,
    topic1 BLOB,
    topic2 BLOB,
    topic3 BLOB,
    data BLOB NOT NULL,
    tx_hash BLOB NOT NULL,
    block_hash BLOB NOT NULL,
    PRIMARY KEY (block, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_address ON logs (address, block);
CREATE INDEX IF NOT EXISTS logs_by_topic0 ON logs (topic0, block);
CREATE INDEX IF NOT EXISTS logs_by_topic1 ON logs (topic1, block);
CREATE INDEX IF NOT EXISTS logs_by_topic2 ON logs (topic2, block);
CREATE INDEX IF NOT EXISTS logs_by_topic3 ON logs (topic3, block);
"""

_DELETED = None


class KeyValueStore(BaseAtomicDB):
    """py-evm's database over the `kv` table: reads through an LRU cache, writes buffered."""

    def __init__(self, connection: sqlite3.Connection, cache_entries: int = READ_CACHE_ENTRIES):
        self._connection = connection
        self._cache: LRU[bytes, bytes] = LRU(cache_entries)
        self._buffer: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._buffer:
            value = self._buffer[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = _stored(self._connection, key)
        self._cache[key] = value
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._buffer[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._buffer[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    @contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        """A nested batch whose writes join the buffer only if the block raises nothing."""
        with AtomicDBWriteBatch._commit_unless_raises(self) as batch:
            yield batch

    @property
    def cache(self) -> LRU[bytes, bytes]:
        """The read cache: committed values only (writes reach it when their block commits)."""
        return self._cache

    @property
    def buffered(self) -> int:
        """How many writes wait for the next commit."""
        return len(self._buffer)

    def flush(self, cursor: sqlite3.Cursor) -> None:
        """Write the buffer through `cursor` (inside the caller's SQLite transaction)."""
        cursor.executemany(
            "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)",
            [(k, v) for k, v in self._buffer.items() if v is not _DELETED],
        )
        cursor.executemany(
            "DELETE FROM kv WHERE key = ?",
            [(k,) for k, v in self._buffer.items() if v is _DELETED],
        )

    def settle(self) -> None:
        """After a successful commit: move the buffer into the read cache."""
        for key, value in self._buffer.items():
            if value is _DELETED:
                self._cache.pop(key, None)
            else:
                self._cache[key] = value
        self._buffer.clear()

    def discard(self) -> None:
        """Forget every buffered write (the block being built failed)."""
        self._buffer.clear()


class CommittedStore(BaseAtomicDB):
    """A read-only view of what is committed, for reads off the sealing lock (eth_call).

    It reads through its own connection, so the sealer's buffered writes and its open SQLite
    transaction stay invisible: a block appears once it commits. It looks in the writer's cache
    (which holds committed values only) before its own, and fills only its own.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        writer: KeyValueStore,
        cache_entries: int = COMMITTED_CACHE_ENTRIES,
    ) -> None:
        self._connection = connection
        self._writer_cache = writer.cache
        self._cache: LRU[bytes, bytes] = LRU(cache_entries)

    def __getitem__(self, key: bytes) -> bytes:
        value = self._cache.get(key)
        if value is None:
            value = self._writer_cache.get(key)
        if value is not None:
            return value
        value = _stored(self._connection, key)
        self._cache[key] = value
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        raise PermissionError("the committed store is read-only")

    def __delitem__(self, key: bytes) -> None:
        raise PermissionError("the committed store is read-only")

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def atomic_batch(self) -> AbstractContextManager[AtomicWriteBatchAPI]:
        """Refused: nothing is written through this view."""
        raise PermissionError("the committed store is read-only")


@dataclass
class BlockRows:
    """The node's own rows for one sealed block, committed with its py-evm data."""

    txs: list[tuple] = field(default_factory=list)
    logs: list[tuple] = field(default_factory=list)


class Storage:
    """The node's SQLite file: `kv` for py-evm, plus meta, allowlist and the tx/log index."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        keep_private(path, f"{path}-wal", f"{path}-shm")
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = FULL")
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.connection.executescript(SCHEMA)
        self.kv = KeyValueStore(self.connection)
        self.reader = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.reader.execute("PRAGMA query_only = ON")
        self.committed = CommittedStore(self.reader, self.kv)

    def commit(self, rows: BlockRows | None = None, meta: dict[str, str] | None = None) -> None:
        """Write buffered py-evm data, `rows` and `meta` in one SQLite transaction."""
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            self.kv.flush(cursor)
            if rows is not None:
                cursor.executemany(
                    "INSERT INTO txs (hash, block, tx_index, sender, gas_used, first_log, contract)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows.txs,
                )
                cursor.executemany(
                    "INSERT INTO logs (block, log_index, tx_index, address, topic0, topic1,"
                    " topic2, topic3, data, tx_hash, block_hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows.logs,
                )
            for name, value in (meta or {}).items():
                cursor.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value)
                )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            self.kv.discard()
            raise
        self.kv.settle()

    def meta(self, name: str) -> str | None:
        """A value of the `meta` table, or None."""
        row = self.connection.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def allowlist(self) -> list[bytes]:
        """Every allowlisted account, sorted."""
        rows = self.connection.execute("SELECT address FROM allowlist ORDER BY address")
        return [bytes(row[0]) for row in rows]

    def is_allowed(self, address: bytes) -> bool:
        """Whether `address` is on the allowlist."""
        query = "SELECT 1 FROM allowlist WHERE address = ?"
        return self.connection.execute(query, (address,)).fetchone() is not None

    def set_allowed(self, addresses: Iterable[bytes], allowed: bool) -> None:
        """Add or remove accounts in one SQLite transaction."""
        statement = (
            "INSERT OR IGNORE INTO allowlist (address) VALUES (?)"
            if allowed
            else "DELETE FROM allowlist WHERE address = ?"
        )
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(statement, [(a,) for a in addresses])

    def transaction_row(self, tx_hash: bytes) -> tuple | None:
        """(block, tx_index, sender, gas_used, first_log, contract) of a mined transaction."""
        return self.connection.execute(
            "SELECT block, tx_index, sender, gas_used, first_log, contract FROM txs WHERE hash = ?",
            (tx_hash,),
        ).fetchone()

    def block_transactions(self, block: int) -> list[tuple[bytes, int]]:
        """(sender, gas used) of each of a block's transactions, in block order."""
        rows = self.connection.execute(
            "SELECT sender, gas_used FROM txs WHERE block = ? ORDER BY tx_index", (block,)
        )
        return [(bytes(sender), gas_used) for sender, gas_used in rows]

    def logs(self, where: str, args: Sequence[object], limit: int) -> list[tuple]:
        """Log rows matching a WHERE clause built by the log filter, in chain order."""
        return self.connection.execute(
            "SELECT block, log_index, tx_index, address, topic0, topic1, topic2, topic3, data,"
            f" tx_hash, block_hash FROM logs WHERE {where}"
            " ORDER BY block, log_index LIMIT ?",
            (*args, limit),
        ).fetchall()

    def close(self) -> None:
        """Close the SQLite connections (buffered, uncommitted writes are lost)."""
        self.kv.discard()
        self.reader.close()
        self.connection.close()


def _stored(connection: sqlite3.Connection, key: bytes) -> bytes:
    """The value committed under `key`; KeyError when there is none."""
    row = connection.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise KeyError(key)
    return bytes(row[0])
