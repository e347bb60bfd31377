"""What sealing the sensitive columns costs the learner record API (goal: at most 10 %).

The dashboard scenario's data (bench/bench_load.py, bench/dashboard_data.py: learners holding
many copies of one real anchored credential), plus a few deposits a learner (copies of one real
deposit, whose credential, verification report, evidence and review reasons are sealed; every
answer of the API lists them), is generated once, sealed as the bank stores it. A copy of
the database has every sealed value opened back to plain text and is served with a bench-only
key ring whose seal and open do nothing. Both are served at once by Gunicorn (2 workers each,
rate limits lifted) beside one node; wrk loads one at a time, alternating which goes first in
each round: GET /api/v1/learners/me (a page of 50) and ?limit=200, the learners' tokens in
turn. Sealing alone (a seal and an open of the template credential's anchored JSON) is timed in
this process.

Needs wrk. Usage:
  python bench/bench_sealing.py [--learners 50] [--per-learner 1000] [--seconds 10] [--rounds 2]
  python bench/bench_sealing.py --alone   (sealing alone, as it is and compressed; no wrk)
Prints a Markdown section to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dashboard_data
import loadkit
from bench_load import (
    BLOCK_PERIOD,
    ISSUER,
    database,
    database_url,
    issue_anchored,
    prepared,
    settings,
)
from flask import Flask
from sqlalchemy import delete, func, insert, select, text

from bank.deposits import deposit
from bank.tables import deposits, learners
from infra.database import open_engine
from infra.sealing import (
    PREFIX,
    KeyRing,
    attach,
    ring_of,
    sealed_columns,
    store,
    stored_batches,
)
from infra.settings import Settings
from issuers.tables import credentials
from portal.app import create_app
from portal.runtime import Runtime

BENCH = Path(__file__).resolve().parent
PATHS = ("/api/v1/learners/me", "/api/v1/learners/me?limit=200")
VARIANTS = ("sealed", "plain")
SEAL_COUNT = 20_000
SEAL_ROUND = 1_000
WARM_UP = 20
EVIDENCE = ("Scanned transcript of the evening course, two pages, stamped by the registrar's "
            "office; grade B+ in the final examination.")
REVIEW_REASONS = json.dumps(["The issuer confirmed the result by letter.",
                             "The learner's national id matches the enrolment record."])


class PlainRing(KeyRing):
    """Bench only: a key ring that stores sealed columns as they are (the baseline)."""

    def seal(self, text: str, column: str, *, generation: int | None = None) -> str:
        """The text itself."""
        return text

    def open(self, stored: str, column: str) -> str:
        """The stored text itself."""
        return stored


def portal(plain: bool = False) -> Flask:
    """Gunicorn's app factory: the portal over the environment's settings, rate limits lifted;
    `plain` gives its engine the plaintext key ring."""
    runtime = Runtime(Settings.from_env())
    if plain:
        attach(runtime.engine, PlainRing(runtime.settings.master_key()))
    return create_app(runtime, config={"RATE_LIMITS": {}})


def add_deposits(data_dir: Path, template: str, per_learner: int) -> int:
    """Give every learner `per_learner` deposits: copies (new ids) of one real deposit of the
    template credential, verified against the chain as the bank does; how many were made."""
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
        with runtime.engine.connect() as connection:
            holders = [dict(row) for row in connection.execute(select(learners)).mappings()]
        first = deposit(runtime.engine, runtime.view, holders[0], json.loads(template),
                        evidence=EVIDENCE)
        with runtime.engine.connect() as connection:
            stored = dict(connection.execute(select(deposits).where(
                deposits.c.id == first["id"])).mappings().one())
        copies = [{**stored, "id": str(uuid.uuid4()), "learner_id": holder["id"],
                   "credential_id": f"urn:uuid:{uuid.uuid4()}", "status": "accepted",
                   "reason": None, "reviewer": "bench", "review_reasons": REVIEW_REASONS,
                   "reviewed_at": time.time()}
                  for holder in holders for _ in range(per_learner)]
        with runtime.engine.begin() as connection:
            connection.execute(delete(deposits))
            connection.execute(insert(deposits), copies)
    return len(copies)


def plain_copy(data_dir: Path) -> str:
    """A copy of the bench database with every sealed value opened back to plain; its URL."""
    source = Path(database_url(data_dir).removeprefix("sqlite:///"))
    target = data_dir / "plain.sqlite"
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    url = f"sqlite:///{target}"
    engine = open_engine(url, master_key=settings(data_dir).master_key())
    try:
        ring = ring_of(engine)
        with engine.connect() as connection:
            for table, column in sealed_columns():
                keys = [key.name for key in table.primary_key.columns]
                name = f"{table.name}.{column.name}"
                for rows in stored_batches(connection, table.name, keys, column.name,
                                           batch=5_000):
                    for row in rows:
                        store(connection, table.name, keys, row, column.name,
                              ring.open(row[-1], name))
                    connection.commit()
    finally:
        engine.dispose()
    return url


def sealed_share(url: str, master_key: bytes) -> tuple[int, int]:
    """(values stored sealed, credentials) in a database: what each variant really holds."""
    engine = open_engine(url, master_key=master_key)
    try:
        with engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(credentials)).scalar_one()
            sealed = connection.execute(text(
                "SELECT count(*) FROM credentials WHERE anchored LIKE :prefix"),
                {"prefix": f"{PREFIX}%"}).scalar_one()
    finally:
        engine.dispose()
    return sealed, total


def sealing_alone(document: str, master_key: bytes) -> dict[str, tuple[float, float, int]]:
    """CPU microseconds per seal and per open of one credential document, and its stored length,
    sealed as it is and compressed first: rounds of `SEAL_ROUND` each, the two alternating."""
    rings = {"as it is": KeyRing(master_key, compress_from=None), "compressed": KeyRing(master_key)}
    column = "credentials.anchored"
    taken = {name: [0.0, 0.0] for name in rings}
    stored = {name: ring.seal(document, column) for name, ring in rings.items()}
    for number in range(SEAL_COUNT // SEAL_ROUND):
        for name in rings if number % 2 == 0 else list(rings)[::-1]:
            ring = rings[name]
            started = time.thread_time()
            for _ in range(SEAL_ROUND):
                ring.seal(document, column)
            taken[name][0] += time.thread_time() - started
            started = time.thread_time()
            for _ in range(SEAL_ROUND):
                ring.open(stored[name], column)
            taken[name][1] += time.thread_time() - started
    count = SEAL_COUNT // SEAL_ROUND * SEAL_ROUND
    return {name: (seal / count * 1e6, opening / count * 1e6, len(stored[name]))
            for name, (seal, opening) in taken.items()}


def sealing_alone_lines(document: str, master_key: bytes) -> list[str]:
    """The Markdown lines of `sealing_alone`."""
    timings = sealing_alone(document, master_key)
    return [
        f"Sealing alone, the template credential's anchored JSON ({len(document):,} bytes), "
        f"{SEAL_COUNT:,} seals and opens a form in rounds of {SEAL_ROUND:,} alternating the two "
        f"forms, this thread's CPU time:",
        "",
        "| stored | µs a seal | µs an open | stored characters |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {seal:.1f} | {opening:.1f} | {length:,} |"
          for name, (seal, opening, length) in timings.items()),
    ]


def in_process(data_dir: Path, urls: dict[str, str], tokens: list[str],
               count: int) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(wall, CPU) seconds of `count` requests of each path to each variant through the Flask
    app in this process (one thread), the variants alternating request by request."""
    timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with ExitStack() as stack:
        clients = {}
        for variant in VARIANTS:
            runtime = stack.enter_context(Runtime(replace(settings(data_dir),
                                                          database_url=urls[variant])))
            if variant == "plain":
                attach(runtime.engine, PlainRing(runtime.settings.master_key()))
            clients[variant] = create_app(runtime, config={"RATE_LIMITS": {}}).test_client()
        for number in range(-WARM_UP, count):
            token = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
            for path in PATHS:
                for variant in VARIANTS if number % 2 == 0 else VARIANTS[::-1]:
                    wall, cpu = time.perf_counter(), time.thread_time()
                    response = clients[variant].get(path, headers=token)
                    taken = (time.perf_counter() - wall, time.thread_time() - cpu)
                    assert response.status_code == 200, response.status_code
                    if number >= 0:
                        timings.setdefault((variant, path), []).append(taken)
    return timings


