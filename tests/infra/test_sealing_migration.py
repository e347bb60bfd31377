"""Migration 0014 seals the plain values a database already holds, keeps its city links as keyed
hashes, fills the new credits and expiry columns, and opens everything again on the way down."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, Table, inspect, select, text

import infra.cli  # noqa: F401  (every table module, so the metadata is whole)
import portal.cli  # noqa: F401
from bank.tables import decisions
from infra.database import open_engine
from infra.errors import MasterKeyError
from infra.metadata import metadata
from infra.schema import alembic_config, upgrade
from infra.sealing import Sealed, generation_of, sealed_columns
from issuers.tables import credentials
from portal.oidc import linked_learner

KEY = bytes(range(32))
CITY = "https://city.example"
SUBJECT = "citizen-4711"
NEW_IN_0014 = {"bank_corrections", "bank_learners"}
"""Tables whose sealed columns 0014 creates (they hold nothing to seal yet)."""
SEALED_TABLES = tuple(dict.fromkeys(found.name for found, _column in sealed_columns()
                                    if found.name not in NEW_IN_0014))
VALID_UNTIL = "2031-07-01T00:00:00Z"
BEFORE_0018 = "0017"
"""Where these tests stop: 0018 empties `credentials.signed` beside an anchored document (see
tests/infra/test_credential_once.py), and these rows' documents are not real credentials."""
_CHOICE = re.compile(r"^\W*(\w+)\W.*?'([^']*)'", re.S)


def _plain(table: str, column: str) -> str:
    """A plain value for a sealed column, as an older release stored it."""
    if (table, column) == ("bank_decisions", "document"):
        return json.dumps({"credits": 12.5, "lines": [{"unit": "CS101", "credits": 12.5}]})
    if table == "credentials":
        return json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"],
                           "id": f"urn:uuid:{column}", "validUntil": VALID_UNTIL})
    return json.dumps({"table": table, "column": column, "text": "成绩 92 / grade A"},
                      ensure_ascii=False)


def _value(column: Any, choices: dict[str, str]) -> Any:
    if column["name"] in choices:
        return choices[column["name"]]
    kind = column["type"].python_type
    if kind is bytes:
        return bytes(32)
    if kind is bool:
        return False
    if kind in (int, float):
        return kind(1)
    return "x1"


def _insert(connection: Connection, table: str, made: dict[str, dict[str, Any]]) -> None:
    """One row of `table` at revision 0013 (its parents first), every sealed column plain."""
    if table in made:
        return
    found = inspect(connection)
    row: dict[str, Any] = {}
    for key in found.get_foreign_keys(table):
        nullable = all(column["nullable"] for column in found.get_columns(table)
                       if column["name"] in key["constrained_columns"])
        if nullable or key["referred_table"] == table:
            continue
        _insert(connection, key["referred_table"], made)
        for mine, theirs in zip(key["constrained_columns"], key["referred_columns"], strict=True):
            row[mine] = made[key["referred_table"]][theirs]
    choices: dict[str, str] = {
        match[1]: match[2] for check in found.get_check_constraints(table)
        if (match := _CHOICE.match(check["sqltext"]))}
    for column in found.get_columns(table):
        if column["name"] not in row and not column["nullable"]:
            row[column["name"]] = _value(column, choices)
    if table in SEALED_TABLES:
        row.update({name: _plain(table, name) for name in _sealed_names(table)})
    names = ", ".join(f'"{name}"' for name in row)
    marks = ", ".join(f":{name}" for name in row)
    connection.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({marks})'), row)
    made[table] = row


def _at_0013_with_plain_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    command.upgrade(alembic_config(engine), "0013")
    made: dict[str, dict[str, Any]] = {}
    with engine.begin() as connection:
        for table in SEALED_TABLES:
            _insert(connection, table, made)
        connection.execute(text(
            "INSERT INTO oidc_links (issuer, subject, learner_id, linked_at) "
            "VALUES (:issuer, :subject, :learner, 0)"),
            {"issuer": CITY, "subject": SUBJECT, "learner": made["bank_deposits"]["learner_id"]})
    return made


def _stored(engine: Engine) -> dict[tuple[str, str], str]:
    """Every sealed column's value as the database holds it (raw SQL, nothing opened)."""
    with engine.connect() as connection:
        return {(table, name): connection.execute(text(f'SELECT "{name}" FROM "{table}"'))
                .scalar_one()
                for table in SEALED_TABLES for name in _sealed_names(table)}


def _sealed_names(table: str) -> list[str]:
    return [column.name for column in metadata.tables[table].columns
            if isinstance(column.type, Sealed)]


def _read(engine: Engine, table: Table) -> dict[str, str]:
    with engine.connect() as connection:
        row = connection.execute(select(table)).mappings().one()
    return {name: row[name] for name in _sealed_names(table.name)}


def test_an_upgrade_seals_every_stored_value_and_keeps_links(database_url: str) -> None:
    engine = open_engine(database_url, master_key=KEY)
    made = _at_0013_with_plain_rows(engine)
    command.upgrade(alembic_config(engine), BEFORE_0018)
    stored = _stored(engine)
    assert {key: generation_of(value) for key, value in stored.items()} == {
        key: 1 for key in stored}
    assert all("成绩" not in value and "validUntil" not in value for value in stored.values())
    opened = {(table, name): value for table in SEALED_TABLES
              for name, value in _read(engine, metadata.tables[table]).items()}
    assert opened == {(table, name): made[table][name]
                      for table in SEALED_TABLES for name in _sealed_names(table)}
    with engine.connect() as connection:
        credits = connection.execute(select(decisions.c.credits)).scalar_one()
        valid_until = connection.execute(select(credentials.c.valid_until)).scalar_one()
        generations = connection.execute(text("SELECT generation FROM column_keys")).all()
    assert (credits, valid_until, [tuple(row) for row in generations]) == (
        12.5, datetime(2031, 7, 1, tzinfo=UTC).timestamp(), [(1,)])
    assert linked_learner(engine, CITY, SUBJECT) == made["bank_deposits"]["learner_id"]
    assert linked_learner(engine, CITY, "someone-else") is None


def test_a_downgrade_opens_every_value_again(database_url: str) -> None:
    engine = open_engine(database_url, master_key=KEY)
    made = _at_0013_with_plain_rows(engine)
    command.upgrade(alembic_config(engine), BEFORE_0018)
    command.downgrade(alembic_config(engine), "0013")
    assert _stored(engine) == {(table, name): made[table][name]
                               for table in SEALED_TABLES for name in _sealed_names(table)}


def test_rows_to_seal_without_a_master_key_are_refused_by_name(database_url: str) -> None:
    engine = open_engine(database_url)
    made = _at_0013_with_plain_rows(engine)
    with pytest.raises(MasterKeyError, match="CREDITBANK_MASTER_KEY"):
        upgrade(engine)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert (version, _stored_at_0013(engine)) == (
        "0013", made["bank_deposits"]["credential"])


def _stored_at_0013(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT credential FROM bank_deposits")).scalar_one()
