"""Benchmark issuance end to end.

The CLI: `creditbank issue --out DIR` on a CSV of N outcomes (check + sign + store + batch +
anchor + write files) on SQLite, and on PostgreSQL when `--postgres` names a server; with
`--before DIR` (a checkout of the code to compare, e.g. `git archive HEAD | tar -x -C DIR`) the
same run also times that code on the same data, alternating, for ratios measured in one run.
The API: `POST /api/v1/credentials` with 100 outcomes a request, under Gunicorn (2 workers) on
the database of `--postgres` (else SQLite), driven by wrk: credentials/s, p50 and p99, with
`GET /healthz` in the same run as the baseline.

Each CLI run gets a fresh chain, database and issuer. It reports credentials/s, the ratio to raw
Ed25519 signing measured in the same run, the peak RSS of the largest process, the CPU time of
the CLI and its workers (less noisy than wall time on a shared machine) and the load average.
Appends a section to bench/RESULTS.md.
Usage: python bench/bench_issuance.py [--count N] [--suite S] [--before DIR]
       [--postgres postgresql+psycopg://USER@HOST:PORT] [--api-seconds 20]
       [--connections 4] [--no-api] [--no-cli] [--no-record]
"""

from __future__ import annotations

import argparse
import atexit
import csv
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import loadkit
import psycopg

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


