"""Encrypted backups of the off-chain database, and their restore into an empty database.

A backup file is one header line, then sealed chunks:

    creditbank-backup {"format": 1, "revision": …, "created_at": …, "tables": {…}, …}\\n
    (4-byte length, 12-byte nonce, AES-256-GCM ciphertext) … the last one flagged final

The chunks hold, zlib-compressed, JSON lines: for each table in dependency order a line
`{"table": name, "columns": [...]}` and one JSON array per row, with values as stored (sealed
columns stay sealed, binary values in base64), then `{"end": total rows}`. Each chunk's associated
data is the header's digest, the chunk's number and its final flag, so an altered header, an
altered, dropped or reordered chunk, and a file cut short are all refused. The key is derived from
the master key (purpose "creditbank backup"); the header carries a keyed check of it, so a backup
opened with another master key is told apart from a damaged one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    String,
    Table,
    TableClause,
    Text,
    column,
    event,
    func,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from infra import audit
from infra.database import open_engine
from infra.errors import BackupFailed
from infra.metadata import metadata
from infra.schema import current
from infra.sealing import Sealed
from infra.secrets import derive_secret, open_private
from infra.times import iso_utc

FORMAT = 1
MAGIC = b"creditbank-backup "
PURPOSE = b"creditbank backup"
CHUNK_BYTES = 1 << 20
MAX_SEALED_CHUNK = CHUNK_BYTES + 64
MAX_HEADER_BYTES = 1 << 16
NONCE_BYTES = 12
BATCH_ROWS = 1000
PROGRESS_ROWS = 50_000
ALEMBIC_VERSION = "alembic_version"
FRESH_TABLES = frozenset({ALEMBIC_VERSION, "column_keys"})
"""Tables an upgraded empty database may already hold rows in; restore replaces them."""

Progress = Callable[[str], None]


def _quiet(_line: str) -> None:
    """Report nothing."""


@dataclass(frozen=True)
class Header:
    """What a backup says of itself, readable without the key (nothing personal)."""

    format: int
    backup_id: str
    revision: str
    created_at: str
    tables: dict[str, int]
    key_check: str

    def to_line(self) -> bytes:
        """The header as the file's first line."""
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return MAGIC + body.encode("utf-8") + b"\n"

    @property
    def digest(self) -> bytes:
        """The header line's SHA-256: every chunk's associated data starts with it."""
        return hashlib.sha256(self.to_line()).digest()


def backup(engine: Engine, path: Path, *, master_key: bytes, progress: Progress = _quiet,
           actor: str | None = None) -> Header:
    """Write an encrypted backup of `engine`'s database to `path` (mode 0600, through a
    temporary file renamed into place), from one snapshot; records an audit entry."""
    key = _backup_key(master_key)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    reader = _snapshot_engine(engine.url.render_as_string(hide_password=False))
    try:
        with _snapshot(reader) as connection:
            tables = _tables(connection)
            counts = {name: _count(connection, clause) for name, clause in tables}
            header = Header(
                format=FORMAT,
                backup_id=str(uuid.uuid4()),
                revision=_revision(connection),
                created_at=iso_utc(time.time()),
                tables=counts,
                key_check=_key_check(key),
            )
            with open_private(temporary) as handle:
                handle.write(header.to_line())
                writer = _ChunkWriter(handle, AESGCM(key), header.digest)
                for name, clause in tables:
                    progress(f"{name}: {counts[name]:,} row(s)")
                    for line in _table_lines(connection, name, clause, progress):
                        writer.write(line)
                writer.write(_line({"end": sum(counts.values())}))
                writer.close()
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        reader.dispose()
        temporary.unlink(missing_ok=True)
    audit.record(engine, actor=actor or audit.cli_actor(), action="db.backup",
                 subject=header.backup_id,
                 details={"revision": header.revision, "rows": sum(counts.values())})
    progress(f"backup {header.backup_id}: {sum(counts.values()):,} row(s) of "
             f"{len(counts)} table(s) written to {path.name}")
    return header


