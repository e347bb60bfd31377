"""Issuance from a file checked and signed in a pool of processes, chunk by chunk: a bad line
anywhere issues nothing and is named by its line; a good file is stored in its order."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from credentials.anchoring import anchor_proof_of, attach_anchor
from credentials.merkle import MerkleTree, credential_digest
from infra.errors import InvalidInput
from issuers.anchoring import AnchoringWorker
from issuers.issuance import CHUNK, Issuance, OutcomeFile
from issuers.registry import issuer_record
from issuers.signing import signing_pool
from issuers.tables import batches, credentials, status_lists, stored_credentials
from portal.runtime import Runtime
from tests.support.issuer import accredited

HEADER = ["national_id", "unit", "session", "grade", "credits", "completed_on"]
LINES = CHUNK * 2 + 300


def outcome_file(path: Path, changes: dict[int, list[str]]) -> OutcomeFile:
    """A CSV of LINES outcomes of distinct learners on CS101; `changes` replaces the rows at
    those line numbers (the header is line 1)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for line in range(2, LINES + 2):
            writer.writerow(changes.get(line, [
                str(110101199000000000 + line), "CS101", "2025 spring", "A", "3", "2025-06-30",
            ]))
    return OutcomeFile(path)


def stored(runtime: Runtime) -> tuple[int, int]:
    """How many credentials are stored, and how many status places are allocated."""
    with runtime.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(credentials)).scalar_one()
        places = connection.execute(select(func.sum(status_lists.c.allocated))).scalar()
    return count, places or 0


def test_bad_lines_in_a_large_file_are_named_and_nothing_is_issued(
    runtime: Runtime, tmp_path: Path
) -> None:
    accredited(runtime)
    issuer = issuer_record(runtime.engine, "demo-university")
    issuance = Issuance.of(runtime.engine, settings=runtime.settings)
    bad = outcome_file(tmp_path / "bad.csv", {
        CHUNK + 200: ["110101199003074514", "CS999", "2025 spring", "A", "3", "2025-06-30"],
        CHUNK * 2 + 10: ["110101199003074514", "CS101", "2025 spring", "A", "3", "2025-13-01"],
        LINES: [str(110101199000000000 + 2), "CS101", "2025 spring", "B", "3", "2025-06-30"],
    })

    with pytest.raises(InvalidInput) as refused, runtime.engine.begin() as connection:
        issuance.issue(connection, issuer, bad, cryptosuite="eddsa-rdfc-2022", processes=2)

    assert (refused.value.message, refused.value.errors) == (
        f"3 of {LINES} lines are invalid; nothing was issued",
        {"file": {
            f"line {CHUNK + 200}": {"unit": ["unknown unit 'CS999'"]},
            f"line {CHUNK * 2 + 10}": {"completed_on": ["Not a valid date."]},
            f"line {LINES}": {"session": ["repeats line 2: same learner, unit and session"]},
        }},
    )
    assert stored(runtime) == (0, 0)


def test_a_large_file_is_stored_in_its_order_across_batches(
    runtime: Runtime, tmp_path: Path
) -> None:
    accredited(runtime)
    issuer = issuer_record(runtime.engine, "demo-university")
    issuance = Issuance.of(runtime.engine, settings=runtime.settings)
    good = outcome_file(tmp_path / "good.csv", {})
    steps: list[int] = []

    with runtime.engine.begin() as connection:
        issued = issuance.issue(connection, issuer, good, cryptosuite="eddsa-rdfc-2022",
                                processes=2, progress=steps.append)

    with runtime.engine.connect() as connection:
        rows = connection.execute(
            select(credentials.c.id, credentials.c.signed, credentials.c.digest,
                   credentials.c.status_index)
            .join(batches, batches.c.id == credentials.c.batch_id)
            .order_by(batches.c.opened_at, credentials.c.position)
        ).all()
    documents = [json.loads(row.signed) for row in rows]
    assert (len(issued.credentials), sum(steps), stored(runtime)) == (LINES, LINES, (LINES, LINES))
    assert [row.id for row in rows] == [credential_id for credential_id, _, _ in issued.credentials]
    assert [bytes(row.digest) for row in rows] == [credential_digest(d) for d in documents]
    assert [d["credentialSubject"]["id"] for d in documents] == [
        learner for _, learner, _ in issued.credentials
    ]
    assert len({row.status_index for row in rows}) == LINES


def test_signing_processes_seal_anchor_and_deliver_exactly_what_this_process_would(
    runtime: Runtime, tmp_path: Path
) -> None:
    accredited(runtime)
    issuer = issuer_record(runtime.engine, "demo-university")
    issuance = Issuance.of(runtime.engine, settings=runtime.settings)
    out = tmp_path / "out"
    with signing_pool(2) as pool:
        with runtime.engine.begin() as connection:
            issued = issuance.issue(connection, issuer, outcome_file(tmp_path / "good.csv", {}),
                                    cryptosuite="eddsa-rdfc-2022", processes=2, pool=pool)
        with runtime.engine.connect() as connection:
            signed = dict(connection.execute(select(credentials.c.id, credentials.c.signed)).all())
            raw = connection.execute(select(stored_credentials.c.signed)).scalars().all()
        batch_ids = {batch for _, _, batch in issued.credentials}
        worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                                 pool=pool, deliver_to=out)
        worker.drain(batch_ids)

    with runtime.engine.connect() as connection:
        rows = connection.execute(
            select(credentials.c.id, credentials.c.batch_id, credentials.c.signed,
                   credentials.c.anchored, batches.c.root, batches.c.transaction_hash)
            .join(batches, batches.c.id == credentials.c.batch_id)
            .order_by(credentials.c.batch_id, credentials.c.position)
        ).all()
    assert all(text.startswith("sealed:") for text in raw) and len(raw) == LINES
    assert worker.delivered == batch_ids and len(list(out.iterdir())) == LINES
    assert {row.signed for row in rows} == {None}
    for batch_id in batch_ids:
        mine = [row for row in rows if row.batch_id == batch_id]
        tree = MerkleTree([credential_digest(json.loads(signed[row.id])) for row in mine])
        assert tree.root == bytes(mine[0].root)
        for index, row in enumerate(mine):
            expected = attach_anchor(
                json.loads(signed[row.id]), chain_id=runtime.ledger.chain_id,
                contract=runtime.deployment.credential_anchor,
                transaction_hash=row.transaction_hash, root=tree.root, path=tree.proof(index))
            text = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
            written = (out / f"{row.id.removeprefix('urn:uuid:')}.json").read_text("utf-8")
            assert (row.anchored, written) == (text, text)
            assert anchor_proof_of(json.loads(written)) is not None
