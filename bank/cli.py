"""Commands of the credit bank: open learner accounts in bulk, create operator tokens, watch
for revocations that touch decisions, and seed a city-sized demo bank."""

from __future__ import annotations

import csv
import json
import os
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from bank import data_catalogue, notices, retention
from bank.accounts import Accounts, national_ids_from_file, new_operator_token
from bank.city import PARALLEL_FROM, SEED_BLOCK_PERIOD, SIZES, CityPlan, seed_city
from bank.revocation_watch import WATCH_SECONDS, watch, watch_once
from bank.seed import DemoAccounts
from infra.audit import MAX_LIMIT, cli_actor, entries
from infra.cli import Progress, data_option, database, settings_of, stop_on_signals
from infra.settings import Settings
from issuers.registry import issuer_record
from ledger.chain import Chain, chain_home
from ledger.genesis import initialise


@click.group("learners")
def learners_group() -> None:
    """Learner accounts."""


@learners_group.command("open")
@click.option("--institution", "institution_id", required=True,
              help="The issuer id of the institution opening the accounts.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_option
def open_accounts(institution_id: str, file: Path, data_dir: Path | None) -> None:
    """Open accounts for the learners in FILE the institution issued to (CSV with a national_id
    column, or a JSON list); prints line, DID and activation code as CSV."""
    settings = settings_of(data_dir)
    with database(settings) as engine:
        issuer_record(engine, institution_id)
        national_ids = national_ids_from_file(file.read_bytes(), file.name)
        accounts = Accounts.of(engine, settings).open_in_bulk(institution_id, national_ids,
                                                              actor=cli_actor())
    first_line = 1 if file.name.lower().endswith(".json") else 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("line", "did", "activation_code"))
    for index, account in enumerate(accounts):
        writer.writerow((first_line + index, account.did, account.activation_code or ""))


@click.group("operator")
def operator_group() -> None:
    """The city centre's operators."""


@operator_group.command("token")
@click.option("--name", default="operator", show_default=True,
              help="Who the token is for (recorded on every review they make).")
@data_option
def operator_token(name: str, data_dir: Path | None) -> None:
    """Create an operator API token (printed once; only its hash is kept)."""
    with database(settings_of(data_dir)) as engine:
        click.echo(new_operator_token(engine, name, actor=cli_actor()))


@click.group("decisions")
def decisions_group() -> None:
    """Decisions on applications."""


@decisions_group.command("watch")
@click.option("--once", is_flag=True, help="Do one pass and exit.")
@click.option("--every", type=click.FloatRange(min=1), default=WATCH_SECONDS,
              show_default=True, help="Seconds between passes.")