def restore(engine: Engine, path: Path, *, master_key: bytes, progress: Progress = _quiet,
            actor: str | None = None) -> Header:
    """Restore a backup into `engine`'s database, which must be empty and at the backup's schema
    revision; the whole file is authenticated before the first row is written."""
    key = _backup_key(master_key)
    with path.open("rb") as handle:
        header = _read_header(handle)
    if not hmac.compare_digest(header.key_check, _key_check(key)):
        raise BackupFailed(f"{path.name} was made under another master key: set "
                           "CREDITBANK_MASTER_KEY to the key of the bank that made it")
    revision = current(engine)
    if header.revision != revision:
        raise BackupFailed(
            f"{path.name} is of schema revision {header.revision} and this database is at "
            f"{revision or 'none'}: restore it with the release that made it (then run "
            "`creditbank db upgrade`)")
    with engine.connect() as connection:
        missing = sorted(set(header.tables) - {name for name, _ in _tables(connection)})
        if missing:
            raise BackupFailed(f"{path.name} holds tables this database lacks: "
                               f"{', '.join(missing)}")
        _refuse_rows(connection)
    progress(f"checking {path.name} …")
    _check(path, key, header)
    clauses = dict(_tables_of(engine))
    restored = 0
    for name, rows in _restored_tables(path, key, header):
        clause = clauses[name]
        count = _insert(engine, name, clause, rows, progress)
        restored += count
    _after_restore(engine)
    audit.record(engine, actor=actor or audit.cli_actor(), action="db.restore",
                 subject=header.backup_id,
                 details={"revision": header.revision, "rows": restored,
                          "created_at": header.created_at})
    progress(f"restored {restored:,} row(s) of {len(header.tables)} table(s) from backup "
             f"{header.backup_id} ({header.created_at})")
    return header


# -- reading the database -------------------------------------------------------------------


def _snapshot_engine(url: str) -> Engine:
    """An engine whose transactions read one snapshot (SQLite: a real BEGIN)."""
    engine = open_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _driver_autocommit)
        event.listen(engine, "begin", _begin)
    return engine


def _driver_autocommit(connection: Any, _record: Any) -> None:
    connection.isolation_level = None


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction over one consistent state of the database."""
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def _raw(source: Table) -> TableClause:
    """A table's columns as stored: sealed ones as their sealed text, never opened."""
    return table(source.name, *(
        column(item.name, Text() if isinstance(item.type, Sealed) else item.type)
        for item in source.columns))


def _tables_of(engine: Engine) -> list[tuple[str, TableClause]]:
    with engine.connect() as connection:
        return _tables(connection)


def _tables(connection: Connection) -> list[tuple[str, TableClause]]:
    """alembic_version, then every table of the metadata in dependency order; refuses a database
    holding a table the metadata lacks (the backup would miss it)."""
    present = set(inspect(connection).get_table_names())
    unknown = sorted(present - set(metadata.tables) - {ALEMBIC_VERSION})
    if unknown:
        raise BackupFailed(f"the database holds tables this release does not know: "
                           f"{', '.join(unknown)}")
    found = [(ALEMBIC_VERSION, table(ALEMBIC_VERSION, column("version_num", String())))]
    return found + [(item.name, _raw(item)) for item in metadata.sorted_tables
                    if item.name in present]


def _count(connection: Connection, clause: TableClause) -> int:
    return int(connection.execute(select(func.count()).select_from(clause)).scalar_one())


def _revision(connection: Connection) -> str:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise BackupFailed("the database has no schema revision: run `creditbank db upgrade`")
    return str(revision)


def _table_lines(connection: Connection, name: str, clause: TableClause,
                 progress: Progress) -> Iterator[bytes]:
    """A table's marker line, then its rows (streamed, in primary key order where it has one)."""
    names = [item.name for item in clause.columns]
    binary = [isinstance(item.type, LargeBinary) for item in clause.columns]
    yield _line({"table": name, "columns": names})
    source = metadata.tables.get(name)
    order = list(source.primary_key.columns) if source is not None else []
    query = select(*clause.columns).order_by(*(clause.c[item.name] for item in order))
    rows = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS)
    for number, row in enumerate(rows.execute(query), start=1):
        yield _line([_encoded(value) if is_binary else value
                     for value, is_binary in zip(row, binary, strict=True)])
        if number % PROGRESS_ROWS == 0:
            progress(f"{name}: {number:,} row(s) …")


def _encoded(value: Any) -> Any:
    return None if value is None else base64.b64encode(bytes(value)).decode("ascii")


