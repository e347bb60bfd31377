"""The `creditbank verify` command: verify credential files against the ledger.

Exit status: 0 every credential is valid, 1 any is invalid, 2 any is indeterminate (and none
invalid, e.g. the ledger could not be reached), 64 usage error (bad option, unreadable file).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import click

from infra.settings import Settings
from ledger.chain import chain_home
from ledger.errors import LedgerError
from ledger.views import open_view
from verify.context import MAX_BYTES, Context
from verify.fragments import Report, Status
from verify.pipeline import verify_many

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_INDETERMINATE = 2
EXIT_USAGE = 64
DEFAULT_LEDGER_URL = "http://127.0.0.1:8545"

MARKS = {Status.VALID: "✓", Status.INVALID: "✗", Status.INDETERMINATE: "?", Status.SKIPPED: "–"}


class UsageError(click.UsageError):
    """A usage error of `creditbank verify`, exiting with EX_USAGE (64)."""

    exit_code = EXIT_USAGE


class VerifyCommand(click.Command):
    """A click command whose argument and option errors exit with EX_USAGE (64), not 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does, re-coding usage errors to exit 64."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise UsageError(error.format_message(), error.ctx) from error


@click.command("verify", cls=VerifyCommand)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the reports as a JSON array.")
@click.option(
    "--ledger",
    "ledger_urls",
    multiple=True,
    metavar="URL",
    envvar="CREDITBANK_LEDGER",
    default=(DEFAULT_LEDGER_URL,),
    show_default=True,
    help="JSON-RPC URL of a ledger node; repeat for fallbacks (env CREDITBANK_LEDGER).",
)
@click.option(
    "--deployment",
    type=click.Path(dir_okay=False, exists=True),
    envvar="CREDITBANK_DEPLOYMENT",
    help="Deployment file of the trusted chain: its id and contract addresses "
    "(default: deployment.json of the data dir, env CREDITBANK_DATA).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=MAX_BYTES,
    show_default=True,
    help="Largest credential file accepted.",
)
@click.pass_context
def verify_command(
    ctx: click.Context,
    files: tuple[str, ...],
    as_json: bool,
    ledger_urls: tuple[str, ...],
    deployment: str | None,
    max_bytes: int,
) -> None:
    """Verify credential FILEs (- for standard input) against the credit bank ledger: JSON, or
    Open Badges 3.0 baked images (SVG or PNG) with the credential inside."""
    if deployment is None:
        deployment = str(chain_home(Settings.from_env()).deployment_path)
    raws = [_read(path, max_bytes, ctx) for path in files]
    try:
        view = open_view(list(ledger_urls), deployment)
    except LedgerError as error:
        click.echo(f"The ledger could not be opened: {error.message}", err=True)
        ctx.exit(EXIT_INDETERMINATE)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"The deployment file {deployment} cannot be read.", ctx) from error
    ctx.exit(print_reports(files, raws, Context(view, max_bytes=max_bytes), as_json=as_json))


def print_reports(
    files: Sequence[str], raws: Sequence[bytes], context: Context, *, as_json: bool
) -> int:
    """Verify the files' contents, print their reports, and return the exit status."""
    reports = verify_many(raws, context)
    if as_json:
        documents = [
            {"file": path, **report.to_json()} for path, report in zip(files, reports, strict=True)
        ]
        click.echo(json.dumps(documents, indent=2, ensure_ascii=False))
    else:
        for path, report in zip(files, reports, strict=True):
            click.echo(human_report(path, report))
    return exit_status(reports)


def _read(path: str, max_bytes: int, ctx: click.Context) -> bytes:
    """The file's bytes, at most one byte over the limit (so the parse check can refuse it)."""
    try:
        if path == "-":
            return sys.stdin.buffer.read(max_bytes + 1)
        with open(path, "rb") as file:
            return file.read(max_bytes + 1)
    except OSError as error:
        raise UsageError(f"Cannot read {path}: {error.strerror or error}.", ctx) from error


def human_report(path: str, report: Report) -> str:
    """A report as text: a verdict line, then one marked line per check."""
    width = max(len(fragment.name) for fragment in report.fragments)
    lines = [f"{path}: {report.verdict}"]
    for fragment in report.fragments:
        code = (
            f" [{fragment.code}]"
            if fragment.status in (Status.INVALID, Status.INDETERMINATE)
            else ""
        )
        lines.append(
            f"  {MARKS[fragment.status]} {fragment.name:<{width}}  {fragment.message}{code}"
        )
    return "\n".join(lines)


def exit_status(reports: Sequence[Report]) -> int:
    """0 if all valid, 1 if any invalid, else 2 if any indeterminate."""
    verdicts = {report.verdict for report in reports}
    if Status.INVALID in verdicts:
        return EXIT_INVALID
    if Status.INDETERMINATE in verdicts:
        return EXIT_INDETERMINATE
    return EXIT_VALID
