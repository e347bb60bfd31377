"""The city demo (`bank.city`, `creditbank seed`): a small city (ten institutions, 300 learners,
3,000 credentials over ten years) seeded on SQLite and PostgreSQL through the real issuance,
anchoring and review paths, interrupted after its first chunk and resumed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bank.city import (
    CERTIFICATE,
    COLLEGE,
    DEMO_LEARNERS,
    FEATURED,
    MOOC,
    TRAINING,
    UNIVERSITY,
    CityPlan,
    Seeded,
    chunks,
    institutions_of,
    national_id,
    planned_total,
    seed_city,
    sittings,
)
from bank.statistics import statistics
from bank.tables import applications, deposits, learners
from infra.aggregates import aggregates, recompute
from issuers.learners import learner_pepper, learner_ref
from issuers.tables import batches, credentials, issuers, revocations, rule_sets, units
from ledger.views import ChainView
from portal.cli import main
from portal.runtime import Runtime
from tests.support.runtimes import module_runtime
from verify import Context, Status, verify_credential

pytestmark = pytest.mark.slow

PLAN = CityPlan(learners=300, credentials=3_000, years=10, institutions=10, seed=7)
Key = tuple[str, str, str, str]


@dataclass
class City:
    """A small city seeded once per database: interrupted after one chunk, then resumed; then
    seeded again, finding it all done (its accounts before and after)."""

    runtime: Runtime
    interrupted: Seeded
    first_chunk: set[Key]
    stored_after_interruption: set[Key]
    resumed: Seeded
    again: Seeded
    accounts: tuple[set[tuple], set[tuple]]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def city(request: pytest.FixtureRequest) -> Iterator[City]:
    """The small city on each database, seeded in two runs."""
    with module_runtime(request, "city", request.param) as runtime:
        interrupted = seed_city(runtime.engine, runtime.chain, settings=runtime.settings,
                                plan=PLAN, stop_after=1)
        stored = _stored_keys(runtime)
        first = next(chunks(PLAN, sittings(PLAN, _started(runtime))))
        pepper = learner_pepper(runtime.settings.master_key())
        first_keys = {_key(first.sitting.institution.slug, outcome, pepper,
                           runtime.settings.did_host) for outcome in first.outcomes}
        resumed = seed_city(runtime.engine, runtime.chain, settings=runtime.settings, plan=PLAN)
        before = _accounts(runtime)
        again = seed_city(runtime.engine, runtime.chain, settings=runtime.settings, plan=PLAN)
        yield City(runtime, interrupted, first_keys, stored, resumed, again,
                   (before, _accounts(runtime)))


def _started(runtime: Runtime) -> datetime:
    with runtime.engine.connect() as connection:
        created = connection.execute(select(issuers.c.created_at).where(
            issuers.c.id == institutions_of(PLAN)[0].slug)).scalar_one()
    return datetime.fromtimestamp(created, UTC)


def _accounts(runtime: Runtime) -> set[tuple]:
    with runtime.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(select(
            learners.c.did, learners.c.opened_by, learners.c.created_at,
            learners.c.password_hash))}


def _key(issuer_id: str, outcome: dict, pepper: bytes, did_host: str) -> Key:
    learner = learner_ref(outcome["national_id"], pepper, did_host).did
    return issuer_id, learner, outcome["unit"], outcome["session"]


def _stored_keys(runtime: Runtime) -> set[Key]:
    with runtime.engine.connect() as connection:
        return {(row[0], row[1], row[2], row[3]) for row in connection.execute(select(
            credentials.c.issuer_id, credentials.c.learner_did, credentials.c.unit_code,
            credentials.c.session))}


def _planned(runtime: Runtime) -> Counter[Key]:
    pepper = learner_pepper(runtime.settings.master_key())
    return Counter(
        _key(chunk.sitting.institution.slug, outcome, pepper, runtime.settings.did_host)
        for chunk in chunks(PLAN, sittings(PLAN, _started(runtime)))
        for outcome in chunk.outcomes)


def test_an_interrupted_seed_resumes_to_the_plan_with_nothing_twice(city: City) -> None:
    planned = _planned(city.runtime)
    with city.runtime.engine.connect() as connection:
        stored = Counter(tuple(row) for row in connection.execute(select(
            credentials.c.issuer_id, credentials.c.learner_did, credentials.c.unit_code,
            credentials.c.session)))
    assert (city.interrupted.finished, city.interrupted.issued, city.stored_after_interruption) == (
        False, len(city.first_chunk), city.first_chunk)
    assert (city.resumed.finished, city.resumed.skipped,
            city.resumed.issued + city.resumed.skipped) == (
        True, len(city.first_chunk), sum(planned.values()))
    assert (max(planned.values()), max(stored.values()), stored) == (1, 1, planned)


def test_the_city_holds_institutions_programmes_learners_and_reviews(city: City) -> None:
    places = institutions_of(PLAN)
    with city.runtime.engine.connect() as connection:
        def count(query: object) -> int:
            return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]

        figures = {
            "issuers": count(select(func.count()).select_from(issuers)),
            "units": count(select(func.count()).select_from(units)),
            "programmes approved": count(select(func.count()).where(
                rule_sets.c.approved_block.is_not(None))),
            "learners": count(select(func.count(credentials.c.learner_did.distinct()))),
            "revocations done": count(select(func.count()).where(
                revocations.c.status == "done")),
            "deposits in review": count(select(func.count()).where(
                deposits.c.status == "review")),
        }
        stages: dict[str, int] = dict(connection.execute(select(applications.c.status, func.count())
                                         .group_by(applications.c.status)).all())
    assert figures == {"issuers": 10, "units": 100, "programmes approved": 4,
                       "learners": figures["learners"], "revocations done": 3,
                       "deposits in review": 1}
    assert 250 <= figures["learners"] <= PLAN.learners
    assert {place.kind.name for place in places} == {
        kind.name for kind in (UNIVERSITY, COLLEGE, TRAINING, MOOC, CERTIFICATE)}
    assert stages == {"submitted": 2, "first_reviewed": 2, "decided": 2}


def test_issuance_follows_the_seasons_over_ten_years(city: City) -> None:
    kind_of = {place.slug: place.kind.name for place in institutions_of(PLAN)}
    issued: dict[str, Counter[int]] = {name: Counter() for name in set(kind_of.values())}
    completed: dict[str, set[int]] = {name: set() for name in set(kind_of.values())}
    years: Counter[int] = Counter()
    with city.runtime.engine.connect() as connection:
        for row in connection.execute(select(credentials.c.issuer_id, credentials.c.issued_at,
                                             credentials.c.completed_on)):
            moment = datetime.fromtimestamp(row.issued_at, UTC)
            issued[kind_of[row.issuer_id]][moment.month] += 1
            completed[kind_of[row.issuer_id]].add(int(row.completed_on[5:7]))
            years[moment.year] += 1
    assert {name: sorted(months) for name, months in issued.items()} == {
        "university": [1, 6], "college": [1, 6], "certificate": [4, 7, 10, 12],
        "mooc": list(range(1, 13)), "training": [2, 4, 6, 8, 10, 12]}
    assert completed["certificate"] == {3, 6, 9, 11}
    ordered = [years[year] for year in sorted(years)]
    planned = planned_total(PLAN, sittings(PLAN, _started(city.runtime)))
    assert (len(years) in (10, 11), sum(ordered), ordered[1] < ordered[-2]) == (
        True, planned, True)


def test_learners_joined_over_the_years_each_before_their_first_credential(city: City) -> None:
    """Accounts are opened through the product's bulk opening, dated when each learner
    enrolled, so the maintained aggregates and the operator's yearly chart follow by
    construction."""
    with city.runtime.engine.connect() as connection:
        opened = dict(connection.execute(select(learners.c.did, learners.c.created_at)).all())
        activated = connection.execute(select(func.count()).where(
            learners.c.password_hash.is_not(None))).scalar_one()
        first = dict(connection.execute(select(
            credentials.c.learner_did, func.min(credentials.c.issued_at))
            .group_by(credentials.c.learner_did)).all())
        maintained = {(row.series, row.key, row.month, row.part): row.value
                      for row in connection.execute(select(aggregates)) if row.value}
        recomputed = recompute(connection)
    years = Counter(datetime.fromtimestamp(moment, UTC).year for moment in opened.values())
    late = sorted(did for did, issued in first.items() if not opened.get(did, issued) < issued)
    figures = statistics(city.runtime.engine)
    charted = {int(year): count for year, count in figures.learners_by_year if count}
    assert (late, set(first) - set(opened)) == ([], set())
    assert (len(years) in (10, 11), charted, figures.learners) == (True, years, len(opened))
    assert maintained == recomputed
    assert DEMO_LEARNERS <= figures.activated == activated < len(opened) // 20
    before, after = city.accounts
    assert (city.again.issued, city.again.finished, after) == (0, True, before)


def test_every_credential_is_anchored_and_verifies_and_one_record_is_long(city: City) -> None:
    view = ChainView(city.runtime.ledger)
    with city.runtime.engine.connect() as connection:
        statuses: dict[str, int] = dict(connection.execute(select(batches.c.status, func.count())
                                           .group_by(batches.c.status)).all())
        rows = connection.execute(select(credentials.c.id, credentials.c.learner_did,
                                         credentials.c.anchored)).all()
        revoked = set(connection.execute(select(revocations.c.credential_id)).scalars())
    verdicts: Counter[tuple[bool, Status]] = Counter()
    context = Context(view)
    for row in rows:
        assert row.anchored is not None, row.id
        report = verify_credential(json.loads(row.anchored), context)
        verdicts[(row.id in revoked, report.verdict)] += 1
    assert (set(statuses), verdicts) == ({"anchored"}, Counter({
        (False, Status.VALID): len(rows) - 3, (True, Status.INVALID): 3}))
    pepper = learner_pepper(city.runtime.settings.master_key())
    featured = learner_ref(national_id(FEATURED), pepper, city.runtime.settings.did_host).did
    assert sum(1 for row in rows if row.learner_did == featured) >= 120


def test_the_seed_command_reports_what_it_seeded(tmp_path, monkeypatch, capsys) -> None:
    """`creditbank seed` creates the chain and a tiny city on SQLite, and a second run finds it
    all done."""
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    monkeypatch.delenv("CREDITBANK_DATABASE_URL", raising=False)
    monkeypatch.setenv("CREDITBANK_BLOCK_PERIOD", "0.05")
    arguments = ["seed", "--data", str(tmp_path / "data"), "--learners", "40",
                 "--credentials", "120", "--years", "1", "--seed", "3"]
    assert main(arguments) == 0
    first = capsys.readouterr()
    assert main(arguments) == 0
    second = capsys.readouterr()
    assert ("haichuan-centre" in first.out, national_id(FEATURED) in first.out) == (True, True)
    assert " 0 found issued before" in first.err
    assert "seeded in" in second.err and " 0 credentials issued now" in second.err