def _line(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


# -- sealing chunks -------------------------------------------------------------------------


def _backup_key(master_key: bytes) -> bytes:
    return derive_secret(master_key, PURPOSE)


def _key_check(key: bytes) -> str:
    """A keyed check value telling whether a key is the one a backup was made with."""
    return hmac.new(key, b"creditbank backup key check", hashlib.sha256).hexdigest()[:32]


def _associated(digest: bytes, number: int, final: bool) -> bytes:
    return digest + struct.pack(">QB", number, int(final))


class _ChunkWriter:
    """Compress what is written and seal it in numbered chunks, the last one flagged final."""

    def __init__(self, handle: IO[bytes], aead: AESGCM, digest: bytes) -> None:
        self.handle = handle
        self.aead = aead
        self.digest = digest
        self.compressor = zlib.compressobj(6)
        self.pending = bytearray()
        self.number = 0

    def write(self, data: bytes) -> None:
        """Add plaintext; full chunks are sealed and written as they fill."""
        self.pending += self.compressor.compress(data)
        while len(self.pending) > CHUNK_BYTES:
            self._seal(bytes(self.pending[:CHUNK_BYTES]), final=False)
            del self.pending[:CHUNK_BYTES]

    def close(self) -> None:
        """Seal what is left as the final chunk."""
        self.pending += self.compressor.flush()
        while len(self.pending) > CHUNK_BYTES:
            self._seal(bytes(self.pending[:CHUNK_BYTES]), final=False)
            del self.pending[:CHUNK_BYTES]
        self._seal(bytes(self.pending), final=True)

    def _seal(self, data: bytes, *, final: bool) -> None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, data, _associated(self.digest, self.number, final))
        self.handle.write(struct.pack(">I", len(sealed)) + nonce + sealed)
        self.number += 1


# -- reading a backup -----------------------------------------------------------------------


def _read_header(handle: IO[bytes]) -> Header:
    line = handle.readline(MAX_HEADER_BYTES)
    if not line.startswith(MAGIC) or not line.endswith(b"\n"):
        raise BackupFailed("this file is not a creditbank backup (its header is missing)")
    try:
        fields = json.loads(line[len(MAGIC):])
        header = Header(
            format=int(fields["format"]),
            backup_id=str(fields["backup_id"]),
            revision=str(fields["revision"]),
            created_at=str(fields["created_at"]),
            tables={str(name): int(count) for name, count in dict(fields["tables"]).items()},
            key_check=str(fields["key_check"]),
        )
    except (ValueError, KeyError, TypeError):
        raise BackupFailed("the backup's header is damaged") from None
    if header.format != FORMAT:
        raise BackupFailed(f"the backup is of format {header.format}; this release reads "
                           f"format {FORMAT}")
    return header


def _plaintext(path: Path, key: bytes, header: Header) -> Iterator[bytes]:
    """The backup's compressed plaintext, chunk by chunk, each authenticated before it is
    given; refuses an altered, reordered or missing chunk and anything after the final one."""
    aead = AESGCM(key)
    with path.open("rb") as handle:
        if _read_header(handle) != header:
            raise BackupFailed("the backup changed while it was read")
        number = 0
        while True:
            prefix = handle.read(4)
            if not prefix:
                raise BackupFailed(f"the backup is truncated: it ends after chunk {number - 1} "
                                   "without its final chunk")
            if len(prefix) < 4:
                raise BackupFailed(f"the backup is truncated inside chunk {number}")
            (length,) = struct.unpack(">I", prefix)
            if length > MAX_SEALED_CHUNK:
                raise BackupFailed(f"the backup is damaged: chunk {number} has an impossible "
                                   "length")
            body = handle.read(NONCE_BYTES + length)
            if len(body) < NONCE_BYTES + length:
                raise BackupFailed(f"the backup is truncated inside chunk {number}")
            data, final = _open_chunk(aead, header, number, body)
            yield data
            if final:
                if handle.read(1):
                    raise BackupFailed("the backup is damaged: data follows its final chunk")
                return
            number += 1


def _open_chunk(aead: AESGCM, header: Header, number: int, body: bytes) -> tuple[bytes, bool]:
    nonce, sealed = body[:NONCE_BYTES], body[NONCE_BYTES:]
    for final in (False, True):
        try:
            return aead.decrypt(nonce, sealed, _associated(header.digest, number, final)), final
        except InvalidTag:
            continue
    raise BackupFailed(f"the backup is damaged: chunk {number} does not authenticate (altered, "
                       "reordered, or the header was changed)")


