"""Sealed columns: what is stored, which keys open it, and rotating the column keys."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, insert, select, text

import infra.cli  # noqa: F401  (every table module, so the metadata is whole)
import portal.cli  # noqa: F401
from bank.tables import presentation_requests, verification_results
from infra.audit import audit_log
from infra.database import open_database, open_engine
from infra.errors import MasterKeyError, SealingFailed
from infra.sealing import column_keys, generation_of, ring_of, rotate
from portal.cli import main

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
RESULTS = 7


def _results(engine: Engine) -> dict[str, str]:
    """Verification results, each holding a document (two batches and a bit at batch=3)."""
    documents = {f"token-{number}": json.dumps({"id": f"urn:uuid:{number}", "grade": "A"})
                 for number in range(RESULTS)}
    with engine.begin() as connection:
        connection.execute(insert(verification_results), [
            {"token": token, "credential": document, "created_at": 0, "expires_at": 1}
            for token, document in documents.items()])
    return documents


def _stored(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT token, credential FROM verification_results")).all())


def _opened(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(connection.execute(select(
            verification_results.c.token, verification_results.c.credential)).all())


def _generations(engine: Engine) -> list[tuple[int, bool]]:
    with engine.connect() as connection:
        return [(generation, retired is not None) for generation, retired in connection.execute(
            select(column_keys.c.generation, column_keys.c.retired_at)
            .order_by(column_keys.c.generation))]


def test_values_are_stored_sealed_and_read_back(database_url: str) -> None:
    engine = open_database(database_url, master_key=KEY)
    documents = _results(engine)
    stored = _stored(engine)
    assert ({token: generation_of(value) for token, value in stored.items()},
            _opened(engine)) == ({token: 1 for token in documents}, documents)
    assert not any("grade" in value for value in stored.values())


def test_the_db_command_rotates_every_value_to_a_new_generation(
        database_url: str, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CREDITBANK_DATABASE_URL", database_url)
    monkeypatch.setenv("CREDITBANK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CREDITBANK_MASTER_KEY", KEY.hex())
    engine = open_database(database_url, master_key=KEY)
    documents = _results(engine)
    capsys.readouterr()
    assert main(["db", "rotate-column-key", "--batch", "3"]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [
        f"column keys at generation 2: {RESULTS} values re-sealed, generations retired: 1"]
    assert [line for line in printed.err.splitlines() if line.startswith("verification")] == [
        "verification_results.credential: 3/7", "verification_results.credential: 6/7",
        "verification_results.credential: 7/7"]
    reader = open_engine(database_url, master_key=KEY)
    assert ({generation_of(value) for value in _stored(reader).values()}, _opened(reader),
            _generations(reader)) == ({2}, documents, [(1, True), (2, False)])
    with reader.connect() as connection:
        audited = connection.execute(select(audit_log.c.subject, audit_log.c.details).where(
            audit_log.c.action == "db.rotate_column_key")).one()
    assert (audited.subject, json.loads(audited.details)) == (
        "generation:2", {"resealed": RESULTS, "retired": [1], "waiting": 0, "resumed": False})


def test_an_interrupted_rotation_is_resumed(database_url: str) -> None:
    engine = open_database(database_url, master_key=KEY)
    documents = _results(engine)

    def interrupt(_column: str, done: int, _total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate(engine, batch=3, progress=interrupt)
    halfway = sorted(generation_of(value) or 0 for value in _stored(engine).values())
    steps: list[tuple[str, int, int]] = []
    resumed = rotate(engine, batch=3, progress=lambda *step: steps.append(step))
    assert (halfway, resumed.generation, resumed.resealed, resumed.retired, resumed.resumed,
            _generations(engine), _opened(engine)) == (
        [1, 1, 1, 1, 2, 2, 2], 2, RESULTS - 3, (1,), True, [(1, True), (2, False)], documents)
    assert steps == [("verification_results.credential", 3, 4),
                     ("verification_results.credential", 4, 4)]


def test_a_running_process_follows_a_rotation(database_url: str) -> None:
    rotating = open_database(database_url, master_key=KEY)
    running = open_engine(database_url, master_key=KEY)
    ring_of(running).refresh_seconds = 0
    with running.connect():
        pass
    rotate(rotating)
    with running.begin() as connection:
        connection.execute(insert(verification_results).values(
            token="after", credential="{}", created_at=0, expires_at=1))
    assert generation_of(_stored(running)["after"]) == 2


def test_another_master_key_does_not_open_a_value(database_url: str) -> None:
    _results(open_database(database_url, master_key=KEY))
    with pytest.raises(SealingFailed, match=r"verification_results\.credential"):
        _opened(open_engine(database_url, master_key=OTHER_KEY))
    with pytest.raises(MasterKeyError, match="CREDITBANK_MASTER_KEY"):
        _opened(open_engine(database_url))


def test_a_sealed_value_copied_to_another_column_does_not_open(database_url: str) -> None:
    engine = open_database(database_url, master_key=KEY)
    _results(engine)
    with engine.begin() as connection:
        connection.execute(insert(presentation_requests).values(
            id="request", state="state", nonce="nonce", viewer_sha256="0" * 64, dcql_query="{}",
            client_id="client", response_uri="https://verifier.example", created_at=0,
            expires_at=1))
        connection.execute(text(
            "UPDATE presentation_requests SET report = (SELECT credential FROM "
            "verification_results WHERE token = 'token-0')"))
    with engine.connect() as connection, pytest.raises(
            SealingFailed, match=r"presentation_requests\.report"):
        connection.execute(select(presentation_requests.c.report)).scalar_one()
