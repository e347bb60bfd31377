"""Migration 0009 marks the newest version of each existing unit and fills its search text."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from infra.database import open_engine
from infra.schema import alembic_config, upgrade

UNIT = ("INSERT INTO units (issuer_id, code, version, kind, title, description, credit_value, "
        "credit_scheme, learning_outcomes, valid_from, created_at) VALUES "
        "('open-u', :code, :version, 'course', :title, 'x', 3, 'CN-NCB', '[]', '2024-09-01', 0)")


def test_existing_units_are_marked_latest_and_searchable(database_url: str) -> None:
    engine = open_engine(database_url)
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO issuers (id, did, chain_id, name, kinds, levels, valid_from, "
            "valid_until, suspended, created_at) VALUES ('open-u', 'did:web:x', :chain, "
            "'Open U', 'course', '[6]', 0, 0, false, 0)"), {"chain": bytes(32)})
        for code, version, title in (("CS101", 1, "Programming"), ("CS101", 2, "Programming II"),
                                     ("ÉTH100", 1, "Éthique")):
            connection.execute(text(UNIT), {"code": code, "version": version, "title": title})
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT code, version, latest, search_text FROM units ORDER BY code, version")).all()
    assert [tuple(row) for row in rows] == [
        ("CS101", 1, False, "cs101 programming"), ("CS101", 2, True, "cs101 programming ii"),
        ("ÉTH100", 1, True, "éth100 éthique")]
