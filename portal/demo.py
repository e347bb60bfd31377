"""`creditbank demo`: a chain, the portal and its JSON-RPC on 127.0.0.1, in one process."""

from __future__ import annotations

import signal
import threading
from dataclasses import replace
from pathlib import Path

import click
from werkzeug.serving import WSGIRequestHandler, make_server

from issuers.anchoring import start_worker
from issuers.cli import data_option, settings_of
from ledger.genesis import initialise
from ledger.runtime import Runtime
from ledger.server import serve
from ledger.slowclients import SlowClientGuard
from portal.app import create_app
from portal.bank.revocation_watch import WATCH_SECONDS, watch
from portal.seed import seed_demo

HOST = "127.0.0.1"


class DemoRequestHandler(SlowClientGuard, WSGIRequestHandler):
    """The development server's handler, dropping slow clients."""


@click.command("demo")
@data_option
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rpc-port", default=8545, show_default=True, type=click.IntRange(1, 65535))
def demo_command(data_dir: Path | None, port: int, rpc_port: int) -> None:
    """Create (once) and run a local credit bank: embedded ledger, portal and JSON-RPC."""
    settings = replace(settings_of(data_dir), public_url=f"http://{HOST}:{port}")
    if not settings.chain_home.deployment_path.exists():
        click.echo(f"creating a chain in {settings.data_dir} …", err=True)
        initialise(settings.data_dir)
    with Runtime(settings) as runtime:
        assert runtime.node is not None
        click.echo("demo data: seeding an empty bank once …", err=True)
        accounts = seed_demo(runtime)
        rpc = serve(runtime.node, HOST, rpc_port)
        rpc.start()
        web = make_server(
            HOST, port, create_app(runtime), threaded=True, request_handler=DemoRequestHandler
        )
        worker = start_worker(runtime)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        threading.Thread(target=web.serve_forever, daemon=True).start()
        threading.Thread(target=watch, args=(runtime, stop, WATCH_SECONDS), name="revocations",
                         daemon=True).start()
        click.echo(
            f"creditbank is running\n"
            f"  portal:      http://{HOST}:{port}/\n"
            f"  API:         http://{HOST}:{port}/api/v1/openapi.json\n"
            f"  ledger RPC:  {rpc.url} (chain {runtime.deployment.chain_id})\n"
            f"  deployment:  {settings.chain_home.deployment_path}\n"
            f"  verify:      creditbank verify FILE --ledger {rpc.url} "
            f"--deployment {settings.chain_home.deployment_path}\n"
            + ("\n".join(accounts.lines()) + "\n" if accounts else "")
            + "Press Ctrl+C to stop."
        )
        stop.wait()
        web.shutdown()
        worker.stop()
        rpc.stop()
    click.echo("stopped", err=True)
