"""What proves who a learner is: the codes accounts kept before it move to one table per
institution on upgrade (and back on downgrade), and an account proves nothing by existing."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from bank.identity import Disclosure, disclosure
from infra.database import open_engine
from infra.schema import alembic_config

ISSUER = {"id": "hdvc", "did": "did:web:bank:issuers:hdvc", "chain_id": b"\x01" * 32,
          "name": "Haidian Vocational College", "kinds": "course", "levels": "[4]",
          "valid_from": 0, "valid_until": 0, "suspended": False, "created_at": 1.0}


def learner(learner_id: str, opened_by: str, code: str | None, password: str | None = None) -> dict:
    """A bank_learners row as revision 0004 kept it."""
    return {"id": learner_id, "did": f"did:web:bank:learners:{learner_id}",
            "identity_hash": f"hash-{learner_id}", "opened_by": opened_by,
            "activation_sha256": code, "password_hash": password, "created_at": 2.0}


def test_the_codes_accounts_kept_move_to_their_institution_and_back(database_url: str) -> None:
    engine = open_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0004")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO issuers (id, did, chain_id, name, kinds, levels, valid_from, "
            "valid_until, suspended, created_at) VALUES (:id, :did, :chain_id, :name, :kinds, "
            ":levels, :valid_from, :valid_until, :suspended, :created_at)"), ISSUER)
        connection.execute(text(
            "INSERT INTO bank_learners (id, did, identity_hash, opened_by, activation_sha256, "
            "password_hash, created_at) VALUES (:id, :did, :identity_hash, :opened_by, "
            ":activation_sha256, :password_hash, :created_at)"),
            [learner("opened", "hdvc", "c0de" * 16), learner("self", "self", None, "scrypt$x"),
             learner("activated", "hdvc", None, "scrypt$y")])
    command.upgrade(config, "head")
    with engine.connect() as connection:
        moved = connection.execute(text(
            "SELECT code_sha256, learner_id, institution_id FROM bank_activation_codes")).all()
    proven = {learner_id: disclosure(engine, learner_id)
              for learner_id in ("opened", "self", "activated")}
    command.downgrade(config, "0004")
    with engine.connect() as connection:
        back = connection.execute(text(
            "SELECT id, activation_sha256 FROM bank_learners ORDER BY id")).all()
    assert [tuple(row) for row in moved] == [("c0de" * 16, "opened", "hdvc")]
    assert proven == {"opened": Disclosure(False, frozenset()),
                      "self": Disclosure(False, frozenset()),
                      "activated": Disclosure(False, frozenset({"hdvc"}))}
    assert [tuple(row) for row in back] == [
        ("activated", None), ("opened", "c0de" * 16), ("self", None)]
