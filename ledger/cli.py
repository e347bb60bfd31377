"""The `creditbank init` and `creditbank node` commands."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from ledger.errors import LedgerError
from ledger.genesis import initialise
from ledger.node import DEFAULT_BLOCK_PERIOD, DEFAULT_CHAIN_ID, EmbeddedNode
from ledger.server import DEFAULT_HOST, DEFAULT_PORT, serve

data_option = click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Data directory of the chain (holds chain.sqlite).",
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
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--block-period",
    default=DEFAULT_BLOCK_PERIOD,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Seconds between seals.",
)
def node_command(data_dir: Path, host: str, port: int, block_period: float) -> None:
    """Run the embedded ledger node over JSON-RPC until SIGINT/SIGTERM."""
    try:
        node = EmbeddedNode.open(data_dir, block_period=block_period)
    except LedgerError as error:
        raise click.ClickException(error.message) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
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
