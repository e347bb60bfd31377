"""The issue's read figures at several sizes of the bank (10k, 100k, 1M, 10M credentials), on
PostgreSQL and SQLite, with the ratio of each size's figure to the smallest size's.

For each size a fresh bank is built: one institution accredited on the embedded chain with the
bench catalogue; through the product (signed eddsa-rdfc-2022, anchored by the anchoring worker): a
learner holding 1,000 credentials (the record page and the learner API), a learner holding 40 (the
degree audit against an approved programme) and 200 credentials of other learners in two batches
(what `POST /api/v1/verify` is sent). The rest of the size is filler, bulk-loaded (COPY on
PostgreSQL, executemany in transactions of 100,000 rows on SQLite) from those signed templates: one
learner account for every ten credentials (opened by the institution, as a bulk opening does), each
credential's document the template's with its own id, learner, hashed identifier, session, dates,
status entries and batch anchor, held once (in `anchored`, `signed` empty, as anchoring leaves it);
sealed through the engine's key ring as the column type seals; the Merkle digest computed as
issuance does; status places claimed through the product's allocator; batches of 1,000. The rows
are made from each template's text cut at its varying values (`scale_filler.Template`) in worker
processes (`--processes`, the number of cores by default), tasks of 10,000 credentials each; on
PostgreSQL every worker writes its own with COPY. The filler is NOT individually signed (its
signatures and Merkle paths do not hold): it is there to be read and counted, never verified.
The load drops the three big tables' secondary indexes and creates them again from the schema
afterwards, then runs the product's rebuilds of derived tables (stored verdicts, maintained
aggregates) and ANALYZE, as autovacuum would. The public catalogue grows with the bank (one unit
per 100 credentials, at least 1,000). Before a load the bench refuses when the filler would not
fit the free disk with 30 % headroom, at the bytes a filler credential took in the run's previous
(smaller) bank on the same database, or, for the first, an estimate from a sealed sample
(`ROW_EXTRA`).

Every figure is requested through the Flask app in this process (one thread, the test client),
signed in as each console's user: p50 and p99 of wall-clock milliseconds; GET /healthz in the same
run is the trivial baseline. On a shared machine the figures are noisy: compare the ratios.

  python bench/bench_scale.py --sizes 10k,100k,1m --databases sqlite,postgresql [--requests 50]
      [--postgres-url postgresql+psycopg://user@host:port/postgres] [--keep] [--processes N]

PostgreSQL is started in a temporary folder (fsync off, WAL minimal: the load's speed, not what
the rows are) unless --postgres-url names a server where databases may be created.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import loadkit
import psycopg
from bench_issuance import UNITS
from bench_public import SCOPE, catalogue_rows, programme
from flask.testing import FlaskClient
from scale_filler import (
    BATCH,
    ISSUER,
    MARKS,
    YEAR,
    YEARS,
    Filler,
    Made,
    Maker,
    Rows,
    Task,
    Template,
    run_task,
    start_maker,
    write_pending,
)
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from bank.accounts import Accounts
from bank.staff import add_staff
from bank.tables import learners
from infra.cli import Progress
from infra.sealing import ring_of
from infra.settings import Settings
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import accredit, issuer_record
from issuers.status import allocate
from issuers.tables import batches, credentials, units
from ledger.genesis import initialise
from portal.app import create_app
from portal.runtime import Runtime

RECORD_LEARNER = "SCALE-RECORD-1000"
AUDIT_LEARNER = "SCALE-AUDIT-0040"
RECORD_SIZE = 1_000
AUDIT_SIZE = 40
VERIFY_SIZE = 200
CHUNK = 10_000
TRANSACTION = 100_000
UNITS_PER_INSTITUTION = 10_000
ROW_EXTRA = 3_300
"""Bytes a credential takes besides its sealed document: its other columns, its index entries,
its share of a learner account and its stored verdict (5,400 bytes a filler credential in all at
100k on PostgreSQL, 2026-12-06, its document compressed before it was sealed: 2,170 of them).
Only the smallest bank of a run is estimated from it; a larger one from what that bank measured."""
HEADROOM = 1.3
"""The free disk a load asks for, as a multiple of its estimate."""
PASSWORD = "bench scale password 1"
INSTITUTION_USER, OPERATOR_USER = "scale-institution", "scale-operator"
LOADED_TABLES = (credentials, batches, learners)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SIZES = {"k": 1_000, "m": 1_000_000}
SEARCHES = ("text=python", "text=nursing%202", "kind=certificate&level=5",
            "field=Finance&min_credits=3", "min_credits=2&max_credits=3&kind=course",
            "text=zzz-no-such-unit")
def parse_size(value: str) -> int:
    """'10k', '1m', '1000' as a number of credentials."""
    value = value.strip().lower()
    if value[-1:] in SIZES:
        return int(float(value[:-1]) * SIZES[value[-1]])
    return int(value)


def size_label(size: int) -> str:
    """10,000 as '10k', 1,000,000 as '1M'."""
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    return f"{size // 1_000}k" if size % 1_000 == 0 else str(size)


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@dataclass
class Bank:
    """A built bank: what the figures need to address it."""

    size: int
    database: str
    verify_documents: list[dict]
    credential_ids: list[str]
    filler_ids: list[str]
    record_did: str
    record_size: int
    templates: dict[str, Template]
    bytes_per_row: float = 0.0
    """Bytes a filler credential added on disk (its learner's share, batch, indexes, verdict)."""
    load_seconds: float = 0.0
    build_seconds: float = 0.0
    stored_bytes: int = 0
    not_rebuilt: list[str] = field(default_factory=list)


def outcome(national_id: str, unit: int, session: str) -> dict:
    """One outcome of the bench catalogue."""
    return {"national_id": national_id, "unit": f"U{unit % len(UNITS):03d}", "session": session,
            "grade": "A", "completed_on": "2025-06-30"}


def issue_real(runtime: Runtime, record_size: int) -> tuple[list[str], list[str], str]:
    """Issue and anchor, through the product, the measured learners' credentials and the verify
    set; the verify set's credential ids, every real credential id and the record learner's DID."""
    policy = BatchPolicy(size=100, max_age=3600)
    issuance = Issuance.of(runtime.engine, settings=runtime.settings, policy=policy)
    issuer = issuer_record(runtime.engine, ISSUER)
    wanted = ([outcome(RECORD_LEARNER, n, f"r{n // len(UNITS)}") for n in range(record_size)]
              + [outcome(AUDIT_LEARNER, n, f"a{n // len(UNITS)}") for n in range(AUDIT_SIZE)])
    verify = [outcome(f"SCALE-V-{n:05d}", n, "v") for n in range(VERIFY_SIZE)]
    batch_ids: set[str] = set()
    for start in range(0, len(wanted), 520):
        chunk = wanted[start:start + 520]
        with runtime.engine.begin() as connection:
            issued = issuance.issue(connection, issuer, outcomes_from_json(chunk),
                                    cryptosuite="eddsa-rdfc-2022", processes=2)
        batch_ids.update(batch for _, _, batch in issued.credentials)
    with runtime.engine.begin() as connection:
        issued = issuance.issue(connection, issuer, outcomes_from_json(verify),
                                cryptosuite="eddsa-rdfc-2022", processes=2)
    batch_ids.update(batch for _, _, batch in issued.credentials)
    verify_ids = [credential_id for credential_id, _, _ in issued.credentials]
    AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                    policy=policy).drain(batch_ids)
    with runtime.engine.connect() as connection:
        every = list(connection.execute(select(credentials.c.id)).scalars())
    record_did = runtime_accounts(runtime).identity(RECORD_LEARNER)[0]
    return verify_ids, every, record_did


