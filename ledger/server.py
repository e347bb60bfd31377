"""JSON-RPC over HTTP POST for the embedded node (stdlib threading server, on 127.0.0.1 unless
told otherwise; the admin methods answer loopback clients only, whatever the interface)."""

from __future__ import annotations

import ipaddress
import json
import threading
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import ClassVar

from infra.http import CLIENT_TIMEOUT, SlowClientGuard
from ledger.errors import InvalidRequest
from ledger.node import EmbeddedNode
from ledger.rpc import MAX_BODY_BYTES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8545
BEARER = "Bearer "
POLL_INTERVAL = 0.05


class RPCServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one node; drops clients slower than `client_timeout`."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, node: EmbeddedNode, address: tuple[str, int], client_timeout: float = CLIENT_TIMEOUT
    ) -> None:
        super().__init__(address, RPCRequestHandler)
        self.node = node
        self.client_timeout = client_timeout
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The http:// URL clients connect to."""
        host, port = self.server_address[:2]
        if isinstance(host, bytes | bytearray):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, args=(POLL_INTERVAL,), name="rpc-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port (the node stays open)."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()


class RPCRequestHandler(SlowClientGuard):
    """POST / with a JSON-RPC body; `Authorization: Bearer <token>` for admin methods."""

    server: RPCServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "creditbank-ledger"
    error_content_type = "application/json"
    error_message_format = (
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"%(message)s"}}'
    )
    allowed_paths: ClassVar[tuple[str, ...]] = ("/", "")

    def do_POST(self) -> None:
        """Answer one JSON-RPC body."""
        if self.path not in self.allowed_paths:
            self.send_error(HTTPStatus.NOT_FOUND, "not found")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.send_error(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return
        if length < 0 or length > MAX_BODY_BYTES:
            body = InvalidRequest("request body too large").to_json()
            self._reply(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"jsonrpc": "2.0", "id": None, "error": body}
            )
            self.close_connection = True
            return
        payload = self.rfile.read(length)
        answer = self.server.node.handle(payload, admin_token=self._admin_token())
        self._send(HTTPStatus.OK, answer)

    def do_GET(self) -> None:
        """Only POST carries JSON-RPC."""
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "use POST")

    def _admin_token(self) -> str | None:
        """The bearer token, taken from a loopback client only: remote ones never administer."""
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            return None
        header = self.headers.get("Authorization", "")
        return header[len(BEARER) :].strip() if header.startswith(BEARER) else None

    def _reply(self, status: HTTPStatus, value: dict) -> None:
        self._send(status, json.dumps(value).encode())

    def _send(self, status: HTTPStatus, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: requests are not logged."""


def serve(
    node: EmbeddedNode,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    client_timeout: float = CLIENT_TIMEOUT,
) -> RPCServer:
    """Bind an HTTP JSON-RPC server for `node` (port 0 picks a free port).

    It is not serving yet: call `server.start()` to serve in a thread, or `serve_forever()`.
    """
    return RPCServer(node, (host, port), client_timeout)
