"""Benchmark the shared rate-limit table against a per-process dictionary counter.

The dictionary is what a limiter private to each worker costs; the shared table adds a file lock
and a memory-mapped slot per request. Rows: one process, then two processes on one table.
Usage: python bench/bench_ratelimit.py [--hits N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

from portal.ratelimit import RateLimiter

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


def main() -> None:
    """Print a markdown table of hits per second and ratios to the dictionary baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=200_000)
    hits = parser.parse_args().hits
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "ratelimit.table"
        baseline = dictionary_rate(hits)
        alone = table_rate(table, hits)
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            pool.starmap(table_rate, [(table, 1_000)] * 2)
            together = sum(pool.starmap(table_rate, [(table, hits)] * 2))
    print(f"{hits:,} hits per process over {len(CLIENTS):,} clients\n")
    print("| counter | hits/s | ratio to dictionary |\n|---|---:|---:|")
    for label, rate in [("dictionary in one process (baseline)", baseline),
                        ("shared table, one process", alone),
                        ("shared table, two processes at once (sum of both)", together)]:
        print(f"| {label} | {rate:,.0f} | {rate / baseline:.3f} |")


if __name__ == "__main__":
    main()
