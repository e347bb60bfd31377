"""Coordination between the processes and hosts sharing one database: an elected leader per
job (the revocation watch, the status-list publisher) and one sender at a time per chain account.

On PostgreSQL both are session advisory locks held by a connection of their own, released on
exit or by the server when the holder's session ends: at once when its process dies (kill -9
closes the socket), within `KEEPALIVE_SECONDS` when its host is lost (TCP keepalives). On
SQLite, which serves one host, they are a lock inside the process plus an flock on a file beside
the database, which the kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from infra.errors import InfraError
from infra.secrets import private_dir

logger = logging.getLogger(__name__)

LEADER_RETRY = 5.0
"""Seconds between a follower's attempts to take the lead: the bound on a take-over once the
leader's session has ended."""
SENDER_WAIT = 30.0
"""Seconds a sender waits for an account another process is sending for."""
KEEPALIVE_SECONDS = (10, 5, 3)
"""TCP keepalive idle time, interval and count the server applies to a lock's session."""
POLL_SECONDS = 0.05


class AccountBusy(InfraError, RuntimeError):
    """Another process kept sending for the account longer than this one would wait."""

    status = 503


@contextmanager
def leader(engine: Engine, name: str) -> Iterator[bool]:
    """Whether this process holds the leadership `name` (held until the block ends)."""
    with _held(engine, f"leader:{name}", wait=0.0) as lock:
        yield lock is not None


@contextmanager
def account_sender(engine: Engine, address: str, *, wait: float = SENDER_WAIT) -> Iterator[None]:
    """Be the only sender for the chain account `address` across every host until the block
    ends; raises `AccountBusy` after `wait` seconds of another holding it."""
    with _held(engine, f"account:{address.lower()}", wait=wait) as lock:
        if lock is None:
            raise AccountBusy(f"another process is sending for account {address}")
        yield


class Leadership:
    """The leadership `name` kept from one call to the next: `held()` takes it when it is free
    and says whether this process holds it now; `release()` gives it up."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._stack: ExitStack | None = None
        self._lock: _Lock | None = None

    def held(self) -> bool:
        """Whether this process leads now (taking the lead if nobody holds it)."""
        if self._lock is not None:
            if self._lock.alive():
                return True
            logger.warning("lost the lead of %s", self.name)
            self.release()
        stack = ExitStack()
        lock = stack.enter_context(_held(self.engine, f"leader:{self.name}", wait=0.0))
        if lock is None:
            stack.close()
            return False
        logger.info("leading %s", self.name)
        self._stack, self._lock = stack, lock
        return True

    def release(self) -> None:
        """Give up the lead (if held)."""
        stack, self._stack, self._lock = self._stack, None, None
        if stack is not None:
            stack.close()


def lead(engine: Engine, name: str, stop: threading.Event, work: Callable[[], object], *,
         every: float, retry: float = LEADER_RETRY) -> None:
    """Until `stop` is set: run `work` every `every` seconds while this process leads `name`,
    and try to take the lead every `retry` seconds while another process holds it."""
    leadership = Leadership(engine, name)
    try:
        while not stop.is_set():
            if leadership.held():
                work()
                stop.wait(every)
            else:
                stop.wait(retry)
    finally:
        leadership.release()


class _Lock:
    """One held lock: a PostgreSQL session, or a process lock with a file lock."""

    def __init__(self, connection: Connection | None = None) -> None:
        self.connection = connection

    def alive(self) -> bool:
        """Whether the lock is still held (a PostgreSQL session can be lost)."""
        if self.connection is None:
            return True
        try:
            self.connection.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True


@contextmanager
def _held(engine: Engine, key: str, *, wait: float) -> Iterator[_Lock | None]:
    """Hold the lock `key` while the block runs (None: another holder kept it `wait` s)."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, key, wait) as lock:
            yield lock
    else:
        with _local(engine, key, wait) as lock:
            yield lock


def _advisory_key(key: str) -> int:
    """A signed 64-bit advisory-lock key for a lock name."""
    digest = hashlib.blake2b(f"creditbank:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory(engine: Engine, key: str, wait: float) -> Iterator[_Lock | None]:
    """A session advisory lock on a connection of its own, outside any transaction."""
    number = _advisory_key(key)
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        idle, interval, count = KEEPALIVE_SECONDS
        connection.execute(text(
            "SELECT set_config('tcp_keepalives_idle', :idle, false),"
            " set_config('tcp_keepalives_interval', :interval, false),"
            " set_config('tcp_keepalives_count', :count, false)"),
            {"idle": str(idle), "interval": str(interval), "count": str(count)})
        deadline = time.monotonic() + wait
        while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": number}).scalar_one():
            if time.monotonic() >= deadline:
                yield None
                return
            time.sleep(POLL_SECONDS)
        try:
            yield _Lock(connection)
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": number})
            except DBAPIError:
                connection.invalidate()
    finally:
        connection.close()


_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


@contextmanager
def _local(engine: Engine, key: str, wait: float) -> Iterator[_Lock | None]:
    """A lock of this process, and an flock on a file beside the SQLite database."""
    with _process_locks_guard:
        thread_lock = _process_locks.setdefault(f"{engine.url.database}\0{key}",
                                                threading.Lock())
    deadline = time.monotonic() + wait
    acquired = thread_lock.acquire(timeout=wait) if wait > 0 else thread_lock.acquire(False)
    if not acquired:
        yield None
        return
    try:
        path = _lock_file(engine, key)
        if path is None:
            yield _Lock()
            return
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield None
                        return
                    time.sleep(POLL_SECONDS)
            yield _Lock()
        finally:
            os.close(descriptor)
    finally:
        thread_lock.release()


def _lock_file(engine: Engine, key: str) -> Path | None:
    """The lock file of `key` beside the SQLite database (None for a database in memory)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    folder = Path(database).resolve().parent / f"{Path(database).name}.locks"
    private_dir(folder)
    return folder / (hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".lock")
