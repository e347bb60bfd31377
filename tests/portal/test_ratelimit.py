"""Rate limits are counted in one table shared by every process of a host, window by window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from portal.ratelimit import PROBES, SLOTS, RateLimiter, client_of

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
