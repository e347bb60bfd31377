"""Portal errors: JSON error bodies for the API, and error pages for everything else."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

logger = logging.getLogger(__name__)


class PortalError(Exception):
    """Root of portal errors; `message` is safe to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidShare(PortalError, ValueError):
    """A share link cannot be created as asked."""


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
    """Answer API failures with JSON, page failures with a page, and never leak a stack trace."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int, list[tuple[str, str]]]:
        if not request.path.startswith("/api/"):
            return error_page(error)
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        return error_body(error.code or 500, error.description or "", messages)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response | tuple[str, int, list[tuple[str, str]]]:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_body(500, "internal error")
        return error_page(InternalServerError())


def error_page(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
    """The error as a page in the visitor's language, keeping its headers (e.g. Allow)."""
    return render_template("error.html", error=error), error.code or 500, error.get_headers()
