"""Load on the served portal: `creditbank node` + Gunicorn (2 workers) + wrk, all on 127.0.0.1.

Scenarios (each on a fresh data directory, a fresh chain and an accredited issuer):
  verify     POST /api/v1/verify with anchored credentials from many batches, 32 connections;
             GET /healthz in the same run is the trivial-endpoint ceiling.
  issue      POST /api/v1/credentials, 10 outcomes a request, with `creditbank worker` anchoring;
             acknowledgement latency from wrk, time to anchored from the database.
  dashboard  GET /api/v1/learners/me (a page of 50, and of 200) for learners holding many
             credentials each (see bench/dashboard_data.py for how they are generated).

Needs wrk (Debian: `apt-get install wrk`). Usage:
  python bench/bench_load.py verify [--credentials 2000] [--batch-size 100] [--seconds 15]
  python bench/bench_load.py issue [--seconds 15] [--connections 8]
  python bench/bench_load.py dashboard [--learners 100] [--per-learner 1000]
Prints a Markdown section to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dashboard_data
import loadkit
from bench_issuance import UNITS
from sqlalchemy import Engine, func, select

from infra.database import open_engine
from infra.settings import Settings
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.registry import Scope, accredit, issuer_record
from issuers.tables import batches, credentials
from ledger.genesis import initialise
from portal.runtime import Runtime

ISSUER = "bench"
BLOCK_PERIOD = 0.2


@dataclass
class Served:
    """A data directory served by a node process and Gunicorn; its URLs and environment."""

    data_dir: Path
    url: str
    node_url: str
    env: dict[str, str]


def prepared(data_dir: Path) -> str:
    """A fresh chain with the bench issuer accredited and its catalogue; the issuer's token."""
    initialise(data_dir)
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
        token = accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                         name="Bench University", slug=ISSUER, actor="cli:bench",
                         scope=Scope(kinds=("course",), levels=tuple(range(1, 9)))).token
        with runtime.engine.begin() as connection:
            add_units(connection, issuer_record(runtime.engine, ISSUER), UNITS)
    return token


def settings(data_dir: Path, **overrides: object) -> Settings:
    """The data directory's settings, its embedded node, its SQLite database."""
    return Settings(data_dir=data_dir, database_url=database_url(data_dir), **overrides)


def database_url(data_dir: Path) -> str:
    """The bench's SQLite database in the data directory."""
    return f"sqlite:///{data_dir / 'creditbank.sqlite'}"


def outcome(learner: int, unit: int, session: str) -> dict:
    """One outcome of the bench catalogue."""
    return {"national_id": f"BENCH-{learner:04d}", "unit": f"U{unit % 20:03d}",
            "session": session, "grade": "A", "completed_on": "2025-06-30"}


def issue_anchored(data_dir: Path, count: int, batch_size: int) -> list[str]:
    """Issue `count` credentials in batches of `batch_size` and anchor them (embedded node)."""
    policy = BatchPolicy(size=batch_size, max_age=3600)
    with Runtime(settings(data_dir, block_period=0.05)) as runtime:
        issuance = Issuance.of(runtime.engine, settings=runtime.settings, policy=policy)
        issuer = issuer_record(runtime.engine, ISSUER)
        batch_ids: set[str] = set()
        for start in range(0, count, 500):
            chunk = [outcome(n, n, "prep") for n in range(start, min(count, start + 500))]
            with runtime.engine.begin() as connection:
                issued = issuance.issue(connection, issuer, outcomes_from_json(chunk),
                                        cryptosuite="eddsa-rdfc-2022", processes=2)
            batch_ids.update(batch for _, _, batch in issued.credentials)
        worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                                 policy=policy)
        worker.drain(batch_ids)
        with runtime.engine.connect() as connection:
            return list(connection.execute(select(credentials.c.anchored)).scalars())


