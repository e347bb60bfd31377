"""The `creditbank` command: every package's commands under one root, with one error policy."""

from __future__ import annotations

import os
import sys

import click

from credentials.errors import CredentialError
from issuers.cli import COMMANDS as ISSUER_COMMANDS
from issuers.errors import IssuerError
from ledger.cli import deploy_command, init_command, new_account_command, node_command
from ledger.errors import LedgerError, LedgerUnavailable
from portal.bank.cli import COMMANDS as BANK_COMMANDS
from portal.bank.errors import BankError
from portal.database import db_group
from portal.demo import demo_command
from portal.staff import staff_group
from verify.cli import verify_command
from verify.errors import VerifyError

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
    except LedgerUnavailable as exc:
        click.echo(f"error: {exc.message}", err=True)
        return EXIT_UNAVAILABLE
    except (LedgerError, CredentialError, VerifyError, IssuerError, BankError) as exc:
        click.echo(f"error: {exc.message}", err=True)
        return EXIT_DATA
    except Exception as exc:
        if os.environ.get("CREDITBANK_DEBUG"):
            raise
        click.echo(f"error: unexpected {exc.__class__.__name__}: {exc}", err=True)
        return EXIT_SOFTWARE
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
