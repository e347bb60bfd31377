"""Sign-in throughput: learners signing in with the right password through the web form and the
API token endpoint, in this process (one thread), against the trivial GET /healthz in the same run.

Password hashing (scrypt) is most of a sign-in's cost; what the bank adds around it (failure
counters, back-off, per-address limits, the session or token row) is the rest. Rate limits of
the public endpoints are off, as in the load benchmarks, so that the figures are the code's.

  python bench/bench_sign_in.py [--learners 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_load import prepared, settings

from portal.app import create_app
from portal.runtime import Runtime

PASSWORD = "bench sign-in password 1"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
UNLIMITED = {"accounts": (10**9, 1), "verify": (10**9, 1)}


def national_id(number: int) -> str:
    """The national id of bench learner `number`."""
    return f"SIGNIN-{number:05d}"


def rate(action: Callable[[int], object], count: int) -> tuple[float, float]:
    """(calls per second, p50 ms) of `action(n)` for n in 0..count-1."""
    times = []
    for number in range(count):
        started = time.perf_counter()
        action(number)
        times.append(time.perf_counter() - started)
    return count / sum(times), statistics.median(times) * 1000


def main() -> None:
    """Run the benchmark and print its Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sign-in-"))
    prepared(data_dir)
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
        app = create_app(runtime, {"RATE_LIMITS": UNLIMITED})
        for number in range(args.learners):
            runtime.accounts.open(national_id(number), PASSWORD)
        client = app.test_client()

        def healthz(_number: int) -> None:
            assert client.get("/healthz").status_code == 200

        def api(number: int) -> None:
            response = client.post("/api/v1/learners/token", json={
                "national_id": national_id(number % args.learners), "password": PASSWORD})
            assert response.status_code == 201, response.status_code

        def web(number: int) -> None:
            browser = app.test_client()
            token = TOKEN.search(browser.get("/sign-in").get_data(as_text=True))
            assert token is not None
            response = browser.post("/sign-in", data={
                "csrf_token": token.group(1), "national_id": national_id(number % args.learners),
                "password": PASSWORD})
            assert response.status_code == 303, response.status_code

        count = args.learners * args.rounds
        trivial, trivial_p50 = rate(healthz, count * 10)
        rows = [("GET /healthz (trivial)", trivial, trivial_p50)]
        rows.append(("POST /api/v1/learners/token, right password", *rate(api, count)))
        rows.append(("POST /sign-in (form), right password", *rate(web, count)))
    print("| sign-in | per second | p50 ms | ratio to trivial |")
    print("|---|---:|---:|---:|")
    for what, per_second, p50 in rows:
        print(f"| {what} | {per_second:,.1f} | {p50:.1f} | {per_second / trivial:.4f} |")


if __name__ == "__main__":
    main()
