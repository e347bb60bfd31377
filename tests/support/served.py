"""A WSGI app served by werkzeug on 127.0.0.1 (a free port) in a background thread, its requests
logged as the product logs them (by route pattern, never by path)."""

from __future__ import annotations

import threading
from typing import Any, Self

from werkzeug.serving import make_server

from portal.request_log import RouteLoggingHandler


class ServedApp:
    """Serves a WSGI app while entered: its URL is known at once, the thread starts on entry."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True,
                                  request_handler=RouteLoggingHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