@data_option
def watch_decisions(once: bool, every: float, data_dir: Path | None) -> None:
    """Flag for review every decision that used a credential revoked since, and give and
    e-mail the notices (until SIGTERM)."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        if once:
            flagged = watch_once(engine, chain.ledger)
            done = notices.work_once(engine, settings)
            click.echo(f"{len(flagged)} decision(s) flagged")
            click.echo(f"{done['delivered'] + done['expiring']} notice(s) given, "
                       f"{done.get('sent', 0)} e-mailed")
            return
        stop = stop_on_signals()
        click.echo("revocation watch running", err=True)
        mailing = threading.Thread(target=notices.work, args=(engine, settings, stop),
                                   name="notices", daemon=True)
        mailing.start()
        watch(engine, chain.ledger, stop, every)
        mailing.join()
    click.echo("revocation watch stopped", err=True)


@click.command("audit")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Only actions from this UTC date or time on.")
@click.option("--action", help="An action (issuer.suspend), or a prefix ending in '.' (issuer.).")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=100, show_default=True)
@data_option
def audit_command(since: datetime | None, action: str | None, limit: int,
                  data_dir: Path | None) -> None:
    """Print the audit trail of privileged actions, newest first, one JSON object a line."""
    with database(settings_of(data_dir)) as engine:
        found = entries(engine, since=since.replace(tzinfo=UTC) if since else None,
                        action=action, limit=limit)
    for entry in found:
        click.echo(json.dumps(entry, ensure_ascii=False))


@click.group("data")
def data_group() -> None:
    """The data the bank holds: its catalogue by class, and retention."""


@data_group.command("catalogue")
@click.option("--markdown", is_flag=True, help="Print DATA.md's text instead of a line per column.")
def catalogue_command(markdown: bool) -> None:
    """Print the data catalogue: every column of every table with its class (table, column,
    class and a sensitive column's protection, tab-separated), or DATA.md's text."""
    if markdown:
        click.echo(data_catalogue.markdown(), nl=False)
        return
    for line in data_catalogue.lines():
        click.echo(line)


@data_group.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@data_option
def retention_command(dry_run: bool, data_dir: Path | None) -> None:
    """Purge what the retention periods say has expired (and erase closed accounts past their
    grace period); print what was purged by category."""
    with database(settings_of(data_dir)) as engine:
        counts = retention.run(engine, dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    for category, count in counts.items():
        click.echo(f"{category}\t{count}")
    click.echo(f"{verb} {sum(counts.values())} in all")


@click.command("seed")
@click.option("--size", type=click.Choice(tuple(SIZES)), default="small", show_default=True,
              help="small: 10 institutions, 300 learners, 3,000 credentials; city: 30, 100,000, "
                   "1,000,000.")
@click.option("--learners", type=click.IntRange(20), default=None, help="Instead of the size's.")
@click.option("--credentials", "credential_count", type=click.IntRange(20), default=None,
              help="Instead of the size's.")
@click.option("--years", type=click.IntRange(1, 20), default=None, help="Instead of the size's.")
@click.option("--seed", "seed", type=int, default=1, show_default=True,
              help="Every name, learner, grade and season follows from it.")
@click.option("--processes", type=click.IntRange(1), default=None,
              help="Signing processes (default: one per core from 20,000 credentials).")
@data_option
def seed_command(size: str, learners: int | None, credential_count: int | None,
                 years: int | None, seed: int, processes: int | None,
                 data_dir: Path | None) -> None:
    """Seed a city-sized demo bank (creating the chain if there is none): institutions,
    catalogues, programmes, learners and ten years of seasonal credentials, signed and anchored,
    applications, revocations and deposits. Interrupted, it resumes where it stopped when run
    again with the same options."""
    base = SIZES[size]
    plan = replace(base, learners=learners or base.learners, seed=seed,
                   credentials=credential_count or base.credentials, years=years or base.years)
    accounts = seed_with_progress(settings_of(data_dir), plan, processes)
    click.echo("\n".join(accounts.lines()))


def seed_with_progress(settings: Settings, plan: CityPlan, processes: int | None) -> DemoAccounts:
    """Seed the city `plan` (creating the chain if there is none) with a progress bar on stderr;
    its demo accounts. The embedded chain seals a block every 0.1 s while it seeds."""
    if not chain_home(settings).deployment_path.exists():
        click.echo(f"creating a chain in {settings.data_dir} …", err=True)
        initialise(settings.data_dir)
    if processes is None:
        processes = (os.cpu_count() or 1) if plan.credentials >= PARALLEL_FROM else 1
    seeding = replace(settings, block_period=min(settings.block_period, SEED_BLOCK_PERIOD))
    started = time.perf_counter()
    with database(settings) as engine, Chain(seeding) as chain, _Bar() as bar:
        seeded = seed_city(engine, chain, settings=seeding, plan=plan, processes=processes,
                           progress=bar.show)
    click.echo(f"seeded in {time.perf_counter() - started:,.0f} s: {seeded.issued:,} credentials "
               f"issued now, {seeded.skipped:,} found issued before", err=True)
    return seeded.accounts


class _Bar:
    """Shows the seed's progress on stderr: a bar with the rate for the credentials, a line for
    each other phase when it ends."""

    def __init__(self) -> None:
        self.credentials: Progress | None = None
        self.done = 0
        self.phases: dict[str, float] = {}

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.credentials is not None:
            self.credentials.__exit__(None)

    def show(self, phase: str, done: int, total: int) -> None:
        """Show how far `phase` is."""
        began = self.phases.setdefault(phase, time.perf_counter())
        if phase != "credentials":
            if done == total:
                click.echo(f"{phase}: {total:,} done in {time.perf_counter() - began:,.1f} s",
                           err=True)
            return
        if self.credentials is None:
            self.credentials = Progress(total, "credentials", rate=True)
        if done > self.done or self.credentials.bar is None:
            self.credentials.update(done - self.done)
            self.done = done
            if done == total:
                self.credentials.__exit__(None)
                click.echo(f"credentials: {total:,} done in {time.perf_counter() - began:,.1f} s "
                           f"({self.credentials.rate():,.0f}/s)", err=True)
