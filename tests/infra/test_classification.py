"""The data catalogue holds every column of every table: a class for each, sealed columns sensitive
and sensitive ones protected, every table that can name a learner in OWNERS, DATA.md current."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import Table

import infra.cli  # noqa: F401  (every table module, so the metadata is whole)
from bank.data_catalogue import markdown
from infra.classification import (
    COLUMNS,
    KEYED_HASHES,
    OWNERS,
    POLICIES,
    SEALED,
    STATED,
    DataClass,
)
from infra.metadata import metadata
from infra.sealing import Sealed
from portal.cli import cli
from tests.support.paths import ROOT

LEARNER_COLUMN_NAMES = {"learner_id", "learner_did"}
"""Column names that hold a learner's id or DID wherever they appear."""

LEARNER_COLUMNS = {
    "bank_learners.id", "bank_learners.did", "bank_notices.recipient_id",
    "web_sessions.subject", "audit_log.subject", "shared_links.learner_id",
    "oidc_links.learner_id", "bank_transcripts.learner_id",
}
"""Other columns that can hold a learner's id or DID (read from the tables and their writers)."""


def _columns() -> dict[str, DataClass | None]:
    """Every `table.column` in the metadata, with its class in the catalogue (None if none)."""
    return {f"{table.name}.{column.name}":
            COLUMNS[table.name].columns.get(column.name) if table.name in COLUMNS else None
            for table in metadata.tables.values() for column in table.columns}


def test_every_column_of_every_table_has_one_of_the_four_classes() -> None:
    classes = _columns()
    catalogued = {f"{table}.{column}" for table, entry in COLUMNS.items()
                  for column in entry.columns}
    assert [name for name, found in classes.items() if not isinstance(found, DataClass)] == []
    assert catalogued - set(classes) == set()
    assert set(POLICIES) == set(DataClass)
    for policy in POLICIES.values():
        texts = (policy.name, policy.examples, *policy.protection, *policy.retention)
        assert all(text.en and text.zh for text in texts)
    assert all(entry.purpose.en and entry.purpose.zh for entry in COLUMNS.values())


def test_sealed_columns_are_exactly_the_listed_ones_and_all_sensitive() -> None:
    sealed = {f"{table.name}.{column.name}": column.type.column
              for table in metadata.tables.values() for column in table.columns
              if isinstance(column.type, Sealed)}
    assert set(sealed) == SEALED
    assert all(name == key for name, key in sealed.items())
    assert {name: _columns()[name] for name in SEALED} == dict.fromkeys(SEALED,
                                                                        DataClass.SENSITIVE)


def test_every_sensitive_column_is_sealed_hashed_with_a_key_or_otherwise_protected() -> None:
    sensitive = {name for name, found in _columns().items() if found is DataClass.SENSITIVE}
    protections = (SEALED, KEYED_HASHES, set(STATED))
    assert sensitive == SEALED | KEYED_HASHES | set(STATED)
    assert sum(len(names) for names in protections) == len(sensitive)
    assert all(STATED[name].en and STATED[name].zh for name in STATED)


def test_owners_name_real_tables_and_columns_and_resolve_to_a_learner() -> None:
    tables = metadata.tables
    assert set(OWNERS) - set(tables) == set()
    for name, owner in OWNERS.items():
        table = tables[name]
        assert owner.column in table.c, name
        assert all(column in table.c for column, _ in owner.where), name
        if owner.parent is None:
            continue
        assert owner.parent in OWNERS and owner.parent_column is not None, name
        assert owner.parent_column in tables[owner.parent].c, name
        targets = {key.target_fullname for key in table.c[owner.column].foreign_keys}
        assert targets == {f"{owner.parent}.{owner.parent_column}"}, name
    for name in OWNERS:
        seen = [name]
        while (parent := OWNERS[seen[-1]].parent) is not None:
            assert parent not in seen, seen
            seen.append(parent)


def test_every_column_naming_a_learner_and_every_row_hanging_off_one_is_owned() -> None:
    tables = metadata.tables
    named = {f"{table.name}.{column.name}" for table in tables.values()
             for column in table.columns if column.name in LEARNER_COLUMN_NAMES}
    assert LEARNER_COLUMNS - set(_columns()) == set()
    assert {name for name in named | LEARNER_COLUMNS
            if name.split(".")[0] not in OWNERS} == set()
    for table in tables.values():
        for key in (key for column in table.columns for key in column.foreign_keys):
            if _table_of(key.column.table) in OWNERS:
                assert table.name in OWNERS, (table.name, key.target_fullname)


def _table_of(table: object) -> str:
    """The name of the table a foreign key points to."""
    assert isinstance(table, Table)
    return table.name


def test_data_md_is_the_catalogue_generated_from_the_code() -> None:
    assert (ROOT / "DATA.md").read_text(encoding="utf-8") == markdown()


def test_the_command_prints_a_line_per_column_or_data_md() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["data", "catalogue"], catch_exceptions=False)
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    classes = _columns()
    assert {tuple(line.split("\t")[:3]) for line in lines} == {
        (*name.split("."), str(found)) for name, found in classes.items()}
    assert len(lines) == len(classes)
    assert "bank_learners\tbirth_date\tsensitive\tsealed" in lines
    assert "oidc_links\tsubject_hash\tsensitive\tkeyed hash" in lines
    text = runner.invoke(cli, ["data", "catalogue", "--markdown"], catch_exceptions=False)
    assert (text.exit_code, text.output) == (0, (ROOT / "DATA.md").read_text(encoding="utf-8"))