def _lines(path: Path, key: bytes, header: Header) -> Iterator[Any]:
    """The backup's JSON lines, decompressed as the chunks are read."""
    decompressor = zlib.decompressobj()
    rest = b""
    for chunk in _plaintext(path, key, header):
        pending = chunk
        while True:
            try:
                out = decompressor.decompress(pending, CHUNK_BYTES)
            except zlib.error:
                raise BackupFailed("the backup is damaged: its content does not "
                                   "decompress") from None
            *complete, rest = (rest + out).split(b"\n")
            for line in complete:
                yield json.loads(line)
            pending = decompressor.unconsumed_tail
            if not pending and len(out) < CHUNK_BYTES:
                break
    if rest or not decompressor.eof:
        raise BackupFailed("the backup is damaged: its content ends early")


def _check(path: Path, key: bytes, header: Header) -> None:
    """Read the whole backup once: every chunk authentic, every table's row count as the header
    says, the end marker last."""
    seen: dict[str, int] = {}
    name: str | None = None
    ended = False
    for item in _lines(path, key, header):
        if ended:
            raise BackupFailed("the backup is damaged: content follows its end")
        if isinstance(item, list):
            if name is None:
                raise BackupFailed("the backup is damaged: a row precedes every table")
            seen[name] += 1
        elif "table" in item:
            name = str(item["table"])
            seen[name] = 0
        elif "end" in item:
            ended = True
    if not ended or seen != header.tables:
        raise BackupFailed("the backup is damaged: its rows do not match its header's counts")


def _restored_tables(path: Path, key: bytes,
                     header: Header) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    """Each table's name and its rows as dicts, streamed."""
    lines = _lines(path, key, header)
    pending: list[Any] = []

    def rows(columns: list[str], binary: set[str]) -> Iterator[dict[str, Any]]:
        for item in lines:
            if not isinstance(item, list):
                pending.append(item)
                return
            row = dict(zip(columns, item, strict=True))
            for name in binary:
                if row[name] is not None:
                    row[name] = base64.b64decode(row[name])
            yield row

    item = next(lines)
    while True:
        if "end" in item:
            for _rest in lines:
                pass
            return
        name = str(item["table"])
        source = metadata.tables.get(name)
        binary = {column_.name for column_ in source.columns
                  if isinstance(column_.type, LargeBinary)} if source is not None else set()
        yield name, rows(list(item["columns"]), binary)
        if not pending:
            raise BackupFailed("the backup is damaged: a table's rows were not all read")
        item = pending.pop()


# -- writing the database -------------------------------------------------------------------


def _refuse_rows(connection: Connection) -> None:
    """Refuse a database holding any row (but those a fresh database is made with)."""
    for name, clause in _tables(connection):
        if name in FRESH_TABLES:
            continue
        count = _count(connection, clause)
        if count:
            raise BackupFailed(f"the database is not empty ({name} holds {count:,} row(s)): "
                               "restore only into an empty database")


def _insert(engine: Engine, name: str, clause: TableClause, rows: Iterator[dict[str, Any]],
            progress: Progress) -> int:
    """Insert one table's rows, a transaction per batch; alembic_version is only compared."""
    if name == ALEMBIC_VERSION:
        for _row in rows:
            pass
        return 0
    if name in FRESH_TABLES:
        with engine.begin() as connection:
            connection.execute(clause.delete())
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            count += _write_batch(engine, clause, batch)
            batch = []
            if count % PROGRESS_ROWS == 0:
                progress(f"{name}: {count:,} row(s) …")
    if batch:
        count += _write_batch(engine, clause, batch)
    progress(f"{name}: {count:,} row(s) restored")
    return count


def _write_batch(engine: Engine, clause: TableClause, batch: list[dict[str, Any]]) -> int:
    try:
        with engine.begin() as connection:
            connection.execute(insert(clause), batch)
    except SQLAlchemyError as error:
        raise BackupFailed(
            f"the database refused rows of {clause.name} ({type(error).__name__}); the tables "
            "before it are restored: empty the database before restoring again") from error
    return len(batch)


def _after_restore(engine: Engine) -> None:
    """Move PostgreSQL's id sequences past the restored ids (SQLite follows the rows itself)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for source in metadata.sorted_tables:
            keys = list(source.primary_key.columns)
            if len(keys) != 1 or keys[0].autoincrement is False:
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": source.name, "column": keys[0].name}).scalar()
            if sequence is None:
                continue
            connection.execute(
                text(f"SELECT setval(:sequence, COALESCE((SELECT max({keys[0].name}) FROM "
                     f"{source.name}), 0) + 1, false)"), {"sequence": sequence})