def prepare(data_dir: Path, count: int, database_url: str | None = None) -> tuple[Path, str]:
    """A chain with an accredited issuer and its units (on `database_url`, else SQLite in the
    data directory), and a CSV of `count` outcomes; returns the CSV and the issuer's token."""
    initialise(data_dir)
    settings = Settings(data_dir=data_dir, database_url=database_url or sqlite_url(data_dir))
    with Runtime(settings) as runtime:
        accreditation = accredit(
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
    return path, accreditation.token


def sqlite_url(data_dir: Path) -> str:
    """The data directory's own SQLite database."""
    return f"sqlite:///{data_dir / 'creditbank.sqlite'}"


def new_database(server: str) -> str:
    """A fresh, empty database on the PostgreSQL server `postgresql+psycopg://USER@HOST:PORT`."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = server.replace("postgresql+psycopg://", "postgresql://").rstrip("/")
    with psycopg.connect(f"{dsn}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


def run_cli(
    data_dir: Path, outcomes: Path, suite: str, database_url: str | None, code: Path | None
) -> tuple[float, float, float]:
    """Seconds for `creditbank issue … --out DIR` (of the code in `code`, else this checkout),
    the peak RSS (MiB) of its processes and the CPU seconds (user + system) they used."""
    env = {**os.environ, "CREDITBANK_DATA": str(data_dir)}
    env.pop("CREDITBANK_LEDGER_URLS", None)
    if database_url is not None:
        env["CREDITBANK_DATABASE_URL"] = database_url
    if code is not None:
        env["PYTHONPATH"] = str(code)
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
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors,
                                   text=True, cwd=code)
        # wait4 gives this run's own usage (its processes' CPU and largest peak), where
        # RUSAGE_CHILDREN's peak is the largest of every child this bench ever waited for.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            errors.seek(0)
            raise SystemExit(
                f"creditbank issue failed ({process.returncode}): {errors.read()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def cli_row(label: str, count: int, suite: str, raw: float, database_url: str | None,
            code: Path | None, folder: Path) -> tuple[str, float]:
    """One CLI run on fresh data in a new folder under `folder`: its table row and its rate."""
    data_dir = Path(tempfile.mkdtemp(dir=folder)) / "data"
    outcomes = data_dir / "outcomes.csv"
    if code is None:
        prepare(data_dir, count, database_url)
    else:
        subprocess.run(
            [sys.executable, __file__, "--prepare", str(data_dir), "--count", str(count),
             *(["--database-url", database_url] if database_url else [])],
            env={**os.environ, "PYTHONPATH": str(code)}, cwd=code, check=True,
        )
    load = os.getloadavg()[0]
    elapsed, peak, cpu = run_cli(data_dir, outcomes, suite, database_url, code)
    written = len(list((data_dir / "out").iterdir()))
    assert written == count, f"{written} credentials written of {count}"
    rate = count / elapsed
    processes = os.cpu_count() or 1
    row = (
        f"| `creditbank issue`, {suite}, {count:,} credentials, {label} | {rate:,.0f} | "
        f"{rate / raw:.3f} ({rate / (raw * processes):.3f} of {processes} cores) | "
        f"{elapsed:.1f} s | {cpu:.1f} s | {peak:,.0f} MiB | {load:.1f} |"
    )
    return row, rate


@contextmanager
def served(data_dir: Path, database_url: str) -> Iterator[str]:
    """The node and Gunicorn (2 workers) over a prepared data directory; yields the portal URL."""
    node_port, web_port = loadkit.free_port(), loadkit.free_port()
    node_url = f"http://{loadkit.HOST}:{node_port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREDITBANK_")}
    env.update(CREDITBANK_DATA=str(data_dir), CREDITBANK_DATABASE_URL=database_url)
    with ExitStack() as stack:
        stack.enter_context(loadkit.node(data_dir, node_port, env, 1.0))
        loadkit.wait_for_node(node_url)
        env["CREDITBANK_LEDGER_URLS"] = node_url
        url = f"http://{loadkit.HOST}:{web_port}"
        stack.enter_context(loadkit.portal(data_dir, web_port, env, threads=2))
        loadkit.wait_for_portal(url)
        yield url


def api_rows(database_url: str, seconds: int, connections: int) -> list[str]:
    """`POST /api/v1/credentials` of 100 outcomes a request under wrk, and `GET /healthz`."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        _, token = prepare(data_dir, 0, database_url)
        env = {"BENCH_TOKEN": token, "BENCH_OUTCOMES": "100"}
        with served(data_dir, database_url) as url:
            loadkit.wrk("warm-up", f"{url}/api/v1/credentials", script="issue.lua", seconds=3,
                        connections=connections, env=env)
            trivial = loadkit.wrk("GET /healthz (trivial)", f"{url}/healthz",
                                  connections=connections, seconds=seconds)
            issued = loadkit.wrk("POST /api/v1/credentials, 100 outcomes",
                                 f"{url}/api/v1/credentials", script="issue.lua",
                                 connections=connections, seconds=seconds, env=env)
    created = issued.counts.get("created", 0)
    return [
        loadkit.TABLE_HEAD,
        trivial.row(),
        issued.row(trivial),
        "",
        f"{created:,} requests acknowledged (201) = {created * 100:,} credentials, "
        f"**{created * 100 / issued.seconds:,.0f} credentials/s**; p50 {issued.p50:.0f} ms, "
        f"p99 {issued.p99:.0f} ms a request of 100.",
    ]


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
    """Run the benchmark and print (and record) its tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--suite", choices=CRYPTOSUITES, action="append")
    parser.add_argument("--postgres",
                        help="a PostgreSQL server: postgresql+psycopg://USER@HOST:PORT")
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--api-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-api", action="store_true", help="Skip the API run.")
    parser.add_argument("--no-cli", action="store_true", help="Skip the CLI runs.")
    parser.add_argument("--no-record", action="store_true", help="Do not append to RESULTS.md.")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.prepare is not None:
        prepare(options.prepare, options.count, options.database_url)
        return
    raw = raw_sign_rate()
    rows = [f"| raw Ed25519 sign (1 core) | {raw:,.0f} | 1.000 | | | | {os.getloadavg()[0]:.1f} |"]
    ratios = []
    databases = [("SQLite", None)]
    if options.postgres:
        databases.append(("PostgreSQL", options.postgres))
    # Each run's files stay until the bench ends: on ext4, files created in the minutes after
    # 100,000 others were deleted cost 14× the CPU (374 µs a file against 27: the allocator
    # skips the recently freed inodes), which would charge one run with the last one's cleanup.
    kept = Path(tempfile.mkdtemp(prefix="bench-issuance-"))
    atexit.register(shutil.rmtree, kept, ignore_errors=True)
    for suite in [] if options.no_cli else options.suite or [CRYPTOSUITES[0]]:
        for name, server in databases:
            codes = [("after", None)]
            if options.before is not None:
                codes.insert(0, ("before", options.before.resolve()))
            rates = {}
            for label, code in codes:
                url = new_database(server) if server else None
                row, rates[label] = cli_row(f"{name}, {label}", options.count, suite, raw, url,
                                            code, kept)
                rows.append(row)
                print(row, flush=True)
            if "before" in rates:
                ratios.append(f"{suite} on {name}: after ÷ before = "
                              f"{rates['after'] / rates['before']:.2f}")
    table = "\n".join(
        [
            "| run | credentials/s | ratio to raw sign | wall time | CPU time | peak RSS | load |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
            *(["", *ratios] if ratios else []),
        ]
    )
    print(table)
    api = []
    if not options.no_api:
        database = new_database(options.postgres) if options.postgres else None
        with tempfile.TemporaryDirectory() as tmp:
            url = database or sqlite_url(Path(tmp))
            api = api_rows(url, options.api_seconds, options.connections)
        print("\n".join(api))
    if not options.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        section = (
            f"\n## issuance end to end (bench/bench_issuance.py, {stamp}, {machine()})\n\n"
            "`creditbank issue --out DIR` on a CSV of outcomes: read and check the lines in "
            "chunks while a pool (one process per core) checks and signs the next ones, store "
            "each chunk as it comes back, in batches of 1,000, anchor every batch on the "
            "embedded node (1 s block period), store the anchored credentials and write one "
            "file each. CPU time is user + system time of the CLI and its workers; peak RSS "
            "is the largest single process; load is the 1-minute load average when the run "
            "started.\n\n" + table + "\n"
            + ("\nThe issuer API, Gunicorn 2 workers × 2 threads, wrk "
               f"{options.connections} connections, {options.api_seconds} s, "
               f"{'PostgreSQL' if options.postgres else 'SQLite'}:\n\n" + "\n".join(api) + "\n"
               if api else "")
        )
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