def in_process_rows(timings: dict[tuple[str, str], list[tuple[float, float]]]) -> list[str]:
    """Markdown rows: per path and variant, req/s and p99 by the wall clock and by CPU time,
    and the sealed variant's rates over the plain one's."""
    rows = []
    for path in PATHS:
        rates = {}
        for variant in VARIANTS:
            taken = timings[(variant, path)]
            walls = sorted(wall for wall, _cpu in taken)
            cpus = sorted(cpu for _wall, cpu in taken)
            rates[variant] = (len(walls) / sum(walls), len(cpus) / sum(cpus))
            p99 = (walls[min(len(walls) - 1, int(len(walls) * 0.99))] * 1000,
                   cpus[min(len(cpus) - 1, int(len(cpus) * 0.99))] * 1000)
            ratio = (f"{rates['sealed'][0] / rates['plain'][0]:.3f} | "
                     f"{rates['sealed'][1] / rates['plain'][1]:.3f}"
                     if variant == "plain" else " | ")
            rows.append(f"| {variant} | GET {path} | {len(walls):,} | {rates[variant][0]:,.1f} | "
                        f"{p99[0]:.1f} | {rates[variant][1]:,.1f} | {p99[1]:.1f} | {ratio} |")
    return rows


@contextmanager
def served(data_dir: Path, urls: dict[str, str], threads: int) -> Iterator[dict[str, str]]:
    """One node and a Gunicorn per variant (each on its own database); their base URLs."""
    node_port = loadkit.free_port()
    node_url = f"http://{loadkit.HOST}:{node_port}"
    base = {key: value for key, value in os.environ.items()
            if not key.startswith("CREDITBANK_")}
    base.update(CREDITBANK_DATA=str(data_dir), CREDITBANK_LEDGER_URLS=node_url)
    bases: dict[str, str] = {}
    with ExitStack() as stack:
        node_env = {**base, "CREDITBANK_DATABASE_URL": urls["sealed"]}
        node_env.pop("CREDITBANK_LEDGER_URLS")
        stack.enter_context(loadkit.node(data_dir, node_port, node_env, BLOCK_PERIOD))
        loadkit.wait_for_node(node_url)
        for variant in VARIANTS:
            port = loadkit.free_port()
            argv = [sys.executable, "-m", "gunicorn", "--workers=2", "--worker-class=gthread",
                    f"--threads={threads}", "--bind", f"{loadkit.HOST}:{port}",
                    "--backlog=2048", "--log-level=warning", "--pythonpath", str(BENCH),
                    f"bench_sealing:portal(plain={variant == 'plain'})"]
            env = {**base, "CREDITBANK_DATABASE_URL": urls[variant]}
            stack.enter_context(loadkit.Child(argv, env, data_dir / f"gunicorn-{variant}.log"))
            bases[variant] = f"http://{loadkit.HOST}:{port}"
        for url in bases.values():
            loadkit.wait_for_portal(url)
        yield bases


