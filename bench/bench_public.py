"""The public credit bank: the transfer guide over 100 programmes × 1,000 rules with 20 picked
units, and the catalogue search over 100,000 units, through the Flask test client, against the
trivial GET /healthz timed in the same run.

Ten institutions are accredited on the embedded chain; each publishes ten rule sets of 1,000
rules (certificate tables, equivalences, transfers per provider, a MOOC threshold, currency,
caps) which the operator approves on chain: the real publication path. The 100,000 units are
written straight into the catalogue table (latest versions), as a year of `add_units` would leave
them, and the planner's statistics are gathered (ANALYZE, as a live database's autovacuum
keeps them). Rate limits are off so the figures are the code's. The first guide request reads,
parses, indexes and chain-checks the 100 versions (timed apart); the others find them cached.

  python bench/bench_public.py [--requests 200] [--programmes 100] [--rules 1000]
      [--units 100000] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text

from infra.settings import Settings
from issuers.catalogue import search_text
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import Scope, accredit, issuer_record
from issuers.tables import units
from ledger.genesis import initialise
from portal.app import create_app
from portal.runtime import Runtime

INSTITUTIONS = 10
SCOPE = Scope(kinds=("course", "certificate", "mooc"), levels=tuple(range(1, 9)))
UNLIMITED = {"public": (10**9, 1), "public_guide": (10**9, 1), "verify": (10**9, 1)}
CURRICULUM = 80
EQUIVALENCES = 250
CATEGORIES = ("major", "general", "elective")


def slug(number: int) -> str:
    """The id of bench institution `number`."""
    return f"inst-{number:02d}"


def unit_code(kind: str, number: int) -> str:
    """A catalogue code: E (courses with equivalences), C (other courses), Q (certificates),
    M (MOOCs)."""
    return f"{kind}{number:05d}"


def programme(number: int) -> dict:
    """Programme `number`: 120 credits, an 80-unit curriculum."""
    return {"code": f"P{number:03d}", "title": f"Programme {number:03d}",
            "credit_scheme": "CN-NCB", "total_credits": 120,
            "categories": {"major": 60, "general": 30, "elective": 0},
            "units": [{"code": f"U{unit:03d}", "title": f"Unit {unit}", "credits": 3,
                       "category": CATEGORIES[unit % 3]} for unit in range(CURRICULUM)]}


def rules(number: int, dids: list[str], count: int) -> list[dict]:
    """`count` rules of programme `number`; which units they name shifts with the programme, so
    each programme answers a pick differently."""
    made: list[dict] = [
        {"id": "currency", "kind": "currency", "max_age_years": 5,
         "source": {"kinds": ["course", "mooc"]}},
        {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
         "scale": "percent", "min_score": 60},
        {"id": "cap-certificates", "kind": "count_cap", "max_count": 2,
         "source": {"kinds": ["certificate"]}},
        {"id": "cap-provider", "kind": "provider_cap", "max_credits": 30,
         "source": {"origin": "external"}},
        {"id": "moocs", "kind": "transfer", "precedence": 60, "source": {"kinds": ["mooc"]},
         "category": "general"},
    ]
    for index, did in enumerate(dids):
        if (index + number) % 3:
            made.append({"id": f"transfer-{index:02d}", "kind": "transfer", "precedence": 50,
                         "source": {"providers": [did], "kinds": ["course"]},
                         "category": CATEGORIES[(index + number) % 3]})
    for index in range(EQUIVALENCES):
        code = (index * 8 + number) % 2_000
        made.append({"id": f"eq-{index:03d}", "kind": "equivalence", "precedence": 10,
                     "match_credits": False,
                     "source": {"providers": [dids[code % len(dids)]],
                                "unit_codes": [unit_code("E", code)]},
                     "target_unit": f"U{index % CURRICULUM:03d}"})
    for index in range(count - len(made)):
        made.append({"id": f"cert-{index:04d}", "kind": "certificate_credits", "precedence": 20,
                     "source": {"kinds": ["certificate"],
                                "unit_codes": [unit_code("Q", (index * 3 + number) % 3_000)]},
                     "credits": (4, 6, 8)[index % 3], "category": ("major", "general")[index % 2]})
    return made


def catalogue_rows(issuer_id: str, count: int) -> list[dict]:
    """`count` latest-version units of one institution: E, C, Q and M codes."""
    rows = []
    for number in range(count):
        kind, prefix = (("course", "E") if number < 2_000 else ("course", "C")
                        if number < 6_000 else ("certificate", "Q") if number < 9_000
                        else ("mooc", "M"))
        code = unit_code(prefix, number if prefix == "E" else number % 4_000)
        title = (f"{('Applied', 'Intro to', 'Advanced')[number % 3]} "
                 f"{('Logistics', 'Accounting', 'Python', 'Nursing')[number % 4]} {number}")
        rows.append({"issuer_id": issuer_id, "code": code, "version": 1, "kind": kind,
                     "title": title, "search_text": search_text(code, title),
                     "description": "A bench unit.", "framework": "CQF",
                     "level": 4 + number % 3, "eqf_level": 4 + number % 3,
                     "credit_value": (1, 2, 3, 4, 6)[number % 5], "credit_scheme": "CN-NCB",
                     "hours": 48, "category": ("Logistics", "Finance", "Computing",
                                               "Health")[number % 4],
                     "learning_outcomes": "[]", "valid_from": "2024-09-01",
                     "valid_until": None, "created_at": time.time(), "latest": True})
    return rows


def picks(generator: random.Random, refs: dict[str, list[str]]) -> list[str]:
    """20 picked units: courses with and without equivalences, certificates, MOOCs."""
    chosen: set[str] = set()
    prefixes = [prefix for prefix in "EEECCQQQM" if refs.get(prefix)]
    while len(chosen) < 20:
        chosen.add(generator.choice(refs[generator.choice(prefixes)]))
    return sorted(chosen)


def timed(action: Callable[[int], object], count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this thread's) milliseconds of `action(n)` for n in 0..count-1: on a
    shared machine the CPU time is the code's, the wall clock adds the neighbours'."""
    wall, cpu = [], []
    for number in range(count):
        started, cpu_started = time.perf_counter(), time.thread_time()
        action(number)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
    return wall, cpu


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Build the bank, time the requests, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--programmes", type=int, default=100)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-public-"))
    initialise(data_dir)
    url = args.database_url or f"sqlite:///{data_dir / 'creditbank.sqlite'}"
    generator = random.Random(2026)
    with Runtime(Settings(data_dir=data_dir, database_url=url, block_period=0.02)) as runtime:
        started = time.perf_counter()
        dids = []
        for number in range(INSTITUTIONS):
            accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                     name=f"Bench Institution {number}", slug=slug(number), scope=SCOPE,
                     actor="cli:bench")
            dids.append(issuer_record(runtime.engine, slug(number))["did"])
        per_institution = args.units // INSTITUTIONS
        refs: dict[str, list[str]] = {}
        with runtime.engine.begin() as connection:
            for number in range(INSTITUTIONS):
                rows = catalogue_rows(slug(number), per_institution)
                for row in rows:
                    refs.setdefault(row["code"][0], []).append(f"{row['issuer_id']}:{row['code']}")
                for start in range(0, len(rows), 5_000):
                    connection.execute(insert(units), rows[start:start + 5_000])
        with runtime.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        catalogue_s = time.perf_counter() - started
        started = time.perf_counter()
        for number in range(args.programmes):
            owner = slug(number % INSTITUTIONS)
            document = {"rule_set_id": f"{owner}:P{number:03d}", "owner_did": dids[
                number % INSTITUTIONS], "version": 1, "valid_from": "2024-01-01",
                "programme": programme(number), "rules": rules(number, dids, args.rules)}
            publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, owner),
                             document, master_key=runtime.settings.master_key())
            approve_rule_set(runtime.engine, runtime.chain, document["rule_set_id"], 1,
                             actor="cli:bench")
        publish_s = time.perf_counter() - started
        client = create_app(runtime, {"RATE_LIMITS": UNLIMITED}).test_client()
        pick_sets = [picks(generator, refs) for _ in range(args.requests)]

        def guide(number: int) -> None:
            query = "&".join(f"unit={ref}" for ref in pick_sets[number])
            answer = client.get(f"/api/v1/public/guide?{query}")
            assert answer.status_code == 200, answer.text
            assert len(answer.get_json()["programmes"]) == args.programmes

        searches = ["text=python", "text=nursing%202", "kind=certificate&level=5",
                    "field=Finance&min_credits=3", "text=intro&issuer=inst-03",
                    "min_credits=2&max_credits=3&kind=course", "text=E01234",
                    "after=inst-04:Q00100&kind=certificate", "text=zzz-no-such-unit",
                    "level=6&field=Health&text=advanced"]

        def search(number: int) -> None:
            answer = client.get(f"/api/v1/public/catalogue?{searches[number % len(searches)]}")
            assert answer.status_code == 200, answer.text

        def healthz(_number: int) -> None:
            assert client.get("/healthz").status_code == 200

        started = time.perf_counter()
        guide(0)
        cold_ms = (time.perf_counter() - started) * 1000
        trivial = timed(healthz, args.requests * 5)
        guides = timed(guide, args.requests)
        found = timed(search, args.requests * 5)
        example = client.get("/api/v1/public/guide?" + "&".join(
            f"unit={ref}" for ref in pick_sets[0])).get_json()["programmes"]
    base = statistics.median(trivial[0])
    lines = {"match": 0, "maybe": 0, "miss": 0}
    for item in example:
        for line in item["lines"]:
            lines[line["verdict"]] += 1
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"bench_public on {database}: {args.programmes} programmes × {args.rules} rules, "
          f"{args.units:,} units, {args.requests} guide requests of 20 units; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"CPython {platform.python_version()}")
    print(f"setup: catalogue {catalogue_s:.1f} s, publish + approve on chain {publish_s:.1f} s; "
          f"one guide answer's lines: {lines}")
    print()
    print("| measurement | p50 ms | p99 ms | CPU p50 / p99 ms | p50 ratio to trivial |")
    print("|---|---:|---:|---:|---:|")
    table = [("GET /healthz (trivial)", trivial),
            (f"GET /api/v1/public/guide, 20 units × {args.programmes} programmes", guides),
            (f"GET /api/v1/public/catalogue search ({len(searches)} kinds of query)", found)]
    for name, (wall, cpu) in table:
        print(f"| {name} | {statistics.median(wall):.2f} | {percentile(wall, 0.99):.2f} | "
              f"{statistics.median(cpu):.2f} / {percentile(cpu, 0.99):.2f} | "
              f"{statistics.median(wall) / base:.1f} |")
    print(f"| GET /api/v1/public/guide, first request (reads, parses, indexes and chain-checks "
          f"the {args.programmes} versions) | {cold_ms:.0f} | | | {cold_ms / base:.0f} |")


if __name__ == "__main__":
    main()