def runtime_accounts(runtime: Runtime) -> Accounts:
    """The runtime's learner accounts."""
    return Accounts.of(runtime.engine, runtime.settings)


def templates_of(runtime: Runtime, verify_ids: list[str]) -> dict[str, Template]:
    """One template per unit, from the anchored verify set."""
    found: dict[str, Template] = {}
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(credentials).where(
            credentials.c.id.in_(verify_ids))).mappings()
        for row in rows:
            if row["unit_code"] not in found and row["anchored"] is not None:
                found[row["unit_code"]] = Template(dict(row))
    return found


def load_filler(runtime: Runtime, templates: dict[str, Template], count: int, block: int, *,
                processes: int | None = None) -> list[str]:
    """Bulk-load `count` filler credentials (and their learners and batches), a round of one
    credential per learner each year; a sample of their ids, spread over the load. `processes`
    worker processes (the number of cores by default) make the rows of tasks of up to `CHUNK`
    credentials, disjoint runs of the credentials' numbers whose status places this process
    claims; on PostgreSQL each writes its own with COPY, on SQLite this process writes them
    all."""
    engine = runtime.engine
    postgres = engine.dialect.name == "postgresql"
    filler = Filler(settings=runtime.settings,
                    templates=tuple(templates[name] for name in sorted(templates)),
                    count=count, start=time.time() - YEARS * YEAR, block=block, copy=postgres)
    workers = max(1, min(processes or os.cpu_count() or 1, math.ceil(count / BATCH)))
    size = max(BATCH, min(CHUNK, math.ceil(count / workers / BATCH) * BATCH))
    master_key = runtime.settings.master_key()
    sample: list[str] = []
    started = time.perf_counter()
    with ExitStack() as stack, engine.connect() as connection:
        progress = stack.enter_context(Progress(count, "  filler", rate=True))
        rows = Rows(connection)
        if workers > 1:
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(
                workers, initializer=start_maker, initargs=(filler,)))

            def submit(task: Task) -> Callable[[], Made]:
                return pool.apply_async(run_task, (task,)).get
        else:
            maker = Maker(filler, engine)

            def submit(task: Task) -> Callable[[], Made]:
                made = maker.run(task)
                return lambda: made
        waiting: deque[Callable[[], Made]] = deque()
        written = 0
        transaction = connection.begin()

        def finish() -> None:
            nonlocal written, transaction
            made, ids, pending = waiting.popleft()()
            if pending is not None:
                write_pending(rows, pending)
            sample.extend(ids)
            before, written = written, written + made
            if written // TRANSACTION > before // TRANSACTION or written == count:
                transaction.commit()
                transaction = connection.begin()
            progress.update(made)

        for first in range(0, count, size):
            places = allocate(connection, master_key, ISSUER, min(size, count - first))
            waiting.append(submit((first, [(place.list, place.index) for place in places])))
            if len(waiting) > 2 * workers:
                finish()
        while waiting:
            finish()
        transaction.commit()
        if workers > 1:
            pool.close()
            pool.join()
    elapsed = time.perf_counter() - started
    say(f"  filler: {count:,} credentials in {elapsed:,.0f} s, {count / max(elapsed, 1e-9):,.0f}"
        f" rows/s, {workers} process{'es' if workers > 1 else ''} making rows")
    return sample


