"""The `creditbank init`, `node`, `new-account` and `deploy` commands."""

from __future__ import annotations

from pathlib import Path

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount

from infra.cli import stop_on_signals
from infra.settings import DEFAULT_DATA_DIR, Settings
from ledger.accounts import load_account, save_account
from ledger.chain import chain_home
from ledger.client import Ledger
from ledger.deployment import deploy_contracts
from ledger.errors import LedgerError
from ledger.execution import CallLimits
from ledger.genesis import initialise
from ledger.node import DEFAULT_BLOCK_PERIOD, DEFAULT_CHAIN_ID, EmbeddedNode
from ledger.server import DEFAULT_HOST, DEFAULT_PORT, serve

OPERATOR_KEY_ENV = "CREDITBANK_OPERATOR_KEY_FILE"

data_option = click.option(
    "--data",
    "data_dir",
    envvar="CREDITBANK_DATA",
    default=DEFAULT_DATA_DIR,
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Data directory of the chain (holds chain.sqlite; env CREDITBANK_DATA).",
)


@click.command("init")
@data_option
@click.option("--chain-id", default=DEFAULT_CHAIN_ID, show_default=True, type=click.IntRange(1))
def init_command(data_dir: Path, chain_id: int) -> None:
    """Create a chain: operator key, genesis, admin token, contracts deployed."""
    deployment = initialise(data_dir, chain_id=chain_id)
    click.echo(deployment.to_json())


@click.command("node")
@data_option
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Interface to listen on (admin methods answer loopback clients only).",
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--block-period",
    default=DEFAULT_BLOCK_PERIOD,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between seals.",
)
def node_command(data_dir: Path, host: str, port: int, block_period: float) -> None:
    """Run the embedded ledger node over JSON-RPC until SIGINT/SIGTERM (eth_call and
    eth_estimateGas within $CREDITBANK_CALL_GAS_CAP gas and $CREDITBANK_CALL_SECONDS)."""
    try:
        limits = CallLimits.of(Settings.from_env())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    try:
        node = EmbeddedNode.open(data_dir, block_period=block_period, call_limits=limits)
    except LedgerError as error:
        raise click.ClickException(error.message) from None
    stop = stop_on_signals()
    node.start()
    server = serve(node, host, port)
    server.start()
    click.echo(
        f"ledger node: chain {node.chain_id} at block {node.head().block_number}, "
        f"serving {server.url}",
        err=True,
    )
    stop.wait()
    server.stop()
    node.close()
    click.echo("ledger node stopped", err=True)


@click.command("new-account")
@click.option(
    "--out",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write the sealed key to (refused if it exists).",
)
def new_account_command(path: Path) -> None:
    """Create a chain account sealed under the master key, and print its address."""
    if path.exists():
        raise click.ClickException(f"{path} exists: refusing to overwrite a key")
    account: LocalAccount = Account.create()
    save_account(path, account, Settings.from_env().master_key())
    click.echo(account.address)


@click.command("deploy")
@click.option(
    "--ledger",
    "urls",
    required=True,
    multiple=True,
    help="JSON-RPC URL of a node; repeat it to fail over between nodes.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write deployment.json (refused if it exists).",
)
@click.option(
    "--operator-key",
    "operator_key",
    envvar=OPERATOR_KEY_ENV,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help=f"The operator's sealed key (default: ${OPERATOR_KEY_ENV}, else the data dir's).",
)
def deploy_command(urls: tuple[str, ...], out: Path, operator_key: Path | None) -> None:
    """Deploy our contracts to a chain (e.g. a Besu consortium) and write its deployment."""
    if out.exists():
        raise click.ClickException(f"{out} exists: refusing to overwrite a deployment")
    settings = Settings.from_env()
    key_path = operator_key or chain_home(settings).operator_key_path
    if not key_path.exists():
        raise click.ClickException(
            f"no operator key at {key_path}: give --operator-key or set {OPERATOR_KEY_ENV}"
        )
    operator = load_account(key_path, settings.master_key())
    deployment = deploy_contracts(Ledger.connect(urls), operator)
    deployment.save(out)
    click.echo(deployment.to_json())
