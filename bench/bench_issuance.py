"""Benchmark issuance end to end through the CLI: `creditbank issue` on a CSV of N outcomes
(check + sign + store + batch + anchor + write files), for each cryptosuite.

Each run gets a fresh chain and issuer. Reports credentials/s, the ratio to raw Ed25519 signing
measured in the same run (one core, and times the signing processes), the peak RSS of the
largest process (the CLI or one of its signing workers), the CPU time of the CLI and its workers,
and the machine's load average (1 min) when the run started. Appends a section to bench/RESULTS.md.
Usage: python bench/bench_issuance.py [--count N] [--suite S] [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from credentials.keys import SigningKey
from credentials.proofs import CRYPTOSUITES
from infra.settings import Settings
from issuers.catalogue import add_units
from issuers.registry import Scope, accredit, issuer_record
from ledger.genesis import initialise
from portal.runtime import Runtime

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
UNITS = [
    {
        "code": f"U{number:03d}",
        "title": f"Unit {number}",
        "description": "A unit of the bench catalogue.",
        "kind": "course",
        "level": {"framework": "CQF", "level": 6, "eqf_level": 6},
        "credit_value": 4,
        "credit_scheme": "CN-NCB",
        "hours": 64,
        "learning_outcomes": ["Explain the core ideas", "Apply them to new problems"],
        "category": "Engineering",
        "valid_from": "2020-09-01",
    }
    for number in range(20)
]


def raw_sign_rate(count: int = 50_000) -> float:
    """Raw Ed25519 signatures per second on one core (64-byte messages, as DI hash data)."""
    key = SigningKey.generate()
    messages = [hashlib.sha512(n.to_bytes(8, "big")).digest() for n in range(count)]
    started = time.perf_counter()
    for message in messages:
        key.sign(message)
    return count / (time.perf_counter() - started)


def prepare(data_dir: Path, count: int) -> Path:
    """A chain with an accredited issuer and its units, and a CSV of `count` outcomes."""
    initialise(data_dir)
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'creditbank.sqlite'}"
    )
    with Runtime(settings) as runtime:
        accredit(
            runtime.engine,
            runtime.chain,
            settings=runtime.settings,
            name="Bench University",
            slug="bench",
            scope=Scope(kinds=("course",), levels=tuple(range(1, 9))),
            actor="cli:bench",
        )
        with runtime.engine.begin() as connection:
            add_units(connection, issuer_record(runtime.engine, "bench"), UNITS)
    path = data_dir / "outcomes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["national_id", "unit", "session", "grade", "credits", "completed_on"])
        for number in range(count):
            writer.writerow(
                [
                    f"{110101199000000000 + number}",
                    UNITS[number % 20]["code"],
                    "2025 spring",
                    "A",
                    4,
                    "2025-06-30",
                ]
            )
    return path


def run_cli(data_dir: Path, outcomes: Path, suite: str) -> tuple[float, float, float]:
    """Seconds for `creditbank issue … --out DIR`, the peak RSS (MiB) of its processes and the
    CPU seconds (user + system) they used."""
    env = {**os.environ, "CREDITBANK_DATA": str(data_dir)}
    env.pop("CREDITBANK_LEDGER_URLS", None)
    command = [
        sys.executable,
        "-m",
        "portal.cli",
        "issue",
        "--issuer",
        "bench",
        str(outcomes),
        "--cryptosuite",
        suite,
        "--out",
        str(data_dir / "out"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, after.ru_maxrss / 1024, cpu


def machine() -> str:
    """CPU model, cores and Python of this machine."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    """Run the benchmark and print (and record) its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--suite", choices=CRYPTOSUITES, action="append")
    parser.add_argument("--no-record", action="store_true", help="Do not append to RESULTS.md.")
    options = parser.parse_args()
    processes = os.cpu_count() or 1
    raw = raw_sign_rate()
    rows = [f"| raw Ed25519 sign (1 core) | {raw:,.0f} | 1.000 | | | | {os.getloadavg()[0]:.1f} |"]
    for suite in options.suite or CRYPTOSUITES:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            outcomes = prepare(data_dir, options.count)
            load = os.getloadavg()[0]
            elapsed, peak, cpu = run_cli(data_dir, outcomes, suite)
            written = len(list((data_dir / "out").iterdir()))
        assert written == options.count, f"{written} credentials written of {options.count}"
        rate = options.count / elapsed
        rows.append(
            f"| `creditbank issue`, {suite}, {options.count:,} credentials | {rate:,.0f} | "
            f"{rate / raw:.3f} ({rate / (raw * processes):.3f} of {processes} cores) | "
            f"{elapsed:.1f} s | {cpu:.1f} s | {peak:,.0f} MiB | {load:.1f} |"
        )
    table = "\n".join(
        [
            "| run | credentials/s | ratio to raw sign | wall time | CPU time | peak RSS | load |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    print(table)
    if not options.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        section = (
            f"\n## issuance end to end (bench/bench_issuance.py, {stamp}, {machine()})\n\n"
            "`creditbank issue --out DIR` on a CSV of outcomes: check every line, sign (one "
            "process per core) and store as signed, in batches of 1,000, anchor every batch on "
            "the embedded node (1 s block period), store the anchored credentials and write one "
            "file each. CPU time is user + system time of the CLI and its workers; peak RSS "
            "is the largest single process; load is the 1-minute load average when the run "
            "started.\n\n" + table + "\n"
        )
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
