"""Rate limits are counted in one table shared by every process of a host (SQLite), or by every
host (PostgreSQL: each process counts a share alone and sends its counts in batches), window by
window."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url, select

from infra.database import open_database
from portal.app import create_app
from portal.ratelimit import (
    CLEAN_SECONDS,
    PROBES,
    SLOTS,
    RateLimiter,
    SharedRateLimiter,
    client_of,
    overshoot,
)
from portal.runtime import Runtime
from portal.tables import rate_limits
from tests.support.databases import PostgresServer
from tests.support.paths import ROOT

HITS = """
import sys
from pathlib import Path
from portal.ratelimit import RateLimiter
limiter = RateLimiter(Path(sys.argv[1]))
sys.stdin.readline()
print(sum(limiter.hit("verify", "203.0.113.7", 100, 3600) for _ in range(60)))
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_processes_on_one_table_share_one_limit(tmp_path: Path) -> None:
    table = tmp_path / "ratelimit.table"
    processes = [
        subprocess.Popen([sys.executable, "-c", HITS, str(table)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    allowed = [int(process.communicate("go\n", timeout=60)[0]) for process in processes]
    assert (sum(allowed), [process.returncode for process in processes]) == (100, [0, 0, 0])


def test_windows_scopes_and_clients_are_counted_apart(tmp_path: Path) -> None:
    clock = Clock(7_200.0)
    limiter = RateLimiter(tmp_path / "ratelimit.table", clock)

    def burst(scope: str, client: str, times: int = 4) -> list[bool]:
        return [limiter.hit(scope, client, 3, 60) for _ in range(times)]

    first = burst("verify", "a")
    other_client, other_scope = burst("verify", "b"), burst("accounts", "a")
    clock.now += 59
    same_window = burst("verify", "a", 1)
    clock.now += 1
    next_window = burst("verify", "a")
    reopened = RateLimiter(tmp_path / "ratelimit.table", clock)
    assert [first, other_client, other_scope, same_window, next_window] == [
        [True, True, True, False]] * 3 + [[False], [True, True, True, False]]
    assert reopened.hit("verify", "a", 3, 60) is False


def test_a_crowded_table_reuses_expired_slots_and_fails_open_when_full(tmp_path: Path,
                                                                      monkeypatch) -> None:
    keys = iter(range(1, 100))
    monkeypatch.setattr("portal.ratelimit._key", lambda scope, client: SLOTS * next(keys))
    clock = Clock(600.0)
    limiter = RateLimiter(tmp_path / "ratelimit.table", clock)
    crowd = [limiter.hit("verify", str(client), 0, 60) for client in range(PROBES)]
    one_more = limiter.hit("verify", "late", 0, 60)
    clock.now += 60
    after_the_window = limiter.hit("verify", "next", 0, 60)
    assert (crowd, one_more, after_the_window) == ([False] * PROBES, True, False)


def test_an_ipv6_subscriber_counts_as_one_client() -> None:
    addresses = ["2001:db8:1:2::7", "2001:db8:1:2:ffff::1", "2001:db8:1:3::7",
                 "::ffff:203.0.113.7", "203.0.113.7", None]
    assert [client_of(address) for address in addresses] == [
        "2001:db8:1:2::/64", "2001:db8:1:2::/64", "2001:db8:1:3::/64",
        "203.0.113.7", "203.0.113.7", "-"]


SHARED_HITS = """
import sys
from infra.database import open_engine
from portal.ratelimit import SharedRateLimiter
limiter = SharedRateLimiter(open_engine(sys.argv[1]), bytes(32))
sys.stdin.readline()
print(sum(limiter.hit("verify", "203.0.113.7", 100, 3600) for _ in range(60)))
"""


def windows(engine: Engine) -> list[tuple[int, int]]:
    """The shared table's (window end, count) rows."""
    with engine.connect() as connection:
        return sorted((end, count) for end, count in connection.execute(
            select(rate_limits.c.window_end, rate_limits.c.count)))


def test_hosts_on_one_postgresql_database_share_one_limit(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    open_database(url, master_key=bytes(32)).dispose()
    processes = [
        subprocess.Popen([sys.executable, "-c", SHARED_HITS, url], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(3)
    ]
    allowed = [int(process.communicate("go\n", timeout=60)[0]) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0]
    assert 100 <= sum(allowed) <= 100 + overshoot(100, 3) == 127


def test_two_hosts_let_through_the_limit_and_at_most_their_shares_more(
    postgres: PostgresServer
) -> None:
    engine = open_database(postgres.new_database(), master_key=bytes(32))
    hosts = [SharedRateLimiter(engine, bytes(32)) for _ in range(2)]
    start = threading.Barrier(8)

    def requests(limiter: SharedRateLimiter) -> int:
        start.wait()
        return sum(limiter.hit("verify", "203.0.113.7", 30, 3600) for _ in range(40))

    try:
        with ThreadPoolExecutor(8) as pool:
            allowed = sum(pool.map(requests, hosts * 4))
        for host in hosts:
            host.close()
        assert 30 <= allowed <= 30 + overshoot(30, 2) == 34
        assert windows(engine)[0][1] >= allowed
    finally:
        engine.dispose()


def test_a_process_counts_its_share_alone_and_sends_it_in_one_upsert(
    postgres: PostgresServer
) -> None:
    engine = open_database(postgres.new_database(), master_key=bytes(32))
    limiter = SharedRateLimiter(engine, bytes(32), Clock(7_200.0), interval=3_600)
    try:
        alone = [limiter.hit("verify", client, 100, 60) for client in "ab" for _ in range(9)]
        before = windows(engine)
        limiter.flush()
        after_the_flush = windows(engine)
        beyond_the_share = [limiter.hit("verify", "a", 100, 60) for _ in range(10)]
        assert (alone, before, after_the_flush) == ([True] * 18, [], [(7_260, 9)] * 2)
        assert (beyond_the_share, windows(engine)) == ([True] * 10, [(7_260, 9), (7_260, 19)])
    finally:
        limiter.close()
        engine.dispose()


def test_shared_windows_are_counted_apart_roll_over_and_ended_ones_deleted(
    postgres: PostgresServer
) -> None:
    engine = open_database(postgres.new_database(), master_key=bytes(32))
    clock = Clock(7_200.0)
    limiter = SharedRateLimiter(engine, bytes(32), clock, interval=3_600)

    def burst(scope: str, client: str, limit: int = 3, times: int = 4) -> list[bool]:
        return [limiter.hit(scope, client, limit, 60) for _ in range(times)]

    first = burst("verify", "a")
    other_client, other_scope = burst("verify", "b"), burst("accounts", "a")
    shared = burst("verify", "c", 30, 31)
    clock.now += 59
    same_window = burst("verify", "a", times=1) + burst("verify", "c", 30, 1)
    limiter.flush()
    before = windows(engine)
    clock.now += CLEAN_SECONDS + 1
    next_window = burst("verify", "a") + burst("verify", "c", 30, 31)
    limiter.flush()
    try:
        assert [first, other_client, other_scope, same_window] == [
            [True, True, True, False]] * 3 + [[False, False]]
        assert shared == next_window[4:] == [True] * 30 + [False]
        assert next_window[:4] == [True, True, True, False]
        assert before == [(7_260, 3), (7_260, 3), (7_260, 3), (7_260, 30)]
        assert windows(engine) == [(7_380, 3), (7_380, 30)]
    finally:
        limiter.close()
        engine.dispose()


def test_a_database_gone_away_counts_in_the_process_alone_and_never_raises(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.new_database()
    engine = open_database(url, master_key=bytes(32))
    limiter = SharedRateLimiter(engine, bytes(32), interval=3_600)
    try:
        while_up = [limiter.hit("verify", "a", 5, 3600) for _ in range(2)]
        with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')
        while_gone = [limiter.hit("verify", client, limit, 3600)
                      for client, limit in [("a", 5)] * 4 + [("b", 100)] * 12]
        limiter.flush()
    finally:
        limiter.close()
        engine.dispose()
    assert (while_up, while_gone) == ([True] * 2, [True] * 3 + [False] + [True] * 12)
    assert "rate limits counted in this process only" in caplog.text


def test_the_portal_counts_in_the_database_on_postgresql_and_in_a_file_on_sqlite(
    runtime: Runtime
) -> None:
    limiter = create_app(runtime).extensions["rate_limiter"]
    shared = runtime.engine.dialect.name == "postgresql"
    assert isinstance(limiter, SharedRateLimiter if shared else RateLimiter)
    assert (runtime.settings.data_dir / "ratelimit.table").exists() is not shared
