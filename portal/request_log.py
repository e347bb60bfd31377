"""Request logs that name the route, never the path or the query string: a path can carry a
credential reference, a share token or a DID, and a query a search for a learner's name.

The app notes each request's route pattern (e.g. `/me/credentials/<ref>`) in the WSGI environ;
the servers log the method, that pattern, the status and the duration through `log_request`:
werkzeug's (the demo and the tests) with `RouteLoggingHandler`, Gunicorn with `GunicornLogger`
(`gunicorn -c portal/gunicorn.conf.py portal.wsgi:app`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, request
from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

ROUTE = "creditbank.route"
"""The WSGI environ key the app writes the matched route pattern to."""
NO_ROUTE = "-"
logger = logging.getLogger("creditbank.requests")


def init_app(app: Flask) -> None:
    """Note each request's route pattern for the server's request log."""
    app.after_request(_note_route)


def route_pattern() -> str:
    """The route pattern the current request matched ("-" when none did)."""
    return request.url_rule.rule if request.url_rule is not None else NO_ROUTE


def _note_route(response: Response) -> Response:
    request.environ[ROUTE] = route_pattern()
    return response


def route_of(environ: Mapping[str, Any]) -> str:
    """The route pattern the app matched for a request ("-" when none did)."""
    return str(environ.get(ROUTE, NO_ROUTE))


def request_line(method: str, route: str, status: object, seconds: float) -> str:
    """One request as the logs show it: method, route pattern, status, milliseconds."""
    return f"{method} {route} {status} {seconds * 1000:.1f}ms"


def log_request(method: str, route: str, status: object, seconds: float) -> None:
    """Log one answered request (INFO on `creditbank.requests`)."""
    logger.info("%s", request_line(method, route, status, seconds))


def print_requests() -> None:
    """Print each request's log line on stderr (the demo's console), with its time."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class RouteLoggingHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging requests by route pattern, never by path."""

    def handle_one_request(self) -> None:
        """Time the request and forget the previous one's environ."""
        self.environ = {}
        self.started = time.monotonic()
        super().handle_one_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the request by its route pattern."""
        seconds = time.monotonic() - getattr(self, "started", time.monotonic())
        log_request(getattr(self, "command", None) or "-", route_of(self.environ), code, seconds)

    def log_error(self, format: str, *args: Any) -> None:
        """Log that a request failed, without the request line an error message may quote."""
        logger.warning("%s %s: the server could not answer", getattr(self, "command", None)
                       or "-", route_of(getattr(self, "environ", {})))


class GunicornLogger(Logger):
    """Gunicorn's logger, its access log naming the route pattern instead of the path."""

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any],
               request_time: timedelta) -> None:
        """Log one request to Gunicorn's access log by its route pattern."""
        if not self.access_log_enabled:
            return
        self.access_log.info(request_line(environ.get("REQUEST_METHOD", "-"), route_of(environ),
                                          resp.status_code, request_time.total_seconds()))

