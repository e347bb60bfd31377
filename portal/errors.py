"""Portal errors, and JSON error bodies for every failure of an API route."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

logger = logging.getLogger(__name__)


class PortalError(Exception):
    """Root of portal errors; `message` is safe to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def init_app(app: Flask) -> None:
    """Answer API failures with JSON and never leak a stack trace."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            return error
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        return error_body(error.code or 500, error.description or "", messages)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response | HTTPException:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_body(500, "internal error")
        return InternalServerError()