@contextmanager
def without_indexes(engine: Engine) -> Iterator[None]:
    """Drop the loaded tables' secondary indexes for the load and create them again afterwards,
    from the schema's own definitions (which the migrations build)."""
    with engine.begin() as connection:
        for table in LOADED_TABLES:
            for index in table.indexes:
                index.drop(connection)
    yield
    started = time.perf_counter()
    with engine.begin() as connection:
        for table in LOADED_TABLES:
            for index in sorted(table.indexes, key=lambda index: str(index.name)):
                index.create(connection)
    say(f"  indexes created in {time.perf_counter() - started:.0f} s")


class Running:
    """A progress bar moved by a running count (what the rebuilds report)."""

    def __init__(self, bar: Progress) -> None:
        self.bar, self.count = bar, 0

    def __call__(self, count: int) -> None:
        self.bar.update(count - self.count)
        self.count = count


def rebuild_derived(engine: Engine) -> list[str]:
    """Rebuild the tables the product derives from credentials, through its own functions:
    stored verdicts (`bank.verdicts.rebuild_verdicts`, a progress bar over the credentials) and
    maintained aggregates (`bank.aggregates.rebuild_aggregates`, a few grouped scans); the ones
    this checkout lacks are named."""
    missing = []
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(credentials)).scalar_one()
    for module_name, function_name in (("bank.verdicts", "rebuild_verdicts"),
                                       ("bank.aggregates", "rebuild_aggregates")):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            missing.append(f"{module_name}.{function_name}")
            say(f"  {module_name}.{function_name} is not in this checkout: not rebuilt")
            continue
        started = time.perf_counter()
        if function_name == "rebuild_verdicts":
            with Progress(total, f"  {function_name}", rate=True) as bar:
                getattr(module, function_name)(engine, progress=Running(bar))
        else:
            getattr(module, function_name)(engine)
        say(f"  {module_name}.{function_name} in {time.perf_counter() - started:.0f} s")
    return missing


