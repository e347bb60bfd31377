"""The `creditbank` command: every package's commands under one root, with one error policy."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import click

# Every table module: `creditbank db` backs up, restores and compares them all.
import bank.tables
import bank.verdicts  # noqa: F401
import infra.aggregates
import infra.audit
import infra.sealing  # noqa: F401
import issuers.tables  # noqa: F401
import ledger.indexer  # noqa: F401
import portal.tables  # noqa: F401
from infra.settings import Settings
from portal.errors import ROOTS, OurError

EXIT_USAGE = 64
EXIT_DATA = 65
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70

COMMANDS = {
    "init": "ledger.cli:init_command",
    "node": "ledger.cli:node_command",
    "new-account": "ledger.cli:new_account_command",
    "deploy": "ledger.cli:deploy_command",
    "verify": "verify.cli:verify_command",
    "demo": "portal.demo:demo_command",
    "staff": "bank.staff:staff_group",
    "db": "infra.cli:db_group",
    "issuers": "issuers.cli:issuers_group",
    "units": "issuers.cli:units_group",
    "issue": "issuers.cli:issue_command",
    "revoke": "issuers.cli:revoke_command",
    "rules": "issuers.cli:rules_group",
    "worker": "issuers.cli:worker_command",
    "learners": "bank.cli:learners_group",
    "operator": "bank.cli:operator_group",
    "decisions": "bank.cli:decisions_group",
    "audit": "bank.cli:audit_command",
    "data": "bank.cli:data_group",
    "seed": "bank.cli:seed_command",
}
"""Each command and where it is defined: a command imports only its own room when it runs
(`creditbank issue` starts its signing sooner without the portal's pages and PDF fonts)."""


class Commands(click.Group):
    """The root group, loading a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, name = where.split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@click.group(cls=Commands)
@click.version_option(package_name="creditbank")
def cli() -> None:
    """creditbank: a lifelong-learning credit bank on a permissioned ledger."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors become one clear line and a sysexits-style exit code."""
    try:
        result = cli.main(args=argv, prog_name="creditbank", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else EXIT_DATA
    except ROOTS as exc:
        return refused(exc)
    except Exception as exc:
        if Settings.from_env().debug:
            raise
        click.echo(f"error: unexpected {exc.__class__.__name__}: {exc}", err=True)
        return EXIT_SOFTWARE
    return result if isinstance(result, int) else 0


def refused(error: OurError) -> int:
    """One of our errors on stderr, its message then one line per field (or CSV line); exit
    EX_UNAVAILABLE when what it needs is unavailable (status 503), else EX_DATAERR."""
    lines = [f"error: {error.message}"]
    lines += [f"  {path}: {message}" for path, message in _flatten(getattr(error, "errors", {}))]
    click.echo("\n".join(lines), err=True)
    return EXIT_UNAVAILABLE if error.status == 503 else EXIT_DATA


def _flatten(errors: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, f"{path}, {key}" if path else str(key))
    elif isinstance(errors, list):
        for item in errors:
            yield from _flatten(item, path)
    else:
        yield path, str(errors)


if __name__ == "__main__":
    sys.exit(main())
