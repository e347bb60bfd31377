"""The `creditbank` command: every package's commands under one root, with one error policy."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

import bank.tables  # noqa: F401  (every table module: `creditbank db revision` compares them all)
import infra.audit  # noqa: F401
import issuers.tables  # noqa: F401
import ledger.indexer  # noqa: F401
import portal.tables  # noqa: F401
from bank.cli import COMMANDS as BANK_COMMANDS
from bank.staff import staff_group
from infra.cli import db_group
from infra.settings import Settings
from issuers.cli import COMMANDS as ISSUER_COMMANDS
from ledger.cli import deploy_command, init_command, new_account_command, node_command
from portal.demo import demo_command
from portal.errors import ROOTS, OurError
from verify.cli import verify_command

EXIT_USAGE = 64
EXIT_DATA = 65
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70


@click.group()
@click.version_option(package_name="creditbank")
def cli() -> None:
    """creditbank: a lifelong-learning credit bank on a permissioned ledger."""


cli.add_command(init_command)
cli.add_command(node_command)
cli.add_command(new_account_command)
cli.add_command(deploy_command)
cli.add_command(verify_command)
cli.add_command(demo_command)
cli.add_command(staff_group)
cli.add_command(db_group)
for command in (*ISSUER_COMMANDS, *BANK_COMMANDS):
    cli.add_command(command)


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