@contextmanager
def served(data_dir: Path, *, worker: bool = False, threads: int = 4) -> Iterator[Served]:
    """The node process and Gunicorn (and the anchoring worker) on a prepared data directory."""
    node_port, web_port = loadkit.free_port(), loadkit.free_port()
    node_url, url = f"http://{loadkit.HOST}:{node_port}", f"http://{loadkit.HOST}:{web_port}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CREDITBANK_")}
    env.update(CREDITBANK_DATA=str(data_dir), CREDITBANK_DATABASE_URL=database_url(data_dir),
               CREDITBANK_LEDGER_URLS=node_url, CREDITBANK_BATCH_SECONDS="1")
    node_env = {key: value for key, value in env.items() if key != "CREDITBANK_LEDGER_URLS"}
    with ExitStack() as stack:
        stack.enter_context(loadkit.node(data_dir, node_port, node_env, BLOCK_PERIOD))
        loadkit.wait_for_node(node_url)
        stack.enter_context(loadkit.portal(data_dir, web_port, env, threads=threads))
        loadkit.wait_for_portal(url)
        if worker:
            argv = [*loadkit.CREDITBANK, "worker"]
            stack.enter_context(loadkit.Child(argv, env, data_dir / "worker.log"))
        yield Served(data_dir, url, node_url, env)


def verify_scenario(args: argparse.Namespace, data_dir: Path) -> list[str]:
    """Verification at 32 connections against the trivial endpoint, both in the same run."""
    prepared(data_dir)
    anchored = issue_anchored(data_dir, args.credentials, args.batch_size)
    bodies = data_dir / "bodies.jsonl"
    bodies.write_text("".join(text.replace("\n", "") + "\n" for text in anchored))
    lines = [f"{len(anchored):,} anchored credentials in batches of {args.batch_size} "
             f"(eddsa-rdfc-2022), sent in turn; Gunicorn 2 workers × {args.threads} threads "
             f"(gthread), node block period {BLOCK_PERIOD} s, wrk 2 threads, "
             f"{args.connections} connections, {args.seconds} s a run.", "",
             loadkit.TABLE_HEAD]
    with served(data_dir, threads=args.threads) as portal:
        loadkit.wrk("warm-up", f"{portal.url}/api/v1/verify", script="verify.lua", seconds=3,
                    connections=args.connections, env={"BENCH_BODIES": str(bodies)})
        for _ in range(args.repeat):
            trivial = loadkit.wrk("GET /healthz (trivial)", f"{portal.url}/healthz",
                                  connections=args.connections, seconds=args.seconds)
            verified = loadkit.wrk("POST /api/v1/verify", f"{portal.url}/api/v1/verify",
                                   script="verify.lua", connections=args.connections,
                                   seconds=args.seconds, env={"BENCH_BODIES": str(bodies)})
            lines += [trivial.row(), verified.row(trivial)]
            lines.append(f"|  not VALID answers: {verified.counts.get('not_valid', 0)} "
                         "| | | | | | |")
    return lines


def issue_scenario(args: argparse.Namespace, data_dir: Path) -> list[str]:
    """Issuance requests under load, and how long their credentials took to be anchored."""
    token = prepared(data_dir)
    env = {"BENCH_TOKEN": token, "BENCH_OUTCOMES": str(args.outcomes)}
    lines = [f"POST /api/v1/credentials, {args.outcomes} outcomes a request (eddsa-rdfc-2022), "
             f"{args.connections} connections, {args.seconds} s; Gunicorn 2 workers × "
             f"{args.threads} threads, `creditbank worker` anchoring (batches close after 1 s "
             f"or 1,000 credentials), node block period {BLOCK_PERIOD} s, SQLite.", "",
             loadkit.TABLE_HEAD]
    with served(data_dir, worker=True, threads=args.threads) as portal:
        trivial = loadkit.wrk("GET /healthz (trivial)", f"{portal.url}/healthz",
                              connections=args.connections, seconds=args.seconds)
        started = time.time()
        issued = loadkit.wrk("POST /api/v1/credentials", f"{portal.url}/api/v1/credentials",
                             script="issue.lua", connections=args.connections,
                             seconds=args.seconds, env=env)
        anchoring = wait_anchored(data_dir, started, timeout=120)
    created = issued.counts.get("created", 0)
    lines += [trivial.row(), issued.row(trivial), "",
              f"{created:,} requests acknowledged (201) = {created * args.outcomes:,} credentials"
              f", {created * args.outcomes / issued.seconds:,.0f} credentials/s acknowledged.",
              anchoring]
    return lines


