"""A fixed-window rate limit per client address for public endpoints, shared by every process
that serves the portal.

On SQLite (one host), every process that opens the same counter file (the Gunicorn workers of one
data directory) counts into one table in shared memory, so a limit holds for the host, not for
each worker. On PostgreSQL, every host counts into one table of the database (`SharedRateLimiter`:
each process counts a share of a limit alone and sends its counts in one upsert every 200 ms), so a
limit holds for the whole bank behind its load balancer, give or take the processes' shares.
"""

from __future__ import annotations

import atexit
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
from functools import partial, wraps
from pathlib import Path
from struct import Struct
from typing import Any, Protocol, TypeVar

from flask import current_app, request
from flask_smorest import abort
from sqlalchemy import BigInteger, Engine, Integer, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import DBAPIError

from infra.secrets import derive_secret, keep_private
from portal.tables import rate_limits

View = TypeVar("View", bound=Callable[..., Any])

SLOT = Struct("<QQQ")  # key (0 = empty), end of the slot's window (epoch seconds), count
SLOTS = 1 << 16
PROBES = 8
CLEAN_SECONDS = 60
"""How often a host deletes the shared table's ended windows."""
FLUSH_SECONDS = 0.2
"""How often a process sends its counts to the shared table and reads back the totals."""
SHARE = 10
"""A process counts alone at most a tenth of a limit before it asks the shared table."""
RETRY_SECONDS = 1.0
"""How long a process counts alone after the database did not answer."""

logger = logging.getLogger(__name__)

_counted = func.unnest(
    bindparam("keys", type_=ARRAY(BigInteger)), bindparam("ends", type_=ARRAY(BigInteger)),
    bindparam("counts", type_=ARRAY(Integer)),
).table_valued("key", "window_end", "count").render_derived("counted")
_adding = insert(rate_limits).from_select(
    ["key", "window_end", "count"], select(_counted.c.key, _counted.c.window_end, _counted.c.count))
UPSERT = _adding.on_conflict_do_update(
    index_elements=[rate_limits.c.key, rate_limits.c.window_end],
    set_={"count": rate_limits.c.count + _adding.excluded.count},
).returning(rate_limits.c.key, rate_limits.c.window_end, rate_limits.c.count)
"""Add counts given as three arrays (keys, window ends, counts) to the shared table; the new
totals."""


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


class _Window:
    """One client's counts in one window, as this process knows them."""

    __slots__ = ("known", "sending", "unsent")

    def __init__(self) -> None:
        self.known = 0  # the shared table's total when last read (this process's sent counts in it)
        self.sending = 0  # counted here, in an upsert on its way to the table
        self.unsent = 0  # counted here since the last upsert

    def decide(self, limit: int, share: int) -> bool | None:
        """Refuse a request over the limit, count one within this process's share, or None: ask
        the shared table."""
        if self.known + self.sending + self.unsent >= limit:
            return False
        if self.sending + self.unsent + 1 < share:
            self.unsent += 1
            return True
        return None


