"""`creditbank db backup` / `restore`: an encrypted, authenticated copy of every row as stored,
restored row for row into an empty database of either kind; damaged files, another master key,
another schema revision and a database that is not empty are refused by name."""

from __future__ import annotations

import json
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, Text, select, type_coerce

import infra.backup
from infra.backup import MAGIC, backup, restore
from infra.database import open_database
from infra.errors import BackupFailed
from infra.metadata import metadata
from infra.sealing import Sealed
from issuers.tables import credentials
from portal.cli import EXIT_DATA, main
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, city_bank, outcome
from tests.support.databases import PostgresServer


def stored(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table as stored (sealed values sealed), booleans as ints and binary
    values as bytes so SQLite and PostgreSQL compare alike; but the rate limiter's counts, which
    its thread sends in the background (they may still grow after the backup is made)."""
    found = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "rate_limits":
                continue
            columns = [type_coerce(item, Text) if isinstance(item.type, Sealed) else item
                       for item in table.columns]
            rows = connection.execute(select(*columns)).all()
            found[table.name] = sorted(tuple(_plain(value) for value in row) for row in rows)
    return found


def _plain(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def without_restore_entry(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The rows but the audit entry the restore itself records."""
    action = [item.name for item in metadata.tables["audit_log"].columns].index("action")
    return rows | {"audit_log": [row for row in rows["audit_log"] if row[action] != "db.restore"]}


@pytest.fixture
def filled(runtime: Runtime) -> Runtime:
    """A bank with institutions, two learners' accounts and their credentials (sealed)."""
    bank = city_bank(runtime)
    for national_id in (LEARNER_ID, OTHER_ID):
        bank.issue("hdvc", [outcome("WH110", "A", national_id=national_id),
                            outcome("MATH110", "B+", national_id=national_id)])
        bank.open_account(national_id)
    return runtime


def learner_dids(engine: Engine) -> list[str]:
    """Every learner's DID."""
    with engine.connect() as connection:
        return list(connection.execute(select(metadata.tables["bank_learners"].c.did)).scalars())


def sealed_values(engine: Engine) -> list[str]:
    """The credentials' anchored documents (each held once) as stored (sealed)."""
    with engine.connect() as connection:
        return list(connection.execute(select(type_coerce(credentials.c.anchored, Text)))
                    .scalars())


def target_url(kind: str, tmp_path: Path, postgres_server: PostgresServer | None) -> str:
    """A new empty database of `kind`."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite'}"
    assert postgres_server is not None
    return postgres_server.new_database()


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_a_backup_restores_row_for_row_into_either_kind_of_database(
        filled: Runtime, tmp_path: Path, request: pytest.FixtureRequest, target: str) -> None:
    engine, key = filled.engine, filled.settings.master_key()
    before = stored(engine)
    opened_before = _opened_documents(engine)
    lines: list[str] = []
    path = tmp_path / "bank.backup"

    header = backup(engine, path, master_key=key, progress=lines.append)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert header.tables["bank_learners"] == 2
    assert header.tables["credentials"] == 4
    assert any(line.startswith("bank_learners: 2 row(s)") for line in lines)
    content = path.read_bytes()
    assert content.startswith(MAGIC)
    secrets = [*learner_dids(engine), *sealed_values(engine), LEARNER_ID, OTHER_ID,
               *opened_before, *(json.loads(document)["id"] for document in opened_before)]
    assert all(secret.encode() not in content for secret in secrets)
    assert b"credentialSubject" not in content

    server = request.getfixturevalue("postgres") if target == "postgresql" else None
    restored = open_database(target_url(target, tmp_path, server), master_key=key)
    try:
        restore(restored, path, master_key=key)
        assert without_restore_entry(stored(restored)) == before
        assert _opened_documents(restored) == opened_before
        with restored.begin() as connection:  # the ids go on after the restored ones
            connection.execute(metadata.tables["audit_log"].insert().values(
                at=1.0, actor="cli:test", action="test.after", subject="-", details="{}"))
    finally:
        restored.dispose()


def _opened_documents(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(credentials.c.anchored)).scalars())


@pytest.fixture
def made(filled: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A backup of the filled bank in chunks of 4 KiB (so it has several)."""
    monkeypatch.setattr(infra.backup, "CHUNK_BYTES", 4096)
    path = tmp_path / "bank.backup"
    backup(filled.engine, path, master_key=filled.settings.master_key())
    return path


@pytest.fixture
def empty(filled: Runtime, tmp_path: Path) -> Iterator[Engine]:
    """A new empty SQLite database under the same master key."""
    engine = open_database(f"sqlite:///{tmp_path / 'empty.sqlite'}",
                           master_key=filled.settings.master_key())
    yield engine
    engine.dispose()


def chunks(path: Path) -> tuple[bytes, list[bytes]]:
    """A backup's header line and its sealed chunks (length prefix included)."""
    data = path.read_bytes()
    header, rest = data.split(b"\n", 1)
    found = []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        found.append(rest[:4 + 12 + length])
        rest = rest[4 + 12 + length:]
    return header + b"\n", found


def refusal(engine: Engine, path: Path, key: bytes) -> str:
    """The message a refused restore gives; nothing may have been written."""
    with pytest.raises(BackupFailed) as refused:
        restore(engine, path, master_key=key)
    assert stored(engine)["bank_learners"] == []
    return refused.value.message


def test_damaged_files_are_refused_before_a_row_is_written(made: Path, empty: Engine,
                                                          filled: Runtime) -> None:
    key = filled.settings.master_key()
    header, sealed = chunks(made)
    assert len(sealed) >= 3
    flipped = bytearray(b"".join(sealed))
    flipped[len(sealed[0]) + 4 + 12 + 100] ^= 0x01
    fields = json.loads(header[len(MAGIC):])
    fields["tables"]["bank_learners"] = 3
    altered = MAGIC + json.dumps(fields).encode() + b"\n"

    damaged = {
        "a flipped byte": header + bytes(flipped),
        "the final chunk dropped": header + b"".join(sealed[:-1]),
        "cut inside a chunk": header + b"".join(sealed)[:-100],
        "two chunks swapped": header + b"".join([sealed[1], sealed[0], *sealed[2:]]),
        "a chunk after the final one": header + b"".join([*sealed, sealed[-1]]),
        "an altered header": altered + b"".join(sealed),
        "no header": b"hello\n",
    }
    refused = {}
    for what, data in damaged.items():
        made.write_bytes(data)
        refused[what] = refusal(empty, made, key)

    assert refused == {
        "a flipped byte": "the backup is damaged: chunk 1 does not authenticate (altered, "
                          "reordered, or the header was changed)",
        "the final chunk dropped": f"the backup is truncated: it ends after chunk "
                                   f"{len(sealed) - 2} without its final chunk",
        "cut inside a chunk": f"the backup is truncated inside chunk {len(sealed) - 1}",
        "two chunks swapped": "the backup is damaged: chunk 0 does not authenticate (altered, "
                              "reordered, or the header was changed)",
        "a chunk after the final one": "the backup is damaged: data follows its final chunk",
        "an altered header": "the backup is damaged: chunk 0 does not authenticate (altered, "
                             "reordered, or the header was changed)",
        "no header": "this file is not a creditbank backup (its header is missing)",
    }


def test_another_master_key_or_schema_revision_is_named(made: Path, empty: Engine,
                                                        filled: Runtime) -> None:
    assert refusal(empty, made, os.urandom(32)) == (
        "bank.backup was made under another master key: set CREDITBANK_MASTER_KEY to the key "
        "of the bank that made it")

    header, sealed = chunks(made)
    fields = json.loads(header[len(MAGIC):])
    fields["revision"] = "0013_notices"
    made.write_bytes(MAGIC + json.dumps(fields).encode() + b"\n" + b"".join(sealed))

    assert refusal(empty, made, filled.settings.master_key()).startswith(
        "bank.backup is of schema revision 0013_notices and this database is at ")


def test_the_commands_back_up_and_refuse_a_database_that_is_not_empty(
        filled: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CREDITBANK_DATA", str(filled.settings.data_dir))
    monkeypatch.setenv("CREDITBANK_DATABASE_URL", filled.settings.database_url)
    path = tmp_path / "bank.backup"
    before = os.umask(0o022)
    try:
        assert main(["db", "backup", str(path)]) == 0
    finally:
        os.umask(before)
    written = capsys.readouterr()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "bank_learners: 2 row(s)" in written.err
    assert "written to" in written.out

    assert main(["db", "restore", str(path)]) == EXIT_DATA

    assert "the database is not empty (" in capsys.readouterr().err
    with filled.engine.connect() as connection:
        actions = connection.execute(select(metadata.tables["audit_log"].c.action)).scalars()
        assert "db.backup" in list(actions)