def wait_anchored(data_dir: Path, since: float, timeout: float) -> str:
    """Wait until every credential issued since `since` is anchored; the latency to anchored."""
    deadline = time.monotonic() + timeout
    query = (select(credentials.c.issued_at, batches.c.anchored_at)
             .join(batches, batches.c.id == credentials.c.batch_id)
             .where(credentials.c.issued_at >= since))
    with database(data_dir) as engine:
        while True:
            with engine.connect() as connection:
                rows = connection.execute(query).all()
            pending = sum(1 for row in rows if row.anchored_at is None)
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    delays = sorted(row.anchored_at - row.issued_at for row in rows if row.anchored_at)
    if not delays:
        return "Nothing was anchored."
    p50 = statistics.median(delays)
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return (f"Time from acknowledgement to anchored, {len(delays):,} credentials: p50 {p50:.2f} s,"
            f" p99 {p99:.2f} s, max {delays[-1]:.2f} s; {pending:,} not anchored "
            f"{timeout:.0f} s after the load stopped.")


def dashboard_scenario(args: argparse.Namespace, data_dir: Path) -> list[str]:
    """The learner dashboard's API over a database holding many credentials per learner."""
    prepared(data_dir)
    (template,) = issue_anchored(data_dir, 1, 1)
    started = time.perf_counter()
    with database(data_dir) as engine:
        opened = settings(data_dir)
        tokens = dashboard_data.fill(
            engine, json.loads(template), issuer_id=ISSUER, master_key=opened.master_key(),
            did_host=opened.did_host, learners_with_tokens=args.learners,
            per_learner=args.per_learner, filler=args.filler)
    filled = time.perf_counter() - started
    token_file = data_dir / "tokens.txt"
    token_file.write_text("".join(token + "\n" for token in tokens))
    with database(data_dir) as engine, engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(credentials)).scalar_one()
    lines = [f"{total:,} credentials in the database ({args.learners:,} learners × "
             f"{args.per_learner:,} held, the rest spread over {args.filler:,} other learners), "
             f"generated in {filled:.0f} s; a page of the record (50 by default, and 200, the "
             f"largest) for the {args.learners:,} learners in turn, {args.connections} "
             f"connections, {args.seconds} s.", "",
             loadkit.TABLE_HEAD]
    with served(data_dir, threads=args.threads) as portal:
        for _ in range(args.repeat):
            trivial = loadkit.wrk("GET /healthz (trivial)", f"{portal.url}/healthz",
                                  connections=args.connections, seconds=args.seconds)
            lines.append(trivial.row())
            for path in ("/api/v1/learners/me", "/api/v1/learners/me?limit=200"):
                page = loadkit.wrk(f"GET {path}", f"{portal.url}{path}", script="dashboard.lua",
                                   connections=args.connections, seconds=args.seconds,
                                   env={"BENCH_TOKENS": str(token_file), "BENCH_PATH": path})
                lines.append(page.row(trivial))
    return lines


@contextmanager
def database(data_dir: Path) -> Iterator[Engine]:
    """An engine on the bench database (with the data directory's master key), disposed after."""
    engine = open_engine(database_url(data_dir), master_key=settings(data_dir).master_key())
    try:
        yield engine
    finally:
        engine.dispose()


SCENARIOS = {"verify": verify_scenario, "issue": issue_scenario, "dashboard": dashboard_scenario}


def main() -> None:
    """Run one scenario and print its Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4, help="Gunicorn threads per worker")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--credentials", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--outcomes", type=int, default=10)
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--per-learner", type=int, default=1000)
    parser.add_argument("--filler", type=int, default=0,
                        help="other learners holding per-learner credentials each")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix=f"creditbank-load-{args.scenario}-"))
    data_dir = root / "data"
    header = [f"## load: {args.scenario} (bench/bench_load.py) — "
              f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
              f"Machine: {loadkit.machine()} at the start.", ""]
    lines = SCENARIOS[args.scenario](args, data_dir)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print("\n".join([*header, *lines, "", f"Load average at the end: {load}."]))
    if args.keep:
        print(f"data kept in {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
