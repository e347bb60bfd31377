"""Commands of the credit bank: open learner accounts in bulk, create operator tokens, and watch
for revocations that touch decisions."""

from __future__ import annotations

import csv
import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from bank import data_catalogue, notices, retention
from bank.accounts import Accounts, national_ids_from_file, new_operator_token
from bank.revocation_watch import WATCH_SECONDS, watch, watch_once
from infra.audit import MAX_LIMIT, cli_actor, entries
from infra.cli import data_option, database, settings_of, stop_on_signals
from issuers.registry import issuer_record
from ledger.chain import Chain


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


COMMANDS = (learners_group, operator_group, decisions_group, audit_command, data_group)
