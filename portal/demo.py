"""`creditbank demo`: a chain, the portal and its JSON-RPC on 127.0.0.1, in one process."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import click
from werkzeug.serving import make_server

from bank import notices, retention
from bank.city import SIZES
from bank.cli import seed_with_progress
from bank.revocation_watch import WATCH_SECONDS, watch
from bank.seed import seed_demo
from infra.cli import data_option, settings_of, stop_on_signals
from infra.http import SlowClientGuard
from issuers.anchoring import start_worker
from ledger.chain import chain_home
from ledger.genesis import initialise
from ledger.server import serve
from portal.app import create_app
from portal.request_log import RouteLoggingHandler, print_requests
from portal.runtime import Runtime

HOST = "127.0.0.1"


class DemoRequestHandler(SlowClientGuard, RouteLoggingHandler):
    """The development server's handler, dropping slow clients and logging requests by route
    pattern (never by path or query)."""


@click.command("demo")
@data_option
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rpc-port", default=8545, show_default=True, type=click.IntRange(1, 65535))
@click.option("--size", type=click.Choice(("small", "city")), default="small", show_default=True,
              help="small: four institutions and eight learners, in seconds; city: the city of "
                   "`creditbank seed --size city` (30 institutions, 100,000 learners, 1,000,000 "
                   "credentials over ten years), seeded once and resumed if interrupted.")
def demo_command(data_dir: Path | None, port: int, rpc_port: int, size: str) -> None:
    """Create (once) and run a local credit bank: embedded ledger, portal and JSON-RPC."""
    settings = replace(settings_of(data_dir), public_url=f"http://{HOST}:{port}")
    if not chain_home(settings).deployment_path.exists():
        click.echo(f"creating a chain in {settings.data_dir} …", err=True)
        initialise(settings.data_dir)
    city = None
    if size == "city":
        click.echo("demo data: seeding the city (resumes where a run stopped) …", err=True)
        city = seed_with_progress(settings, SIZES["city"], None)
    with Runtime(settings) as runtime:
        assert runtime.node is not None
        if city is None:
            click.echo("demo data: seeding an empty bank once …", err=True)
        accounts = city or seed_demo(runtime.engine, runtime.chain, settings=runtime.settings)
        rpc = serve(runtime.node, HOST, rpc_port)
        rpc.start()
        web = make_server(
            HOST, port, create_app(runtime), threaded=True, request_handler=DemoRequestHandler
        )
        worker = start_worker(runtime.engine, runtime.ledger, settings=runtime.settings)
        stop = stop_on_signals()
        print_requests()
        threading.Thread(target=web.serve_forever, daemon=True).start()
        threading.Thread(target=watch, args=(runtime.engine, runtime.ledger, stop, WATCH_SECONDS),
                         name="revocations", daemon=True).start()
        threading.Thread(target=notices.work, args=(runtime.engine, runtime.settings, stop),
                         name="notices", daemon=True).start()
        threading.Thread(target=retention.work, args=(runtime.engine, stop),
                         name="retention", daemon=True).start()
        click.echo(
            f"creditbank is running\n"
            f"  portal:      http://{HOST}:{port}/\n"
            f"  API:         http://{HOST}:{port}/api/v1/openapi.json\n"
            f"  ledger RPC:  {rpc.url} (chain {runtime.deployment.chain_id})\n"
            f"  deployment:  {chain_home(settings).deployment_path}\n"
            f"  verify:      creditbank verify FILE --ledger {rpc.url} "
            f"--deployment {chain_home(settings).deployment_path}\n"
            + ("\n".join(accounts.lines()) + "\n" if accounts else "")
            + "Press Ctrl+C to stop."
        )
        stop.wait()
        web.shutdown()
        worker.stop()
        rpc.stop()
    click.echo("stopped", err=True)
