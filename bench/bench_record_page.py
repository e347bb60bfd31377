"""The citizen's HTML record page (/me) for learners holding 100 and 1,000 real credentials.

Every credential is issued, signed (eddsa-rdfc-2022) and anchored on the embedded chain, so the
page's live verification does its full work. The page is requested through the Flask app in
this process (one thread), signed in through the form; the trivial GET /healthz in the same run
is the baseline, and the page's two parts, reading the record and verifying it, are timed alone,
the verification both against the portal's shared chain facts (what the page uses) and against
the chain read directly for every credential (what the page used before).

  python bench/bench_record_page.py [--sizes 100 1000] [--requests 30]
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

from bench_load import ISSUER, outcome, prepared, settings
from flask import Flask

from bank.accounts import Accounts
from bank.records import Held, held_credentials, verify_held
from issuers.anchoring import AnchoringWorker
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.registry import issuer_record
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


def verified(app: Flask, held: list[Held]) -> None:
    """Verify a record as the page does: a new context, the app's shared chain facts and memo."""
    with app.app_context():
        verify_held(record_context(), held)


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
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-record-"))
    prepared(data_dir)
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
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

            started = time.perf_counter()
            page()
            first = time.perf_counter() - started
            held = held_credentials(runtime.engine, learner)
            assert len(held) == size, (len(held), size)
            with app.app_context():
                reports = verify_held(record_context(), held)
            assert all(report.verdict is Status.VALID for report in reports)
            lines += [
                f"| GET /me, {size:,} credentials, first view | {first * 1000:.1f} | | | |",
                row(f"GET /me, {size:,} credentials", timed(page, args.requests), rate),
                row(f"  reading the record ({size:,})",
                    timed(lambda learner=learner: held_credentials(runtime.engine, learner),
                          args.requests), rate),
                row(f"  verifying it ({size:,})",
                    timed(lambda held=held: verified(app, held), args.requests), rate),
                row(f"  verifying it, one chain read per credential, as before ({size:,})",
                    timed(lambda held=held: verify_held(Context(ChainView(runtime.ledger)), held),
                          max(3, args.requests // 6)), rate),
            ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
