"""The off-chain schema comes from Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import infra.cli  # noqa: F401  (every table module, so the metadata is whole)
from infra.database import open_engine
from infra.errors import SchemaUnknown, SchemaUntracked
from infra.metadata import metadata
from infra.schema import alembic_config, current, head, upgrade
from portal.cli import main


def test_the_migrations_build_exactly_the_tables_in_code(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert (current(engine), differences) == (head(), [])


def test_every_migration_can_be_undone_and_redone(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    tables_after_downgrade = set(inspect(engine).get_table_names()) - {"alembic_version"}
    command.upgrade(alembic_config(engine), "head")
    assert (tables_after_downgrade, current(engine)) == (set(), head())
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)


def _upgrade_in_a_process(url: str) -> None:
    upgrade(open_engine(url))


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_upgrade_in_a_process, args=(database_url,))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    engine = open_engine(database_url)
    assert ([worker.exitcode for worker in workers], current(engine)) == ([0] * 4, head())


def test_a_database_from_a_newer_release_is_refused_by_name(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaUnknown) as raised:
        upgrade(open_engine(database_url))
    assert (raised.value.found, raised.value.wanted) == ("f00d", head())


def test_tables_without_a_revision_are_refused_and_left_alone(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE issuers (id VARCHAR(64) PRIMARY KEY)"))
    with pytest.raises(SchemaUntracked):
        upgrade(engine)
    assert (current(engine), inspect(engine).get_table_names()) == (None, ["issuers"])


def test_the_db_commands_report_and_apply_the_schema(tmp_path, capsys) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert main(["db", "current", "--data", str(data_dir)]) == 0
    assert main(["db", "upgrade", "--data", str(data_dir)]) == 0
    assert main(["db", "current", "--data", str(data_dir)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"database empty, release {head()}",
        f"schema at {head()} (was empty)",
        f"database {head()}, release {head()}",
    ]
