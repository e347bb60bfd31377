"""Commands of the credit bank: open learner accounts in bulk, create operator tokens, and watch
for revocations that touch decisions."""

from __future__ import annotations

import csv
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from issuers.cli import data_option, opened
from issuers.registry import issuer_record
from ledger.audit import MAX_LIMIT, cli_actor, entries
from portal.bank.accounts import Accounts, national_ids_from_file, new_operator_token
from portal.bank.revocation_watch import WATCH_SECONDS, watch, watch_once


@click.group("learners")
def learners_group() -> None:
    """Learner accounts."""


@learners_group.command("open")
@click.option("--institution", "institution_id", required=True,
              help="The issuer id of the institution opening the accounts.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_option
def open_accounts(institution_id: str, file: Path, data_dir: Path | None) -> None:
    """Open accounts for the national ids in FILE (CSV with a national_id column, or a JSON
    list); prints line, DID and activation code (empty for an existing account) as CSV."""
    with opened(data_dir) as runtime:
        issuer_record(runtime.engine, institution_id)
        national_ids = national_ids_from_file(file.read_bytes(), file.name)
        accounts = Accounts.of(runtime).open_in_bulk(institution_id, national_ids,
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
    with opened(data_dir) as runtime:
        click.echo(new_operator_token(runtime.engine, name, actor=cli_actor()))


@click.group("decisions")
def decisions_group() -> None:
    """Decisions on applications."""


@decisions_group.command("watch")
@click.option("--once", is_flag=True, help="Do one pass and exit.")
@click.option("--every", type=click.FloatRange(min=1), default=WATCH_SECONDS,
              show_default=True, help="Seconds between passes.")
@data_option
def watch_decisions(once: bool, every: float, data_dir: Path | None) -> None:
    """Flag for review every decision that used a credential revoked since (until SIGTERM)."""
    with opened(data_dir) as runtime:
        if once:
            flagged = watch_once(runtime)
            click.echo(f"{len(flagged)} decision(s) flagged")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        click.echo("revocation watch running", err=True)
        watch(runtime, stop, every)
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
    with opened(data_dir) as runtime:
        found = entries(runtime.engine, since=since.replace(tzinfo=UTC) if since else None,
                        action=action, limit=limit)
    for entry in found:
        click.echo(json.dumps(entry, ensure_ascii=False))


COMMANDS = (learners_group, operator_group, decisions_group, audit_command)
