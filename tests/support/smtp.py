"""A small SMTP server for the tests (RFC 5321's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT) on 127.0.0.1 and a free port, keeping every message it accepts. `failing` makes
it answer 451 (try again later) to every MAIL, as a server in trouble does."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage
from types import TracebackType

MAX_LINE = 1000


class SmtpServer:
    """A test SMTP server; use it as a context manager."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.failing = False
        self._lock = threading.Lock()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                owner._converse(self)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Its CREDITBANK_SMTP_URL."""
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self) -> list[EmailMessage]:
        """The messages accepted so far."""
        with self._lock:
            return list(self.messages)

    def _converse(self, handler: socketserver.StreamRequestHandler) -> None:
        def say(line: str) -> None:
            handler.wfile.write(f"{line}\r\n".encode("ascii"))
            handler.wfile.flush()

        say("220 localhost test SMTP")
        sender, recipients = "", list[str]()
        while True:
            raw = handler.rfile.readline(MAX_LINE + 2)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                say("250-localhost")
                say("250-8BITMIME")
                say("250 SMTPUTF8")
            elif verb == "HELO":
                say("250 localhost")
            elif verb == "MAIL":
                if self.failing:
                    say("451 4.3.0 try again later")
                    continue
                sender, recipients = _address(line), []
                say("250 OK")
            elif verb == "RCPT":
                recipients.append(_address(line))
                say("250 OK")
            elif verb == "DATA":
                if not recipients:
                    say("503 5.5.1 RCPT first")
                    continue
                say("354 end with <CRLF>.<CRLF>")
                body = self._data(handler)
                parsed = email.message_from_bytes(body, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                with self._lock:
                    self.messages.append(parsed)
                    self.envelopes.append((sender, recipients))
                say("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                say("250 OK")
            elif verb == "NOOP":
                say("250 OK")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 5.5.2 command not implemented")

    @staticmethod
    def _data(handler: socketserver.StreamRequestHandler) -> bytes:
        lines: list[bytes] = []
        while True:
            raw = handler.rfile.readline()
            if raw in (b".\r\n", b".\n", b""):
                return b"".join(lines)
            lines.append(raw[1:] if raw.startswith(b"..") else raw)


def _address(line: str) -> str:
    """The address inside <…> of a MAIL FROM or RCPT TO line."""
    start, end = line.find("<"), line.find(">")
    return line[start + 1:end] if 0 <= start < end else ""
