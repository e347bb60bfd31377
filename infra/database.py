"""The off-chain SQL database: engine creation, with the key ring its sealed columns need."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, exc

from infra.schema import upgrade
from infra.sealing import KeyRing, attach
from infra.secrets import keep_private

PING_AFTER_IDLE = 10.0
"""Seconds a pooled server connection may sit idle before its next checkout pings it."""
_IDLE_SINCE = "creditbank_idle_since"


def open_engine(url: str, *, master_key: bytes | None = None, **options: Any) -> Engine:
    """An engine for SQLite (owner-only files, WAL, foreign keys, busy timeout) or any other
    SQLAlchemy URL; with a master key, it seals and opens the sealed columns. Statement
    parameters (personal values among them) are kept out of error messages and logs."""
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, **options)
        if not options.get("pool_pre_ping"):
            event.listen(engine, "checkin", _checked_in)
            event.listen(engine, "checkout", _ping_if_idle)
    if master_key is not None:
        attach(engine, KeyRing(master_key))
    return engine


def _checked_in(_connection: Any, record: Any) -> None:
    """Note when a pooled connection went back to the pool."""
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a pooled connection that sat idle for `PING_AFTER_IDLE` seconds (a restarted server
    or a dropped socket shows there); a broken one is replaced, as SQLAlchemy's pre-ping does.
    A connection in steady use is not pinged: a ping on every checkout costs a round trip (two
    with psycopg's implicit BEGIN) for each of a request's reads."""
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        _ping(connection)
    except Exception as error:
        raise exc.DisconnectionError(f"the pooled connection is gone: {error}") from error


def _ping(connection: Any) -> None:
    """One round trip on a DBAPI connection, leaving no transaction open."""
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    connection.rollback()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Keep the database's files (WAL and shared memory too) owner-only, then set the pragmas."""
    cursor = connection.cursor()
    for _number, _name, file in cursor.execute("PRAGMA database_list").fetchall():
        if file:
            keep_private(file, f"{file}-wal", f"{file}-shm")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_database(url: str, *, master_key: bytes) -> Engine:
    """An engine on the database at `url` with the master key's column keys, brought to the
    newest schema revision."""
    engine = open_engine(url, master_key=master_key)
    upgrade(engine)
    return engine


def first_row(engine: Engine, query: Select) -> dict | None:
    """The first row a query reads, as a dict, or None when it reads none."""
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None