def catalogue(runtime: Runtime, size: int) -> None:
    """The public catalogue: one unit per 100 credentials (at least 1,000), 10,000 an
    institution."""
    wanted = max(1_000, size // 100)
    institutions = math.ceil(wanted / UNITS_PER_INSTITUTION)
    slugs = [f"catalogue-{number:02d}" for number in range(institutions)]
    for number, slug in enumerate(slugs):
        accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                 name=f"Catalogue Institution {number}", slug=slug, scope=SCOPE,
                 actor="cli:bench")
    with runtime.engine.begin() as connection:
        for number, slug in enumerate(slugs):
            rows = catalogue_rows(slug, min(UNITS_PER_INSTITUTION,
                                            wanted - number * UNITS_PER_INSTITUTION))
            for start in range(0, len(rows), 5_000):
                connection.execute(insert(units), rows[start:start + 5_000])


def programme_for_audit(runtime: Runtime) -> str:
    """Publish and approve a programme of the bench institution whose rules take its units."""
    issuer = issuer_record(runtime.engine, ISSUER)
    rule_set_id = f"{ISSUER}:P000"
    document = {"rule_set_id": rule_set_id, "owner_did": issuer["did"], "version": 1,
                "valid_from": "2024-01-01", "programme": programme(0),
                "rules": [{"id": "currency", "kind": "currency", "max_age_years": 5,
                           "source": {"kinds": ["course"]}},
                          {"id": "transfer", "kind": "transfer", "precedence": 50,
                           "source": {"providers": [issuer["did"]], "kinds": ["course"]},
                           "category": "major"}]}
    publish_rule_set(runtime.engine, runtime.ledger, issuer, document,
                     master_key=runtime.settings.master_key())
    approve_rule_set(runtime.engine, runtime.chain, rule_set_id, 1, actor="cli:bench")
    return rule_set_id


def build(runtime: Runtime, size: int, record_size: int = RECORD_SIZE, *,
          measured: float | None = None, processes: int | None = None) -> Bank:
    """Everything a size's figures read: the real part through the product (the record page's
    learner holding `record_size` credentials), then the filler (made in `processes` worker
    processes). Refused before the filler when it would not fit the free disk with headroom,
    at `measured` bytes a credential (what a smaller bank of the same run took) or else an
    estimate from a sealed sample."""
    started = time.perf_counter()
    accredit(runtime.engine, runtime.chain, settings=runtime.settings, name="Scale University",
             slug=ISSUER, actor="cli:bench", scope=SCOPE)
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, ISSUER), UNITS)
    say("  issuing and anchoring the measured learners' and the verify set's credentials")
    verify_ids, real_ids, record_did = issue_real(runtime, record_size)
    templates = templates_of(runtime, verify_ids)
    with runtime.engine.connect() as connection:
        block = connection.execute(select(func.max(batches.c.block))).scalar_one()
        verify_documents = [json.loads(document) for document in connection.execute(
            select(credentials.c.anchored).where(credentials.c.id.in_(verify_ids))).scalars()]
    filler = max(0, size - len(real_ids))
    if measured:
        per_row, basis = measured, "as measured on the smaller bank of this run"
    else:
        sample = next(iter(templates.values()))
        per_row = len(ring_of(runtime.engine).seal(
            sample.texts(**dict.fromkeys(MARKS, "x" * 36))[0], "credentials.anchored")) + ROW_EXTRA
        basis = "estimated from a sealed sample"
    say(f"  filler: {filler:,} credentials, ~{per_row:,.0f} bytes a credential ({basis}), "
        f"~{per_row * filler / 1e9:.1f} GB")
    free = shutil.disk_usage(runtime.settings.data_dir).free
    if per_row * filler * HEADROOM > free:
        raise SystemExit(f"{filler:,} filler rows need ~{per_row * filler * HEADROOM / 1e9:.0f} "
                         f"GB with headroom; {free / 1e9:.0f} GB are free")
    before = stored_bytes(runtime)
    loaded = time.perf_counter()
    with without_indexes(runtime.engine):
        filler_ids = load_filler(runtime, templates, filler, block, processes=processes)
    catalogue(runtime, size)
    missing = rebuild_derived(runtime.engine)
    with runtime.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    load_seconds = time.perf_counter() - loaded
    bank = Bank(size=size, database=runtime.engine.dialect.name,
                verify_documents=verify_documents, credential_ids=real_ids,
                filler_ids=filler_ids, record_did=record_did, record_size=record_size,
                templates=templates, load_seconds=load_seconds,
                build_seconds=time.perf_counter() - started)
    bank.not_rebuilt = missing
    bank.stored_bytes = stored_bytes(runtime)
    bank.bytes_per_row = (bank.stored_bytes - before) / filler if filler else 0.0
    return bank


