"""An anchored credential is stored once: anchoring replaces its signed text by the anchored
document, every reader takes the anchored one, and migration 0018's downgrade gives the signed
text back exactly (or refuses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, Text, select, type_coerce, update

from credentials.anchoring import anchor_proof_of, without_anchor
from infra.schema import alembic_config, current, head
from issuers.anchoring import AnchoringWorker
from issuers.issuance import Issuance, outcomes_from_json
from issuers.records import credential_record
from issuers.registry import issuer_record
from issuers.tables import batches, credentials
from portal.runtime import Runtime
from tests.support.issuer import accredited, outcome

ISSUER = "demo-university"
LEARNERS = ("110101199003074514", "320102198811123456", "44010619950505321X")


def issue(runtime: Runtime) -> tuple[list[str], set[str]]:
    """Three credentials in the issuer's open batch (not anchored yet): their ids and batches."""
    accredited(runtime, ISSUER)
    issuance = Issuance.of(runtime.engine, settings=runtime.settings)
    with runtime.engine.begin() as connection:
        issued = issuance.issue(connection, issuer_record(runtime.engine, ISSUER),
                                outcomes_from_json([outcome(national_id) for national_id in
                                                    LEARNERS]),
                                cryptosuite="eddsa-rdfc-2022")
    return ([credential_id for credential_id, _, _ in issued.credentials],
            {batch for _, _, batch in issued.credentials})


def documents(engine: Engine, column: str) -> dict[str, str | None]:
    """Each credential's `column`, opened."""
    with engine.connect() as connection:
        return dict(connection.execute(select(credentials.c.id, credentials.c[column])).all())


def stored(engine: Engine) -> dict[str, tuple[str | None, str | None]]:
    """Each credential's signed and anchored values as the database holds them (sealed)."""
    with engine.connect() as connection:
        return {row[0]: (row[1], row[2]) for row in connection.execute(select(
            credentials.c.id, type_coerce(credentials.c.signed, Text),
            type_coerce(credentials.c.anchored, Text)))}


def anchored_bank(runtime: Runtime) -> dict[str, str]:
    """Issue and anchor three credentials; their signed texts as stored before anchoring."""
    ids, batch_ids = issue(runtime)
    signed = documents(runtime.engine, "signed")
    assert set(signed) == set(ids) and all(signed.values())
    AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings).drain(batch_ids)
    return {credential_id: str(value) for credential_id, value in signed.items()}


def test_anchoring_keeps_one_document_and_readers_take_it(runtime: Runtime) -> None:
    signed = anchored_bank(runtime)

    held = stored(runtime.engine)
    assert {value for value, _ in held.values()} == {None}
    assert all(value is not None and value.startswith("sealed:") for _, value in held.values())
    anchored = documents(runtime.engine, "anchored")
    for credential_id, text_signed in signed.items():
        document = json.loads(str(anchored[credential_id]))
        assert anchor_proof_of(document) is not None
        assert without_anchor(document) == json.loads(text_signed)
        record = credential_record(runtime.engine, ISSUER, credential_id)
        assert (record["status"], record["credential"]) == ("anchored", document)


def reopened_batches(runtime: Runtime) -> set[str]:
    """The issuer's batches set back to closed, as if their worker died before recording them."""
    with runtime.engine.begin() as connection:
        return set(connection.execute(update(batches).where(batches.c.issuer_id == ISSUER)
                                      .values(status="closed").returning(batches.c.id)).scalars())


def test_a_batch_finished_again_keeps_its_anchored_documents(runtime: Runtime) -> None:
    anchored_bank(runtime)
    anchored = documents(runtime.engine, "anchored")
    batch_ids = reopened_batches(runtime)

    AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings).drain(batch_ids)

    assert documents(runtime.engine, "anchored") == anchored
    assert set(documents(runtime.engine, "signed").values()) == {None}


def test_a_batch_finished_again_delivers_what_it_holds(runtime: Runtime, tmp_path: Path) -> None:
    anchored_bank(runtime)
    anchored = documents(runtime.engine, "anchored")
    batch_ids = reopened_batches(runtime)
    out = tmp_path / "out"
    worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings,
                             deliver_to=out)

    worker.drain(batch_ids)

    assert worker.delivered == batch_ids
    assert {f"urn:uuid:{path.stem}": path.read_text("utf-8")
            for path in out.iterdir()} == anchored
    assert documents(runtime.engine, "anchored") == anchored


def test_a_downgrade_gives_the_signed_text_back_exactly_and_an_upgrade_empties_it(
        runtime: Runtime) -> None:
    signed = anchored_bank(runtime)
    anchored = documents(runtime.engine, "anchored")
    config = alembic_config(runtime.engine)

    command.downgrade(config, "0017")

    assert current(runtime.engine) == "0017"
    assert documents(runtime.engine, "signed") == signed
    assert documents(runtime.engine, "anchored") == anchored
    assert all(value is not None and value.startswith("sealed:")
               for value, _ in stored(runtime.engine).values())

    command.upgrade(config, "head")

    assert (current(runtime.engine), set(documents(runtime.engine, "signed").values())) == (
        head(), {None})
    assert documents(runtime.engine, "anchored") == anchored


def test_a_downgrade_refuses_a_document_that_does_not_give_the_signed_one_back(
        runtime: Runtime) -> None:
    signed = anchored_bank(runtime)
    altered = sorted(signed)[1]
    document = json.loads(str(documents(runtime.engine, "anchored")[altered]))
    document["credentialSubject"]["term"] = "2099 autumn"
    with runtime.engine.begin() as connection:
        connection.execute(update(credentials).where(credentials.c.id == altered).values(
            anchored=json.dumps(document, ensure_ascii=False, separators=(",", ":"))))

    config = alembic_config(runtime.engine)
    command.downgrade(config, "0018")
    with pytest.raises(RuntimeError, match=f"credential {altered}: .*does not give back"):
        command.downgrade(config, "0017")

    assert current(runtime.engine) == "0018"
    assert set(documents(runtime.engine, "signed").values()) == {None}
