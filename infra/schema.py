"""The off-chain database schema: Alembic migrations, applied under a lock so processes can race."""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from infra.errors import SchemaUnknown, SchemaUntracked

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK = 0x6372_6564_6974  # "credit": one PostgreSQL advisory lock for migrations
_current: weakref.WeakSet[Engine] = weakref.WeakSet()
_local_lock = threading.Lock()


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration over our migration scripts (and `engine`, to run them)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head() -> str:
    """The newest migration revision shipped with this code."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision; concurrent callers wait for one another."""
    if engine in _current:
        return
    with _local_lock, _migration_lock(engine):
        found = current(engine)
        if found is not None and not _known(found):
            raise SchemaUnknown(found, head())
        if found is None and inspect(engine).get_table_names():
            raise SchemaUntracked()
        if found != head():
            command.upgrade(alembic_config(engine), "head")
    _current.add(engine)


def _known(revision: str) -> bool:
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        return False
    return True


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the cross-process migration lock: a file lock for SQLite, an advisory lock otherwise."""
    if engine.dialect.name == "sqlite":
        with _file_lock(engine):
            yield
        return
    with engine.connect() as connection:
        _advisory(connection, "pg_advisory_lock")
        try:
            yield
        finally:
            _advisory(connection, "pg_advisory_unlock")


def _advisory(connection: Connection, function: str) -> None:
    connection.execute(text(f"SELECT {function}(:key)"), {"key": ADVISORY_LOCK})
    connection.commit()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrate-lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
