"""Benchmark the shared rate-limit table against a per-process dictionary counter.

The dictionary is what a limiter private to each worker costs; the host's shared table adds a file
lock and a memory-mapped slot per request; the database's table (PostgreSQL, shared by every host)
costs a dictionary update per request, each process sending its counts in one upsert every 200 ms
(`SharedRateLimiter`), where it cost one upsert round trip per request before (reproduced here as
"one upsert per hit"). Rows: one process, then two processes on one table; on PostgreSQL, before
and after interleaved over `--rounds` rounds (the median of each).
Usage: python bench/bench_ratelimit.py [--hits N] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.pool import Pool
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from infra.database import open_database
from portal.ratelimit import RateLimiter, SharedRateLimiter
from portal.tables import rate_limits

CLIENTS = [f"10.0.{number // 250}.{number % 250}" for number in range(5_000)]


def dictionary_rate(hits: int) -> float:
    """Hits per second of a plain in-process fixed-window counter (the baseline)."""
    windows: dict[tuple[str, str], tuple[int, int]] = {}
    started = time.perf_counter()
    for number in range(hits):
        key, window = ("verify", CLIENTS[number % len(CLIENTS)]), int(time.time() // 60)
        start, count = windows.get(key, (window, 0))
        windows[key] = (window, count + 1 if start == window else 1)
    return hits / (time.perf_counter() - started)


def table_rate(path: Path, hits: int) -> float:
    """Hits per second of the shared table in this process."""
    limiter = RateLimiter(path)
    started = time.perf_counter()
    for number in range(hits):
        limiter.hit("verify", CLIENTS[number % len(CLIENTS)], 10**9, 60)
    return hits / (time.perf_counter() - started)


def database_rate(url: str, hits: int) -> float:
    """Hits per second of the database's shared table from this process, counted locally and sent
    in batches (its last counts sent before the clock stops)."""
    engine = open_database(url, master_key=bytes(32))
    limiter = SharedRateLimiter(engine, bytes(32))
    started = time.perf_counter()
    for number in range(hits):
        limiter.hit("verify", CLIENTS[number % len(CLIENTS)], 10**9, 60)
    limiter.close()
    rate = hits / (time.perf_counter() - started)
    engine.dispose()
    return rate


def upsert_rate(url: str, hits: int) -> float:
    """Hits per second of one upsert round trip per hit (the shared table's limiter before it
    counted locally)."""
    engine = open_database(url, master_key=bytes(32)).execution_options(
        isolation_level="AUTOCOMMIT")
    end = (int(time.time()) // 60 + 1) * 60
    started = time.perf_counter()
    for number in range(hits):
        key = hash(("verify", CLIENTS[number % len(CLIENTS)]))
        upsert = (
            insert(rate_limits).values(key=key, window_end=end, count=1)
            .on_conflict_do_update(index_elements=[rate_limits.c.key, rate_limits.c.window_end],
                                   set_={"count": rate_limits.c.count + 1})
            .returning(rate_limits.c.count)
        )
        with engine.connect() as connection:
            connection.execute(upsert).scalar_one()
    rate = hits / (time.perf_counter() - started)
    engine.dispose()
    return rate


def round_trip_rate(url: str, hits: int) -> float:
    """`SELECT 1` through the connection pool per second: the floor of any counter in the
    database."""
    engine = open_database(url, master_key=bytes(32)).execution_options(
        isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    for _ in range(hits):
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    rate = hits / (time.perf_counter() - started)
    engine.dispose()
    return rate


def database_rows(pool: Pool, url: str, hits: tuple[int, int],
                  rounds: int) -> list[tuple[str, float]]:
    """Before (one upsert per hit) and after (counted locally, sent in batches), one process and
    two at once, interleaved round by round; the median of each. `hits`: (before, after) per
    process (the upserts are slow)."""
    before, after = hits
    rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        measured = [
            ("PostgreSQL, one upsert per hit (before), one process", upsert_rate(url, before)),
            ("PostgreSQL, counted locally (after), one process", database_rate(url, after)),
            ("PostgreSQL, one upsert per hit (before), two processes (sum)",
             sum(pool.starmap(upsert_rate, [(url, before)] * 2))),
            ("PostgreSQL, counted locally (after), two processes (sum)",
             sum(pool.starmap(database_rate, [(url, after)] * 2))),
        ]
        for label, rate in measured:
            rates.setdefault(label, []).append(rate)
    return [(label, statistics.median(measured)) for label, measured in rates.items()]


def main() -> None:
    """Print a markdown table of hits per second and ratios to the dictionary baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=200_000)
    parser.add_argument("--database-url", help="a PostgreSQL database to count in as well")
    parser.add_argument("--database-hits", type=int, default=200_000)
    parser.add_argument("--upsert-hits", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    hits, url, database_hits = arguments.hits, arguments.database_url, arguments.database_hits
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "ratelimit.table"
        baseline = dictionary_rate(hits)
        alone = table_rate(table, hits)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            pool.starmap(table_rate, [(table, 1_000)] * 2)
            together = sum(pool.starmap(table_rate, [(table, hits)] * 2))
            rows = [("dictionary in one process (baseline)", baseline),
                    ("host's file table, one process", alone),
                    ("host's file table, two processes at once (sum of both)", together)]
            if url:
                rows.append(("PostgreSQL `SELECT 1` through the pool (a round trip)",
                             round_trip_rate(url, arguments.upsert_hits)))
                rows += database_rows(pool, url, (arguments.upsert_hits, database_hits),
                                      arguments.rounds)
    print(f"{hits:,} hits per process over {len(CLIENTS):,} clients ({database_hits:,} on "
          f"PostgreSQL, {arguments.upsert_hits:,} for one upsert per hit; median of "
          f"{arguments.rounds} interleaved rounds)\n")
    print("| counter | hits/s | ratio to dictionary | ratio to the file table |")
    print("|---|---:|---:|---:|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {rate / baseline:.4f} | {rate / alone:.3f} |")


if __name__ == "__main__":
    main()
