"""The citizen's HTML record page (/me) for learners holding 100 and 1,000 real credentials: the
first page from stored verdicts (what the page does now) against the old full path (reading every
credential, verifying each, summing up) in the same run.

Every credential is issued, signed (eddsa-rdfc-2022) and anchored on the embedded chain. The page
is requested through the Flask app in this process (one thread), signed in through the form; the
trivial GET /healthz in the same run is the baseline. The first view stores the learner's
verdicts (from the issuance records, one statement); later views read the page's verdicts and
bring them up to date from the process's verify cache.

  python bench/bench_record_page.py [--sizes 100 1000] [--requests 30] [--database-url URL]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_load import ISSUER, UNITS, outcome
from flask import Flask
from sqlalchemy import delete

from bank.accounts import Accounts
from bank.records import checked_page, held_credentials, record_overview, verify_held
from bank.verdicts import verdicts
from infra.settings import Settings
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.registry import Scope, accredit, issuer_record
from ledger.genesis import initialise
from ledger.views import ChainView
from portal.api.verify import record_context
from portal.app import create_app
from portal.runtime import Runtime
from verify import Context, Status

PASSWORD = "bench record password 1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def national_id(size: int) -> str:
    """The learner who holds `size` credentials."""
    return f"BENCH-{size:04d}"


def issue_records(runtime: Runtime, sizes: list[int]) -> None:
    """Issue and anchor `size` credentials to one learner for each size, in batches of 100."""
    policy = BatchPolicy(size=100, max_age=3600)
    issuance = Issuance.of(runtime.engine, settings=runtime.settings, policy=policy)
    issuer = issuer_record(runtime.engine, ISSUER)
    batch_ids: set[str] = set()
    for size in sizes:
        outcomes = [{**outcome(0, n, f"s{n}"), "national_id": national_id(size)}
                    for n in range(size)]
        for start in range(0, size, 500):
            with runtime.engine.begin() as connection:
                issued = issuance.issue(connection, issuer,
                                        outcomes_from_json(outcomes[start:start + 500]),
                                        cryptosuite="eddsa-rdfc-2022", processes=2)
            batch_ids.update(batch for _, _, batch in issued.credentials)
    worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                             policy=policy)
    worker.drain(batch_ids)


def prepared(data_dir: Path, database_url: str) -> Settings:
    """A fresh chain and database with the bench issuer accredited and its catalogue."""
    initialise(data_dir)
    settings = Settings(data_dir=data_dir, database_url=database_url, block_period=0.05)
    with Runtime(settings) as runtime:
        accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                 name="Bench University", slug=ISSUER, actor="cli:bench",
                 scope=Scope(kinds=("course",), levels=tuple(range(1, 9))))
        with runtime.engine.begin() as connection:
            add_units(connection, issuer_record(runtime.engine, ISSUER), UNITS)
    return settings


def full_path(app: Flask, runtime: Runtime, learner: dict) -> None:
    """What the page did before: read every credential, verify each (the app's shared chain
    facts and remembered signatures), sum up the valid ones."""
    with app.app_context():
        held = held_credentials(runtime.engine, learner)
        reports = verify_held(record_context(), held)
        record_overview([item for item, report in zip(held, reports, strict=True)
                         if report.verdict is Status.VALID])


def stored_path(app: Flask, runtime: Runtime, learner: dict) -> None:
    """What the page does now, without rendering: the first page with stored verdicts."""
    with app.app_context(), runtime.engine.connect() as connection:
        checked_page(connection, learner, record_context, runtime.chain_facts)


def timed(action: Callable[[], object], count: int) -> list[float]:
    """Seconds taken by each of `count` calls, after one warm-up call."""
    action()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return sorted(times)


def row(what: str, times: list[float], baseline: float | None) -> str:
    """A Markdown table row: p50, p99, rate, and the rate as a ratio to the baseline's."""
    p50 = statistics.median(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    rate = len(times) / sum(times)
    ratio = f"{rate / baseline:.4f}" if baseline else "1"
    return f"| {what} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | {rate:,.1f} | {ratio} |"


def main() -> None:
    """Run the benchmark and print its Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", default=None,
                        help="The database (default: SQLite in a new data directory).")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-record-"))
    settings = prepared(data_dir, args.database_url or f"sqlite:///{data_dir / 'bank.sqlite'}")
    with Runtime(settings) as runtime:
        started = time.perf_counter()
        issue_records(runtime, args.sizes)
        print(f"Issued and anchored {sum(args.sizes):,} credentials in "
              f"{time.perf_counter() - started:.0f} s.", file=sys.stderr)
        app = create_app(runtime)
        accounts = Accounts.of(runtime.engine, runtime.settings)
        health = app.test_client()
        healthz = timed(lambda: health.get("/healthz"), args.requests * 10)
        rate = len(healthz) / sum(healthz)
        lines = ["| what | p50 ms | p99 ms | req/s | ratio to trivial |",
                 "|---|---:|---:|---:|---:|", row("GET /healthz (trivial)", healthz, None)]
        ratios = []
        for size in args.sizes:
            learner = accounts.open(national_id(size), PASSWORD)
            accounts.prove_by_city(learner["id"], "bench", holds_password=True)
            client = app.test_client()
            token = TOKEN.search(client.get("/sign-in").get_data(as_text=True)).group(1)
            signed_in = client.post("/sign-in", data={
                "csrf_token": token, "national_id": national_id(size), "password": PASSWORD})
            assert signed_in.status_code == 303, signed_in.status_code

            def page(client=client) -> None:
                response = client.get("/me")
                assert response.status_code == 200, response.status_code

            with runtime.engine.begin() as connection:
                connection.execute(delete(verdicts))
            started = time.perf_counter()
            page()
            first = time.perf_counter() - started
            held = held_credentials(runtime.engine, learner)
            assert len(held) == size, (len(held), size)
            with app.app_context():
                reports = verify_held(record_context(), held)
            assert all(report.verdict is Status.VALID for report in reports)
            new = timed(page, args.requests)
            old = timed(lambda learner=learner: full_path(app, runtime, learner),
                        max(3, args.requests // 3))
            ratios.append((size, statistics.median(old) / statistics.median(new),
                           old[-1] / new[-1]))
            lines += [
                f"| GET /me, {size:,} credentials, first view (stores the verdicts) | "
                f"{first * 1000:.1f} | | | |",
                row(f"GET /me, {size:,} credentials, first page", new, rate),
                row(f"  the page's work without rendering ({size:,})",
                    timed(lambda learner=learner: stored_path(app, runtime, learner),
                          args.requests), rate),
                row(f"  the old full path: read, verify and sum every credential ({size:,})",
                    old, rate),
                row(f"  verifying it, one chain read per credential, as long before ({size:,})",
                    timed(lambda held=held: verify_held(Context(ChainView(runtime.ledger)), held),
                          max(3, args.requests // 6)), rate),
            ]
    print("\n".join(lines))
    for size, p50, p99 in ratios:
        print(f"\n{size:,} credentials: the old full path takes {p50:.1f}x the page's p50 "
              f"and {p99:.1f}x its p99.")


if __name__ == "__main__":
    main()
