"""Portal errors, and the one mapping of every error to HTTP: a JSON body for the API, an error
page for everything else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from credentials.errors import CredentialError
from infra.errors import InfraError
from ledger.errors import LedgerError, LedgerUnavailable
from portal.request_log import route_pattern
from rules.errors import EngineError
from verify.errors import VerifyError

OUTAGES = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER = "5"
BEARER_CHALLENGE = 'Bearer realm="creditbank"'

logger = logging.getLogger(__name__)


class PortalError(Exception):
    """Root of portal errors; `message` is safe to show a user, `status` is its HTTP status."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignOnFailed(PortalError, PermissionError):
    """City single sign-on did not prove who the person is (the message says why)."""

    status = 502


OurError = CredentialError | InfraError | LedgerError | EngineError | VerifyError | PortalError
ROOTS: tuple[type[OurError], ...] = (
    CredentialError, InfraError, LedgerError, EngineError, VerifyError, PortalError,
)


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
    Our errors answer the status they carry; a database or ledger outage answers 503 with
    Retry-After.

    Call after `Api(app)`: this replaces the API's own handler so pages are not answered in JSON.
    """

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return api.handle_http_exception(error)
        return error_page(error)

    for outage_kind in OUTAGES:
        app.register_error_handler(outage_kind, outage)
    for root in ROOTS:
        app.register_error_handler(root, refusal)
    app.register_error_handler(Exception, unexpected_error)


def refusal(error: OurError) -> ResponseReturnValue:
    """Any of our errors as HTTP, with the status it carries: a JSON body with its field errors
    under /api/, else the error page; 401 asks for a bearer token, 503 is an outage, and other
    server errors are logged and answered as unexpected; one that says when to retry
    (`retry_after`, seconds) answers `Retry-After`."""
    status = error.status
    if status == 503:
        return outage(error)
    if status == 500:
        return unexpected_error(error)
    headers = {"WWW-Authenticate": BEARER_CHALLENGE} if status == 401 else {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if request.path.startswith("/api/"):
        response = error_body(status, error.message, getattr(error, "errors", None))
        response.headers.update(headers)
        return response
    return render_template("error.html", code=status, message=error.message), status, headers


def outage(error: Exception) -> ResponseReturnValue:
    """503 with Retry-After: the database or the ledger does not answer."""
    logger.warning("outage on %s %s: %s", request.method, route_pattern(), error)
    what = "ledger" if isinstance(error, LedgerUnavailable) else "database"
    if request.path.startswith("/api/"):
        response = error_body(503, f"the {what} is unavailable; try again shortly")
        response.headers["Retry-After"] = RETRY_AFTER
        return response
    return render_template("error.html", code=503, message=None), 503, {"Retry-After": RETRY_AFTER}


def unexpected_error(error: Exception) -> ResponseReturnValue:
    """500, logged with its stack trace; the answer says no more than 'internal error'."""
    logger.exception("unhandled error on %s %s", request.method, route_pattern())
    if request.path.startswith("/api/"):
        return error_body(500, "internal error")
    return error_page(InternalServerError())


def error_page(error: HTTPException) -> ResponseReturnValue:
    """The error as a page in the visitor's language, keeping its headers (e.g. Allow)."""
    code = error.code or 500
    message = error.description if error.description != type(error).description else None
    return render_template("error.html", code=code, message=message), code, error.get_headers()
