"""The maintained aggregates: after a mix of real writes (accounts opened and activated,
credentials issued and anchored, an application decided, appealed and amended, a revocation, an
erased account) every row equals a recomputation from the base tables, but for the erased
account's decisions, which stay counted; a rebuild restores the recomputation, and the
statistics read ten years from them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from bank import retention
from bank.aggregates import rebuild_aggregates
from bank.applications import appeal, decide_appeal
from bank.closure import closes_at
from bank.statistics import statistics
from bank.tables import learners
from infra.aggregates import DECISIONS, Key, aggregates, recompute
from issuers.revocation import request_revocation
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OTHER_ID,
    PASSWORD,
    RULE_SET,
    bearer,
    city_bank,
    outcome,
)
from tests.support.impact import THIRD_ID


def maintained(engine: Engine) -> dict[Key, float]:
    """The aggregate rows as the writes left them (zeros left out)."""
    with engine.connect() as connection:
        rows = connection.execute(select(aggregates)).all()
    return {(row.series, row.key, row.month, row.part): row.value for row in rows if row.value}


def recomputed(engine: Engine) -> dict[Key, float]:
    """The aggregate rows recomputed from the base tables."""
    with engine.connect() as connection:
        return recompute(connection)


def test_maintained_aggregates_equal_a_recomputation_after_a_mix_of_writes(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine, client = runtime.engine, bank.client
    learner = bank.open_account(LEARNER_ID)
    bank.open_account(OTHER_ID, proven=False)
    (wh110,) = bank.issue("hdvc", [outcome("WH110", "B+")])
    bank.issue("courier", [outcome("CERT-COURIER", "Pass", scale="pass-fail"),
                           outcome("CERT-COURIER", "Pass", scale="pass-fail",
                                   national_id=THIRD_ID)])
    bulk = client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["courier"]),
                       json={"national_ids": [THIRD_ID]})
    assert bulk.status_code == 201, bulk.json
    client.put("/api/v1/learners/me/target", headers=learner,
               json={"rule_set_id": RULE_SET, "version": 1})
    application = client.post("/api/v1/applications", json={}, headers=learner).json["id"]
    assert client.post(f"/api/v1/applications/{application}/first-review",
                       headers=bearer(bank.tokens["bjou"]),
                       json={"verdict": "approve", "reasons": ["recognised"]}).status_code == 200
    assert client.post(f"/api/v1/applications/{application}/second-review",
                       headers=bearer(bank.operator),
                       json={"verdict": "approve", "reasons": ["confirmed"]}).status_code == 200
    account = runtime.accounts.by_did(runtime.accounts.identity(LEARNER_ID)[0])
    assert account is not None
    appeal(engine, application, account, "the MOOC counts too")
    decide_appeal(engine, ChainView(runtime.ledger), application, "city-centre",
                  outcome="amended", reasons=["a fresh audit"])
    with engine.begin() as connection:
        request_revocation(connection, "hdvc", reason=3, credential_id=wh110,
                           actor="institution:hdvc")
    bank.worker.run_once()

    figures = maintained(engine)
    assert figures == recomputed(engine)
    assert {key[0] for key in figures} == {
        "learners", "credentials", "anchored_batches", "applications", "decisions"}
    assert sum(value for key, value in figures.items() if key[:2] == ("learners", "opened")) == 3
    assert sum(value for key, value in figures.items() if key[:2] == ("decisions", "count")) == 1

    before_erasure = recomputed(engine)
    closed = client.post("/api/v1/learners/me/closure", headers=learner,
                         json={"password": PASSWORD})
    assert closed.status_code == 201, closed.json
    closing = runtime.accounts.by_id(account["id"])
    assert closing is not None
    moment = closes_at(closing)
    assert moment is not None
    assert retention.run(engine, now=moment + 60)["closed_accounts"] == 1

    figures, after_erasure = maintained(engine), recomputed(engine)
    assert {key: value for key, value in figures.items() if key[0] != DECISIONS} == {
        key: value for key, value in after_erasure.items() if key[0] != DECISIONS}
    assert {key: value for key, value in figures.items() if key[0] == DECISIONS} == {
        key: value for key, value in before_erasure.items() if key[0] == DECISIONS}
    assert not any(key[0] == DECISIONS for key in after_erasure)

    rebuild_aggregates(engine)
    assert maintained(engine) == after_erasure


def test_the_statistics_read_every_year_of_the_bank_from_the_aggregates(
        runtime: Runtime) -> None:
    engine = runtime.engine
    opened = [datetime(year, month, 3, tzinfo=UTC).timestamp()
              for year, month in ((2017, 9), (2017, 10), (2021, 3), (2026, 2))]
    with engine.begin() as connection:
        connection.execute(insert(learners), [
            {"id": f"learner-{index}", "did": f"did:web:example:{index}",
             "identity_hash": f"hash-{index}", "opened_by": "self", "created_at": at,
             "password_hash": "set" if index % 2 else None}
            for index, at in enumerate(opened)])
    rebuild_aggregates(engine)
    figures = statistics(engine, now=datetime(2026, 12, 6, tzinfo=UTC))
    assert figures.years == [str(year) for year in range(2017, 2027)]
    assert figures.learners_by_year == [
        (str(year), {2017: 2.0, 2021: 1.0, 2026: 1.0}.get(year, 0.0))
        for year in range(2017, 2027)]
    assert (figures.learners, figures.activated) == (4, 2)
    assert figures.learners_by_month[:3] == [("2026-01", 0.0), ("2026-02", 1.0), ("2026-03", 0.0)]
