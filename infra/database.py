"""The off-chain SQL database: one metadata for every package's tables, and engine creation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, Select, create_engine, event

from infra.schema import upgrade
from infra.secrets import keep_private

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def open_engine(url: str, **options: Any) -> Engine:
    """An engine for SQLite (owner-only files, WAL, foreign keys, busy timeout) or any other
    SQLAlchemy URL."""
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


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


def open_database(url: str) -> Engine:
    """An engine on the database at `url`, brought to the newest schema revision."""
    engine = open_engine(url)
    upgrade(engine)
    return engine


def first_row(engine: Engine, query: Select) -> dict | None:
    """The first row a query reads, as a dict, or None when it reads none."""
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None
