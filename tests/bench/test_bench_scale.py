"""bench/bench_scale.py at 10,000 credentials on each database: the bulk-loaded bank is what the
product would hold (filler rows open through the product's readers, sealed and hashed as issuance
stores them; every index of the schema exists; the maintained aggregates equal a recomputation)
and every figure is produced. Its speed is not asserted."""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import func, inspect, select, text

from bank.tables import learners
from credentials.anchoring import without_anchor
from credentials.merkle import credential_digest
from infra.aggregates import read, recompute
from infra.metadata import metadata
from issuers.learners import credentials_of_learner
from issuers.records import credential_record
from issuers.tables import credentials
from portal.runtime import Runtime

BENCH = Path(__file__).resolve().parents[2] / "bench"
SIZE = 10_000
RECORD = 100
"""The measured learner's record (1,000 in the benchmark; fewer keeps the test short)."""


@pytest.fixture
def bench_scale(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The benchmark module, imported as `python bench/bench_scale.py` imports its siblings."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("bench_scale")


def test_the_loaded_bank_is_what_the_product_holds_and_every_figure_is_measured(
    bench_scale: ModuleType, runtime: Runtime
) -> None:
    engine = runtime.engine
    scale_filler = importlib.import_module("scale_filler")
    bank = bench_scale.build(runtime, SIZE, record_size=RECORD)

    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(credentials)).scalar() == SIZE
        filler = SIZE - len(bank.credential_ids)
        assert connection.execute(select(func.count()).select_from(learners)).scalar() == (
            -(-filler // scale_filler.PER_LEARNER))
        stored = connection.execute(text(
            "SELECT signed, anchored FROM credentials WHERE id = :id"),
            {"id": bank.filler_ids[-1]}).one()
    assert stored[0] is None and stored[1].startswith("sealed:")

    for credential_id in bank.filler_ids[::20]:
        record = credential_record(engine, bench_scale.ISSUER, credential_id)
        assert record["credential"]["id"] == credential_id
        with engine.connect() as connection:
            row = connection.execute(select(credentials).where(
                credentials.c.id == credential_id)).mappings().one()
        assert row["signed"] is None
        signed = without_anchor(json.loads(row["anchored"]))
        assert credential_digest(signed) == row["digest"]
        assert signed["credentialSubject"]["id"] == row["learner_did"]
        assert signed["credentialSubject"]["term"] == row["session"]
        assert signed["credentialStatus"][0]["statusListIndex"] == str(row["status_index"])
    first = bench_scale.runtime_accounts(runtime).identity(scale_filler.filler_learner(0))[0]
    held = credentials_of_learner(engine, first)
    assert len(held) == scale_filler.PER_LEARNER
    assert len({document["validFrom"][:4] for document in held}) == scale_filler.PER_LEARNER

    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        assert {index.name for index in table.indexes} <= present, table.name

    with engine.connect() as connection:
        recomputed: dict[tuple[str, str, str], float] = defaultdict(float)
        for (series, key, month, _part), value in recompute(connection).items():
            recomputed[(series, key, month)] += value
        assert read(connection) == {key: value for key, value in recomputed.items() if value}

    rule_set_id = bench_scale.programme_for_audit(runtime)
    figures = bench_scale.measure(runtime, bank, 3, rule_set_id)
    assert [figure.error for figure in figures] == [None] * len(figures)
    assert all(len(figure.times) >= 3 and figure.p50 > 0 for figure in figures)
    table = bench_scale.report({engine.dialect.name: [(bank, figures)]})
    assert all(f"| {figure.label} | {figure.cell()} |" in table for figure in figures)
