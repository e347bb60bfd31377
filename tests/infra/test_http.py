"""Slow clients (slowloris) are dropped by the node's JSON-RPC server and the development server,
while other clients keep getting answers."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from ledger.server import serve
from portal.app import create_app
from portal.demo import DemoRequestHandler
from portal.runtime import Runtime
from tests.support.ledger import new_node
from tests.support.nodes import rpc

CLIENT_TIMEOUT = 1.0
TRICKLE_SECONDS = 6.0


def slowloris(port: int, verdict: dict[str, object]) -> None:
    """Send a request head one byte every 0.1 s; record whether and when the server hung up."""
    started = time.monotonic()
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 200
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(0.1)
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
                if connection.recv(1024) == b"":
                    break
            except TimeoutError:
                pass
            except OSError:
                break
            if time.monotonic() - started > TRICKLE_SECONDS:
                verdict["dropped"] = False
                return
    verdict["dropped"] = True
    verdict["after"] = time.monotonic() - started


def others_served(fetch: object, verdict: dict[str, object]) -> list[object]:
    """Answers another client gets while the slow client trickles, until it is dropped."""
    answers = []
    while "dropped" not in verdict:
        answers.append(fetch())  # type: ignore[operator]
        time.sleep(0.05)
    return answers


def run_slowloris(port: int, fetch: object) -> tuple[dict[str, object], list[object]]:
    """Run a slow client in a thread while `fetch` is called in this one."""
    verdict: dict[str, object] = {}
    slow = threading.Thread(target=slowloris, args=(port, verdict))
    slow.start()
    answers = others_served(fetch, verdict)
    slow.join()
    return verdict, answers


@pytest.fixture
def node_server(tmp_path) -> Iterator[object]:
    node, _ = new_node(tmp_path / "chain")
    server = serve(node, port=0, client_timeout=CLIENT_TIMEOUT)
    server.start()
    yield server
    server.stop()
    node.close()


def test_node_server_drops_a_slow_client_and_keeps_answering(node_server) -> None:
    verdict, answers = run_slowloris(
        node_server.server_address[1], lambda: rpc(node_server.url, "eth_chainId")
    )
    assert verdict["dropped"] is True
    assert CLIENT_TIMEOUT <= verdict["after"] < TRICKLE_SECONDS  # type: ignore[operator]
    assert len(answers) > 1 and set(answers) == {"0x7e5"}


def test_node_server_drops_a_silent_connection(node_server) -> None:
    with socket.create_connection(("127.0.0.1", node_server.server_address[1])) as connection:
        connection.settimeout(TRICKLE_SECONDS)
        connection.sendall(b"POST / HTTP/1.1\r\n")
        assert connection.recv(1024) == b""
    assert rpc(node_server.url, "eth_chainId") == "0x7e5"


def test_development_server_drops_a_slow_client_and_keeps_answering(runtime: Runtime) -> None:
    web = make_server(
        "127.0.0.1", 0, create_app(runtime), threaded=True, request_handler=DemoRequestHandler
    )
    web.client_timeout = CLIENT_TIMEOUT  # type: ignore[attr-defined]
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_port}/api/v1/openapi.json"

    def fetch() -> int:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status

    try:
        verdict, answers = run_slowloris(web.server_port, fetch)
    finally:
        web.shutdown()
    assert verdict["dropped"] is True
    assert CLIENT_TIMEOUT <= verdict["after"] < TRICKLE_SECONDS  # type: ignore[operator]
    assert len(answers) > 1 and set(answers) == {200}
