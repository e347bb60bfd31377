"""A fixed-window rate limit per client address for public endpoints, shared by every process
that serves the portal.

On SQLite (one host), every process that opens the same counter file (the Gunicorn workers of one
data directory) counts into one table in shared memory, so a limit holds for the host, not for
each worker. On PostgreSQL, every host counts into one table of the database (`SharedRateLimiter`,
one upsert per request), so a limit holds for the whole bank behind its load balancer.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import logging
import mmap
import os
import threading
import time
import weakref
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from struct import Struct
from typing import Any, Protocol, TypeVar

from flask import current_app, request
from flask_smorest import abort
from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from infra.secrets import derive_secret, keep_private
from portal.tables import rate_limits

View = TypeVar("View", bound=Callable[..., Any])

SLOT = Struct("<QQQ")  # key (0 = empty), end of the slot's window (epoch seconds), count
SLOTS = 1 << 16
PROBES = 8
CLEAN_SECONDS = 60
"""How often a host deletes the shared table's ended windows."""

logger = logging.getLogger(__name__)


class Limiter(Protocol):
    """Counts one request of a client against a limit."""

    def hit(self, scope: str, client: str, limit: int, period: int) -> bool:
        """Count one request; False when the client is over its limit in this window."""


class RateLimiter:
    """Counts requests per (scope, client) in windows of `period` seconds, in a shared file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        keep_private(path)
        size = SLOTS * SLOT.size
        if os.fstat(self._fd).st_size < size:
            os.ftruncate(self._fd, size)
        self._table = mmap.mmap(self._fd, size)
        weakref.finalize(self, os.close, self._fd)
        self._lock = threading.Lock()
        self._clock = clock

    def hit(self, scope: str, client: str, limit: int, period: int) -> bool:
        """Count one request; False when the client is over its limit in this window."""
        now = int(self._clock())
        end = (now // period + 1) * period
        key = _key(scope, client)
        with self._lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                count = self._count(key, end, now)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
        return count <= limit

    def _count(self, key: int, end: int, now: int) -> int:
        """Add one to the key's count in the window ending at `end`; the new count."""
        free = None
        for probe in range(PROBES):
            offset = (key + probe) % SLOTS * SLOT.size
            slot_key, slot_end, count = SLOT.unpack_from(self._table, offset)
            if slot_key == key and slot_end == end:
                SLOT.pack_into(self._table, offset, key, end, count + 1)
                return count + 1
            if free is None and (slot_key == 0 or slot_end <= now or slot_key == key):
                free = offset
        if free is None:
            return 0  # every probed slot holds another live client: fail open rather than refuse
        SLOT.pack_into(self._table, free, key, end, 1)
        return 1


def _key(scope: str, client: str) -> int:
    """A 64-bit table key for (scope, client), never 0."""
    digest = hashlib.blake2b(f"{scope}\0{client}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


class SharedRateLimiter:
    """Counts requests per (scope, client) in windows of `period` seconds in the database's
    `rate_limits` table, which every host shares (PostgreSQL); the client is stored only as a
    hash keyed with a secret derived from the master key."""

    def __init__(self, engine: Engine, master_key: bytes,
                 clock: Callable[[], float] = time.time) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._secret = derive_secret(master_key, b"creditbank rate limits")
        self._clock = clock
        self._cleaned_at = 0

    def hit(self, scope: str, client: str, limit: int, period: int) -> bool:
        """Count one request with one upsert; False when the client is over its limit in this
        window (True, counting nothing, while the database cannot be reached)."""
        now = int(self._clock())
        end = (now // period + 1) * period
        digest = hashlib.blake2b(f"{scope}\0{client}".encode(), key=self._secret,
                                 digest_size=8).digest()
        upsert = (
            insert(rate_limits)
            .values(key=int.from_bytes(digest, "big", signed=True), window_end=end, count=1)
            .on_conflict_do_update(index_elements=[rate_limits.c.key, rate_limits.c.window_end],
                                   set_={"count": rate_limits.c.count + 1})
            .returning(rate_limits.c.count)
        )
        try:
            with self._engine.connect() as connection:
                count = connection.execute(upsert).scalar_one()
                if now - self._cleaned_at >= CLEAN_SECONDS:
                    self._cleaned_at = now
                    connection.execute(delete(rate_limits).where(rate_limits.c.window_end <= now))
        except DBAPIError as error:
            logger.warning("rate limits not counted: %s", type(error.orig).__name__)
            return True
        return count <= limit


def rate_limiter(engine: Engine, master_key: bytes, data_dir: Path) -> Limiter:
    """The limiter the portal counts with: shared through PostgreSQL when it is the database,
    else the host's counter file in the data directory."""
    if engine.dialect.name == "postgresql":
        return SharedRateLimiter(engine, master_key)
    return RateLimiter(data_dir / "ratelimit.table")


def client_of(address: str | None) -> str:
    """Whom a limit counts: an IPv4 address, or the /64 network of an IPv6 one (one subscriber)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def limited(scope: str) -> Callable[[View], View]:
    """Apply the app's `RATE_LIMITS[scope]` = (requests, seconds) to a view."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limits = current_app.config["RATE_LIMITS"]
            if scope in limits:
                limit, period = limits[scope]
                limiter: Limiter = current_app.extensions["rate_limiter"]
                if not limiter.hit(scope, client_of(request.remote_addr), limit, period):
                    abort(429, message=f"too many requests: at most {limit} per {period} s")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
