"""`creditbank db`: show, apply and write the off-chain database's schema migrations."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from sqlalchemy import Engine

import ledger.audit
import ledger.indexer
import portal.bank.tables
import portal.tables
from issuers.cli import data_option, settings_of
from ledger.schema import alembic_config, current, head, upgrade
from ledger.sql import open_engine

TABLE_MODULES = (ledger.audit, ledger.indexer, portal.bank.tables, portal.tables)


@click.group("db")
def db_group() -> None:
    """The off-chain database (SQLite by default, PostgreSQL by CREDITBANK_DATABASE_URL)."""


@db_group.command("upgrade")
@data_option
def upgrade_command(data_dir: Path | None) -> None:
    """Apply every migration the database lacks (safe while other processes run it too)."""
    engine = _engine(data_dir)
    before = current(engine)
    upgrade(engine)
    click.echo(f"schema at {head()} (was {before or 'empty'})")


@db_group.command("current")
@data_option
def current_command(data_dir: Path | None) -> None:
    """Print the database's revision and the newest this release ships."""
    click.echo(f"database {current(_engine(data_dir)) or 'empty'}, release {head()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
@data_option
def revision_command(message: str, data_dir: Path | None) -> None:
    """Write a new migration from the difference between the tables in code and the database."""
    engine = _engine(data_dir)
    upgrade(engine)
    command.revision(alembic_config(engine), message=message, autogenerate=True)


def _engine(data_dir: Path | None) -> Engine:
    return open_engine(settings_of(data_dir).database_url)
