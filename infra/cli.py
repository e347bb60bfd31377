"""CLI plumbing every command shares (`--data`, settings, the database, stopping on signals, a
progress bar), and `creditbank db`: show, apply and write the off-chain database's schema
migrations, back it up and restore it."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click
from alembic import command
from sqlalchemy import Engine

from infra.audit import cli_actor, record
from infra.backup import backup, restore
from infra.database import open_database, open_engine
from infra.keyring import REFRESH_SECONDS
from infra.schema import alembic_config, current, head, upgrade
from infra.sealing import BATCH, rotate
from infra.secrets import known_master_key, private_dir
from infra.settings import Settings

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

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
    engine = open_database(settings.database_url, master_key=settings.master_key())
    try:
        yield engine
    finally:
        engine.dispose()


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for a long-running command to stop cleanly."""
    # The handler does nothing itself: the interpreter writes each signal to a wake-up pipe and a
    # thread sets the event. Set in the handler, the event could deadlock on its own lock (the
    # handler runs in the main thread, maybe inside `stop.wait()`), and a signal landing just
    # before the main thread blocks would wait for the next one.
    stop = threading.Event()
    readable, writable = os.pipe()
    os.set_blocking(writable, False)
    threading.Thread(target=_relay_signals, args=(readable, stop), name="signals",
                     daemon=True).start()
    signal.set_wakeup_fd(writable, warn_on_full_buffer=False)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    return stop


def _relay_signals(readable: int, stop: threading.Event) -> None:
    """Set `stop` at each signal the wake-up pipe brings."""
    while os.read(readable, 1):
        stop.set()


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


@db_group.command("rotate-column-key")
@click.option("--batch", type=click.IntRange(1, 100_000), default=BATCH, show_default=True,
              help="Values re-sealed per transaction.")
@data_option
def rotate_column_key_command(batch: int, data_dir: Path | None) -> None:
    """Seal every sealed column under a new column-key generation, in batches with progress on
    stderr, then retire the generations no value uses (a second run resumes an unfinished one)."""
    with database(settings_of(data_dir)) as engine:
        rotation = rotate(engine, batch=batch, progress=lambda column, done, total: click.echo(
            f"{column}: {done}/{total}", err=True))
        record(engine, actor=cli_actor(), action="db.rotate_column_key",
               subject=f"generation:{rotation.generation}",
               details={"resealed": rotation.resealed, "retired": list(rotation.retired),
                        "waiting": rotation.waiting, "resumed": rotation.resumed})
    retired = ", ".join(map(str, rotation.retired)) or "none"
    click.echo(f"column keys at generation {rotation.generation}: {rotation.resealed} values "
               f"re-sealed, generations retired: {retired}")
    if rotation.waiting:
        click.echo(f"{rotation.waiting} values were written under an older generation meanwhile: "
                   f"run it again in {REFRESH_SECONDS:.0f} s", err=True)


@db_group.command("backup")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@data_option
def backup_command(file: Path, data_dir: Path | None) -> None:
    """Write an encrypted backup of the whole database to FILE (mode 0600): every table, rows as
    stored, sealed under a key derived from the master key; progress on stderr."""
    settings = settings_of(data_dir)
    with database(settings) as engine:
        header = backup(engine, file, master_key=settings.master_key(), progress=_progress)
    click.echo(f"backup {header.backup_id} of revision {header.revision} written to {file}")


@db_group.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@data_option
def restore_command(file: Path, data_dir: Path | None) -> None:
    """Restore a backup into an empty database at the backup's schema revision (the master key
    must be the one that made it); the data directory is made if missing; progress on stderr."""
    settings = settings_of(data_dir)
    private_dir(settings.data_dir)
    with database(settings) as engine:
        header = restore(engine, file, master_key=settings.master_key(), progress=_progress)
    click.echo(f"backup {header.backup_id} of {header.created_at} restored")


class Progress:
    """A progress bar on stderr, shown from the first step on (work refused at once shows none);
    with `rate`, it also shows the steps a second since it appeared."""

    def __init__(self, length: int, label: str, *, rate: bool = False) -> None:
        self.length = length
        self.label = label
        self.show_rate = rate
        self.bar: ProgressBar[str] | None = None
        self._shown_at = 0.0
        self._moved = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *error: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def update(self, steps: int) -> None:
        """Move the bar on by `steps` (showing it the first time: the rate counts from there)."""
        if self.bar is None:
            self.bar = click.progressbar(
                length=self.length, label=self.label, file=sys.stderr, show_pos=self.show_rate,
                item_show_func=(lambda rate: rate) if self.show_rate else None)
            self.bar.__enter__()
            self._shown_at = time.perf_counter()
        else:
            self._moved += steps
        self.bar.update(steps, f"{self.rate():,.0f}/s" if self.show_rate else None)

    def rate(self) -> float:
        """Steps a second since the bar appeared."""
        return self._moved / max(time.perf_counter() - self._shown_at, 1e-6)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _engine(data_dir: Path | None) -> Engine:
    settings = settings_of(data_dir)
    return open_engine(settings.database_url, master_key=known_master_key(settings.data_dir))