def stored_bytes(runtime: Runtime) -> int:
    """How large the database is on disk (SQLite: its file, the log checkpointed into it)."""
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            return int(connection.execute(text(
                "SELECT pg_database_size(current_database())")).scalar_one())
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(str(runtime.engine.url.database)).stat().st_size


@dataclass(frozen=True)
class Figure:
    """One measured request: milliseconds of each call."""

    label: str
    times: list[float]
    error: str | None = None

    @property
    def p50(self) -> float:
        """The median, ms (NaN when the request failed)."""
        return statistics.median(self.times) if self.times else math.nan

    @property
    def p99(self) -> float:
        """The nearest-rank 99th percentile, ms (NaN when the request failed)."""
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else math.nan

    def cell(self) -> str:
        """'p50 / p99' for a table, or why there is none."""
        return self.error or f"{self.p50:.1f} / {self.p99:.1f}"


def timed(label: str, action: Callable[[int], object], count: int) -> Figure:
    """Milliseconds of `action(n)` for n in 0..count-1, after one warm-up call; a request that
    does not answer 200 ends the figure with its status (the rest of the run goes on)."""
    times: list[float] = []
    try:
        action(count)
        for number in range(count):
            began = time.perf_counter()
            action(number)
            times.append((time.perf_counter() - began) * 1000)
    except Refused as refused:
        say(f"  {label}: {refused}")
        return Figure(label, [], f"failed: HTTP {refused.status}")
    return Figure(label, times)


class Refused(Exception):
    """A measured request answered something other than 200."""

    def __init__(self, path: str, status: int, body: str) -> None:
        super().__init__(f"{path} answered {status}: {body}")
        self.status = status


def signed_in(client: FlaskClient, form_path: str, fields: dict[str, str]) -> FlaskClient:
    """The client signed in through a form (its CSRF token read from the form page)."""
    token = TOKEN.search(client.get(form_path).get_data(as_text=True))
    assert token is not None, form_path
    answer = client.post(form_path, data={"csrf_token": token.group(1), **fields})
    assert answer.status_code == 303, (form_path, answer.status_code)
    return client


def ok(client: FlaskClient, method: str, path: str, **options: object) -> None:
    """One request that must answer 200."""
    answer = client.open(path, method=method, **options)
    if answer.status_code != 200:
        raise Refused(path, answer.status_code, answer.get_data(as_text=True)[:300])