def local_share(limit: int) -> int:
    """How many requests of one client a process counts alone before the shared table hears of
    them: a tenth of the limit, and at least one (one: every request asks the table)."""
    return max(1, limit // SHARE)


def overshoot(limit: int, processes: int) -> int:
    """The most requests beyond `limit` that `processes` processes counting in one table let
    through in a window while the database answers: none for one process (it knows all it
    counted); else what each counted alone and the others had not read yet when the table reached
    the limit, at most its share less one (fewer if fewer arrived in one flush interval)."""
    return 0 if processes == 1 else processes * (local_share(limit) - 1)


class SharedRateLimiter:
    """Counts requests per (scope, client) in windows of `period` seconds in the database's
    `rate_limits` table, which every host shares (PostgreSQL); the client is stored only as a
    hash keyed with a secret derived from the master key.

    A request costs a dictionary update: each process counts alone up to its `local_share` of a
    limit and a thread sends its counts every `FLUSH_SECONDS` in one upsert that reads back the
    shared totals; a request beyond the share sends the client's counts at once and is decided on
    the table's total; a request over the limit is refused without counting. One process alone is
    exact; several let through at most `overshoot` more.
    """

    def __init__(self, engine: Engine, master_key: bytes,
                 clock: Callable[[], float] = time.time, interval: float = FLUSH_SECONDS) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._secret = derive_secret(master_key, b"creditbank rate limits")
        self._clock = clock
        self._interval = interval
        self._cleaned_at = 0.0
        self._down_until = 0.0
        self._wrote = False
        self._start_afresh()
        me = weakref.ref(self)
        os.register_at_fork(after_in_child=partial(_afresh, me))
        atexit.register(_close, me)

    def _start_afresh(self) -> None:
        """Forget every count and flusher (at creation, and in a forked child: the parent sends
        its own counts)."""
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._windows: dict[int, dict[int, _Window]] = {}
        self._unsent: dict[tuple[int, int], _Window] = {}
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def hit(self, scope: str, client: str, limit: int, period: int) -> bool:
        """Count one request; False when the client is over its limit in this window (True,
        counted in this process only, while the database cannot be reached)."""
        end = (int(self._clock()) // period + 1) * period
        digest = hashlib.blake2b(f"{scope}\0{client}".encode(), key=self._secret,
                                 digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        share = local_share(limit)
        with self._lock:
            if self._flusher is None:
                self._start_flusher()
            window = self._window(key, end)
            decided = window.decide(limit, share)
            if decided:
                self._unsent[(key, end)] = window
        return self._ask(key, end, limit, share) if decided is None else decided

    def _window(self, key: int, end: int) -> _Window:
        """The client's counts in the window ending at `end` (caller holds the lock)."""
        clients = self._windows.get(end)
        if clients is None:
            clients = self._windows[end] = {}
        window = clients.get(key)
        if window is None:
            window = clients[key] = _Window()
        return window

    def _ask(self, key: int, end: int, limit: int, share: int) -> bool:
        """Count one request beyond this process's share: send the client's unsent counts now and
        decide on the table's total (the other clients' counts wait for the flusher)."""
        with self._lock:
            window = self._window(key, end)
            decided = window.decide(limit, share)
            if decided is not None:
                if decided:
                    self._unsent[(key, end)] = window
                return decided
            count, window.unsent = window.unsent + 1, 0
            window.sending += count
            self._unsent.pop((key, end), None)
        total = self._send({(key, end): (window, count)}).get((key, end))
        return total is None or total <= limit  # None: counted in this process, under its limit

    def flush(self) -> None:
        """Send this process's unsent counts and read back the totals; forget ended windows (and,
        every `CLEAN_SECONDS`, delete them from the table)."""
        with self._flushing:
            self._send(self._take_unsent())
            now = self._clock()
            with self._lock:
                for end in [end for end in self._windows if end <= now]:
                    del self._windows[end]
            due = now - self._cleaned_at >= CLEAN_SECONDS and time.monotonic() >= self._down_until
            if self._wrote and due:
                self._cleaned_at = now
                try:
                    with self._engine.connect() as connection:
                        connection.execute(
                            delete(rate_limits).where(rate_limits.c.window_end <= now))
                except DBAPIError as error:
                    logger.warning("ended rate-limit windows not deleted: %s",
                                   type(error.orig).__name__)

    def close(self) -> None:
        """Stop the flusher and send the counts not sent yet."""
        self._stop.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()
        with self._flushing:
            self._send(self._take_unsent())

    def _start_flusher(self) -> None:
        """Start this process's flusher thread (lazily: after a fork, in the counting process)."""
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=_flush_every, args=(weakref.ref(self), self._stop,
                                         self._interval), name="rate limits", daemon=True)
        self._flusher.start()
        weakref.finalize(self, self._stop.set)

    def _take_unsent(self) -> dict[tuple[int, int], tuple[_Window, int]]:
        """Every window's unsent counts, moved to `sending`."""
        with self._lock:
            batch = {slot: (window, window.unsent) for slot, window in self._unsent.items()}
            self._unsent = {}
            for window, count in batch.values():
                window.sending, window.unsent = window.sending + count, 0
        return batch

    def _send(self, batch: dict[tuple[int, int], tuple[_Window, int]]
              ) -> dict[tuple[int, int], int]:
        """One upsert of the counts; the shared totals read back (none while the database cannot
        be reached: the counts then stay in this process)."""
        if not batch:
            return {}
        totals: dict[tuple[int, int], int] = {}
        if time.monotonic() >= self._down_until:
            try:
                totals = self._upsert(sorted((slot, count) for slot, (_, count) in batch.items()))
                self._wrote = True
            except DBAPIError as error:
                self._down_until = time.monotonic() + RETRY_SECONDS
                logger.warning("rate limits counted in this process only: %s",
                               type(error.orig).__name__)
        with self._lock:
            for slot, (window, count) in batch.items():
                window.sending -= count
                total = totals.get(slot)
                window.known = window.known + count if total is None else max(window.known, total)
        return totals

    def _upsert(self, counts: list[tuple[tuple[int, int], int]]) -> dict[tuple[int, int], int]:
        """Add the counts to the table in one statement, in key order (two hosts never wait on
        each other in a cycle); the new totals."""
        arrays = {"keys": [key for (key, _), _ in counts], "ends": [end for (_, end), _ in counts],
                  "counts": [count for _, count in counts]}
        with self._engine.connect() as connection:
            return {(key, end): total for key, end, total in connection.execute(UPSERT, arrays)}


def _flush_every(limiter: weakref.ref[SharedRateLimiter], stop: threading.Event,
                 interval: float) -> None:
    """The flusher thread: flush every `interval` seconds until stopped or the limiter is gone."""
    while not stop.wait(interval):
        live = limiter()
        if live is None:
            return
        live.flush()
        del live


def _afresh(limiter: weakref.ref[SharedRateLimiter]) -> None:
    """In a forked child, start the limiter afresh."""
    live = limiter()
    if live is not None:
        live._start_afresh()


def _close(limiter: weakref.ref[SharedRateLimiter]) -> None:
    """At exit, send the limiter's last counts."""
    live = limiter()
    if live is not None:
        live.close()


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
