"""CLI plumbing every command shares (`--data`, settings, the database, stopping on signals), and
`creditbank db`: show, apply and write the off-chain database's schema migrations."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
from alembic import command
from sqlalchemy import Engine

from infra.database import open_database, open_engine
from infra.schema import alembic_config, current, head, upgrade
from infra.settings import Settings

data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Data directory (default: $CREDITBANK_DATA or ./creditbank-data).",
)


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    """The settings' database, brought to the newest schema; disposed when done."""
    engine = open_database(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for a long-running command to stop cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def settings_of(data_dir: Path | None) -> Settings:
    """The environment's settings, or those of `--data` (with its own SQLite database)."""
    settings = Settings.from_env()
    if data_dir is None:
        return settings
    resolved = data_dir.resolve()
    return replace(
        settings, data_dir=resolved, database_url=f"sqlite:///{resolved / 'creditbank.sqlite'}"
    )


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
    """Write a new migration from the difference between the tables in code and the database
    (every room's tables: the `creditbank` command imports them all)."""
    engine = _engine(data_dir)
    upgrade(engine)
    command.revision(alembic_config(engine), message=message, autogenerate=True)


def _engine(data_dir: Path | None) -> Engine:
    return open_engine(settings_of(data_dir).database_url)