def main() -> None:
    """Run the benchmark and print its Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--per-learner", type=int, default=1000)
    parser.add_argument("--deposits", type=int, default=5, help="deposits per learner")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4, help="Gunicorn threads per worker")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300,
                        help="requests of each path to each variant in this process")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--alone", action="store_true",
                        help="only time sealing alone, as it is and compressed (no wrk)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sealing-"))
    try:
        if args.alone:
            prepared(data_dir)
            (template,) = issue_anchored(data_dir, 1, 1)
            print("\n".join(sealing_alone_lines(template, settings(data_dir).master_key())))
            return
        print("\n".join(run(args, data_dir)))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir: Path) -> list[str]:
    """Prepare both databases, load both portals, and the section's lines."""
    started = datetime.now(UTC)
    prepared(data_dir)
    (template,) = issue_anchored(data_dir, 1, 1)
    master_key = settings(data_dir).master_key()
    with database(data_dir) as engine:
        tokens = dashboard_data.fill(
            engine, json.loads(template), issuer_id=ISSUER, master_key=master_key,
            did_host=settings(data_dir).did_host, learners_with_tokens=args.learners,
            per_learner=args.per_learner)
    deposited = add_deposits(data_dir, template, args.deposits)
    urls = {"sealed": database_url(data_dir), "plain": plain_copy(data_dir)}
    held = {variant: sealed_share(url, master_key) for variant, url in urls.items()}
    assert held["sealed"][0] == held["sealed"][1] and held["plain"][0] == 0, held
    token_file = data_dir / "tokens.txt"
    token_file.write_text("".join(token + "\n" for token in tokens))
    alone = sealing_alone_lines(template, master_key)
    timings = in_process(data_dir, urls, tokens, args.requests)
    loads: dict[tuple[str, str], list[loadkit.Load]] = {}
    rows = []
    with served(data_dir, urls, args.threads) as bases:
        for base in bases.values():
            loadkit.wrk("warm-up", f"{base}{PATHS[0]}", script="dashboard.lua", seconds=2,
                        connections=args.connections,
                        env={"BENCH_TOKENS": str(token_file), "BENCH_PATH": PATHS[0]})
        for number in range(args.rounds):
            order = VARIANTS if number % 2 == 0 else VARIANTS[::-1]
            for path in PATHS:
                for variant in order:
                    loads.setdefault((variant, path), []).append(loadkit.wrk(
                        f"{number + 1} | {variant} | GET {path}", f"{bases[variant]}{path}",
                        script="dashboard.lua", connections=args.connections,
                        seconds=args.seconds,
                        env={"BENCH_TOKENS": str(token_file), "BENCH_PATH": path}))
                plain = loads[("plain", path)][-1]
                rows += [loads[("sealed", path)][-1].row(plain), plain.row()]
    summary = []
    for path in PATHS:
        rate = {variant: sum(load.requests for load in loads[(variant, path)])
                / sum(load.seconds for load in loads[(variant, path)]) for variant in VARIANTS}
        p99 = {variant: max(load.p99 for load in loads[(variant, path)]) for variant in VARIANTS}
        summary.append(f"| GET {path} | {rate['sealed']:,.0f} | {p99['sealed']:.1f} | "
                       f"{rate['plain']:,.0f} | {p99['plain']:.1f} | "
                       f"{rate['sealed'] / rate['plain']:.3f} |")
    total = held["sealed"][1]
    return [
        f"## sealed columns (bench/bench_sealing.py) — {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {loadkit.machine()}. {total:,} credentials ({args.learners:,} learners × "
        f"{args.per_learner:,}) and {deposited:,} deposits ({args.deposits} a learner, each "
        f"with its credential, verification report, evidence and review reasons sealed; every "
        f"answer lists them), the learner record API served sealed (every sensitive column "
        f"AES-256-GCM) and plain (the same data opened, a key ring that stores text as is) at "
        f"once, Gunicorn 2 workers × {args.threads} threads each, wrk 2 threads, "
        f"{args.connections} connections, {args.seconds} s a run, {args.rounds} rounds "
        f"alternating which goes first.",
        "",
        "| run | variant | load | req/s | p50 ms | p99 ms | requests | errors | ratio to plain |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "| load | sealed req/s | sealed p99 ms | plain req/s | plain p99 ms | sealed / plain |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *summary,
        "",
        f"In this process, through the Flask app (one thread), {args.requests} requests of each "
        f"load to each variant, alternating request by request (so the machine's load falls "
        f"on both alike); by the wall clock and by this thread's CPU time:",
        "",
        "| variant | load | requests | req/s | p99 ms | CPU req/s | CPU p99 ms | sealed / plain "
        "| sealed / plain (CPU) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *in_process_rows(timings),
        "",
        *alone,
    ]


if __name__ == "__main__":
    main()
