"""Benchmark the shared rate-limit table against a per-process dictionary counter.

The dictionary is what a limiter private to each worker costs; the host's shared table adds a file
lock and a memory-mapped slot per request; the database's table (PostgreSQL, shared by every host)
one upsert round trip per request. Rows: one process, then two processes on one table.
Usage: python bench/bench_ratelimit.py [--hits N] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from infra.database import open_database
from portal.ratelimit import RateLimiter, SharedRateLimiter

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
    """Hits per second of the database's shared table from this process."""
    engine = open_database(url, master_key=bytes(32))
    limiter = SharedRateLimiter(engine, bytes(32))
    started = time.perf_counter()
    for number in range(hits):
        limiter.hit("verify", CLIENTS[number % len(CLIENTS)], 10**9, 60)
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


def main() -> None:
    """Print a markdown table of hits per second and ratios to the dictionary baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=200_000)
    parser.add_argument("--database-url", help="a PostgreSQL database to count in as well")
    parser.add_argument("--database-hits", type=int, default=20_000)
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
                rows.append(("PostgreSQL `SELECT 1` through the pool (the floor)",
                             round_trip_rate(url, database_hits)))
                rows.append(("PostgreSQL table, one process", database_rate(url, database_hits)))
                rows.append(("PostgreSQL table, two processes at once (sum of both)",
                             sum(pool.starmap(database_rate, [(url, database_hits)] * 2))))
    print(f"{hits:,} hits per process over {len(CLIENTS):,} clients "
          f"({database_hits:,} on PostgreSQL)\n")
    print("| counter | hits/s | ratio to dictionary | ratio to the file table |")
    print("|---|---:|---:|---:|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {rate / baseline:.4f} | {rate / alone:.3f} |")


if __name__ == "__main__":
    main()