def measure(runtime: Runtime, bank: Bank, requests: int, rule_set_id: str) -> list[Figure]:
    """Each figure of the issue, `requests` times."""
    app = create_app(runtime, {"RATE_LIMITS": {}})
    accounts = runtime_accounts(runtime)
    learner = accounts.open(RECORD_LEARNER, PASSWORD)
    accounts.prove_by_city(learner["id"], "bench", holds_password=True)
    audited = accounts.open(AUDIT_LEARNER, PASSWORD)
    accounts.prove_by_city(audited["id"], "bench", holds_password=True)
    bearer = {"Authorization": f"Bearer {accounts.new_token(learner)['token']}"}
    audit_bearer = {"Authorization": f"Bearer {accounts.new_token(audited)['token']}"}
    add_staff(runtime.engine, INSTITUTION_USER, role="institution", issuer_id=ISSUER,
              actor="cli:bench", password=PASSWORD)
    add_staff(runtime.engine, OPERATOR_USER, role="operator", actor="cli:bench",
              password=PASSWORD)
    plain = app.test_client()
    citizen = signed_in(app.test_client(), "/sign-in",
                        {"national_id": RECORD_LEARNER, "password": PASSWORD})
    institution = signed_in(app.test_client(), "/staff/sign-in",
                            {"username": INSTITUTION_USER, "password": PASSWORD})
    operator = signed_in(app.test_client(), "/staff/sign-in",
                         {"username": OPERATOR_USER, "password": PASSWORD})
    answer = plain.put("/api/v1/learners/me/target", headers=audit_bearer,
                       json={"rule_set_id": rule_set_id, "version": 1})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    bodies = [json.dumps(document).encode() for document in bank.verify_documents]
    looked_up = [*bank.credential_ids[:50], *bank.filler_ids[:50]] or bank.credential_ids
    slow = max(3, requests // 5)
    figures = [
        timed("GET /healthz (trivial)", lambda _n: ok(plain, "GET", "/healthz"), requests * 4),
        timed(f"GET /me, first page, {bank.record_size:,} credentials",
              lambda _n: ok(citizen, "GET", "/me"), slow),
        timed("GET /api/v1/learners/me, page of 50",
              lambda _n: ok(plain, "GET", "/api/v1/learners/me?limit=50", headers=bearer),
              requests),
        timed("POST /api/v1/verify",
              lambda n: ok(plain, "POST", "/api/v1/verify", data=bodies[n % len(bodies)],
                           content_type="application/json"), requests),
        timed("GET /institution/batches (first page)",
              lambda _n: ok(institution, "GET", "/institution/batches"), requests),
        timed("GET /institution/batches?status=anchored",
              lambda _n: ok(institution, "GET", "/institution/batches?status=anchored"),
              requests),
        timed("GET /institution/credentials?id=… (search by id)",
              lambda n: ok(institution, "GET", "/institution/credentials",
                           query_string={"id": looked_up[n % len(looked_up)]}), requests),
        timed("GET /operator/statistics", lambda _n: ok(operator, "GET", "/operator/statistics"),
              slow),
        timed(f"GET /api/v1/learners/me/progress (degree audit, {AUDIT_SIZE} credentials)",
              lambda _n: ok(plain, "GET", "/api/v1/learners/me/progress", headers=audit_bearer),
              slow),
        timed("GET /api/v1/public/catalogue (search)",
              lambda n: ok(plain, "GET", f"/api/v1/public/catalogue?{SEARCHES[n % len(SEARCHES)]}"),
              requests),
    ]
    return figures


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary folder on 127.0.0.1 (fsync off, minimal
    WAL), for a run by hand; stopped and removed on exit."""

    def __init__(self) -> None:
        root = Path("/usr/lib/postgresql")
        found = sorted((path / "bin" for path in root.glob("*") if (path / "bin" / "postgres")
                        .exists()), key=lambda path: int(path.parent.name))
        if not found:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = found[-1]
        self.folder = Path(tempfile.mkdtemp(prefix="bench-scale-postgres-"))
        self.port = loadkit.free_port()
        self.process: subprocess.Popen | None = None

    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def __enter__(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        subprocess.run([*self._as_postgres(), str(self.bin / "initdb"), "-D", str(data), "-A",
                        "trust", "-U", "creditbank", "-E", "UTF8", "--no-locale"],
                       check=True, capture_output=True)
        settings = ("listen_addresses=127.0.0.1", "fsync=off", "synchronous_commit=off",
                    "full_page_writes=off", "wal_level=minimal", "max_wal_senders=0",
                    "max_wal_size=8GB", "shared_buffers=1GB", "maintenance_work_mem=512MB",
                    "max_connections=50")
        self.process = subprocess.Popen(
            [*self._as_postgres(), str(self.bin / "postgres"), "-D", str(data), "-p",
             str(self.port), "-k", str(self.folder),
             *[item for setting in settings for item in ("-c", setting)]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"postgresql+psycopg://creditbank@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(admin_dsn(url), connect_timeout=1).close()
                return url
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise SystemExit("PostgreSQL did not start") from None
                time.sleep(0.2)

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def admin_dsn(url: str) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL."""
    parsed = make_url(url)
    return (f"host={parsed.host} port={parsed.port} user={parsed.username} "
            f"dbname={parsed.database}" + (f" password={parsed.password}" if parsed.password
                                           else ""))


@contextmanager
def database(kind: str, admin_url: str | None, data_dir: Path, keep: bool) -> Iterator[str]:
    """A fresh empty database of `kind`: its URL (dropped afterwards unless `keep`)."""
    if kind == "sqlite":
        yield f"sqlite:///{data_dir / 'creditbank.sqlite'}"
        return
    assert admin_url is not None
    name = f"scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn(admin_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with psycopg.connect(admin_dsn(admin_url), autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def run(kind: str, size: int, admin_url: str | None, requests: int, keep: bool, *,
        measured: float | None = None, processes: int | None = None) -> tuple[Bank, list[Figure]]:
    """Build a bank of `size` credentials on `kind` (see `build`) and measure it."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{kind}-{size_label(size)}-"))
    try:
        initialise(data_dir)
        with database(kind, admin_url, data_dir, keep) as url, Runtime(Settings(
                data_dir=data_dir, database_url=url, block_period=0.05)) as runtime:
            say(f"{kind}, {size:,} credentials: building in {data_dir}")
            bank = build(runtime, size, measured=measured, processes=processes)
            rule_set_id = programme_for_audit(runtime)
            say(f"  built in {bank.build_seconds:.0f} s (filler load, indexes, rebuilds "
                f"{bank.load_seconds:.0f} s), {bank.stored_bytes / 1e9:.2f} GB; measuring")
            figures = measure(runtime, bank, requests, rule_set_id)
        return bank, figures
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def report(results: dict[str, list[tuple[Bank, list[Figure]]]]) -> str:
    """Markdown tables: per database, each figure's p50/p99 at each size and the ratio of each
    size's p50 to the smallest size's."""
    lines = []
    for kind, runs in results.items():
        runs = sorted(runs, key=lambda item: item[0].size)
        smallest = runs[0][1]
        lines += ["", f"#### {'PostgreSQL' if kind == 'postgresql' else 'SQLite'}", ""]
        for bank, _ in runs:
            lines.append(f"- {size_label(bank.size)}: built in {bank.build_seconds:,.0f} s "
                         f"(filler load with indexes and rebuilds {bank.load_seconds:,.0f} s), "
                         f"{bank.stored_bytes / 1e9:.2f} GB on disk, "
                         f"{bank.stored_bytes / max(bank.size, 1):,.0f} bytes a credential "
                         f"({bank.bytes_per_row:,.0f} a filler credential)")
        missing = sorted({name for bank, _ in runs for name in bank.not_rebuilt})
        if missing:
            lines.append(f"- not rebuilt (absent from this checkout): {', '.join(missing)}")
        lines.append("")
        columns = [f"{size_label(bank.size)} p50 / p99 ms" for bank, _ in runs] + [
            f"{size_label(bank.size)}/{size_label(runs[0][0].size)} p50" for bank, _ in runs[1:]]
        head = "| figure | " + " | ".join(columns) + " |"
        lines += [head, "|---|" + "---:|" * (len(runs) * 2 - 1)]
        for position, figure in enumerate(smallest):
            cells = [figures[position].cell() for _, figures in runs]
            ratios = [f"{figures[position].p50 / figure.p50:.2f}"
                      if figure.times and figures[position].times else "—"
                      for _, figures in runs[1:]]
            lines.append(f"| {figure.label} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def main() -> None:
    """Build and measure every size on every database; print the Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,1m")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the databases and folders")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes making filler rows (default: the number of cores)")
    args = parser.parse_args()
    sizes = sorted(parse_size(value) for value in args.sizes.split(","))
    kinds = [value.strip() for value in args.databases.split(",")]
    results: dict[str, list[tuple[Bank, list[Figure]]]] = {}
    with ExitStack() as stack:
        admin_url = args.postgres_url
        if "postgresql" in kinds and admin_url is None:
            admin_url = stack.enter_context(PostgresServer())
        for kind in kinds:
            measured = None
            for size in sizes:
                bank, figures = run(kind, size, admin_url, args.requests, args.keep,
                                    measured=measured, processes=args.processes)
                results.setdefault(kind, []).append((bank, figures))
                measured = bank.bytes_per_row or measured
    print(f"bench_scale, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {loadkit.machine()}; "
          f"{args.requests} requests a figure (a fifth of that, at least 3, for the record page, "
          f"the statistics and the audit)")
    print(report(results))


if __name__ == "__main__":
    main()
