"""Portal errors: JSON error bodies for the API, and error pages for everything else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.http import HTTP_STATUS_CODES

from ledger.errors import LedgerUnavailable

OUTAGES = (OperationalError, InterfaceError, PoolTimeout, LedgerUnavailable)
RETRY_AFTER = "5"

logger = logging.getLogger(__name__)


class PortalError(Exception):
    """Root of portal errors; `message` is safe to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidShare(PortalError, ValueError):
    """A share link cannot be created as asked."""


class SignOnFailed(PortalError, PermissionError):
    """City single sign-on did not prove who the person is (the message says why)."""


def error_body(status: int, message: str, errors: object = None) -> Response:
    """The one JSON error shape: {"code", "status", "message", "errors"?}."""
    body: dict[str, object] = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "message": message,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask, api: Api) -> None:
    """API failures as JSON bodies (flask-smorest's), page failures as pages; never a stack trace.
    A database or ledger outage answers 503 with Retry-After.

    Call after `Api(app)`: this replaces the API's own handler so pages are not answered in JSON.
    """

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return api.handle_http_exception(error)
        return error_page(error)

    def outage(error: Exception) -> ResponseReturnValue:
        logger.warning("outage on %s %s: %s", request.method, request.path, error)
        what = "ledger" if isinstance(error, LedgerUnavailable) else "database"
        if request.path.startswith("/api/"):
            response = error_body(503, f"the {what} is unavailable; try again shortly")
            response.headers["Retry-After"] = RETRY_AFTER
            return response
        page, _code, headers = error_page(ServiceUnavailable())  # type: ignore[misc]
        return page, 503, {**dict(headers), "Retry-After": RETRY_AFTER}

    for outage_kind in OUTAGES:
        app.register_error_handler(outage_kind, outage)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_body(500, "internal error")
        return error_page(InternalServerError())


def error_page(error: HTTPException) -> ResponseReturnValue:
    """The error as a page in the visitor's language, keeping its headers (e.g. Allow)."""
    code = error.code or 500
    message = error.description if error.description != type(error).description else None
    return render_template("error.html", code=code, message=message), code, error.get_headers()
