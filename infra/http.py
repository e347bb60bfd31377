"""HTTP hardening: slow clients dropped by stdlib handlers (a deadline for the request head, a read
timeout), and JSON bodies nested too deeply refused before they are parsed."""

from __future__ import annotations

import io
import re
import socket
import time
from http.server import BaseHTTPRequestHandler

CLIENT_TIMEOUT = 10.0
MAX_DEPTH = 64
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class DeadlineReader(io.RawIOBase):
    """Socket reads that time out after `timeout` idle seconds, or at `deadline` when one is set."""

    def __init__(self, connection: socket.socket, timeout: float) -> None:
        super().__init__()
        self.connection = connection
        self.timeout = timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Read what the client sent; raises TimeoutError once the client is too slow."""
        wait = self.timeout
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError("the client sent its request too slowly")
        self.connection.settimeout(wait)
        return self.connection.recv_into(buffer)


class SlowClientGuard(BaseHTTPRequestHandler):
    """A request handler that drops a client whose request line and headers take longer than
    the server's `client_timeout` seconds in all, or that stays silent that long (slowloris)."""

    @property
    def client_timeout(self) -> float:
        """Seconds allowed for the request head, and for each read (CLIENT_TIMEOUT by default)."""
        return float(getattr(self.server, "client_timeout", CLIENT_TIMEOUT))

    def setup(self) -> None:
        """Read the connection through a `DeadlineReader`."""
        super().setup()
        self.rfile.close()
        self.reader = DeadlineReader(self.connection, self.client_timeout)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self) -> None:
        """Answer one request, its head due within the deadline."""
        self.reader.deadline = time.monotonic() + self.client_timeout
        super().handle_one_request()

    def parse_request(self) -> bool:
        """Parse the head; the body is then read under the idle timeout only."""
        parsed = super().parse_request()
        self.reader.deadline = None
        self.connection.settimeout(self.client_timeout)
        return parsed

def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests deeper than `limit` (py-evm raises the recursion limit so far that
    a deeply nested body would overflow the C stack inside `json.loads`)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(body):
        symbol = token.group()
        if symbol in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif symbol in (b"]", b"}"):
            depth -= 1
    return False
