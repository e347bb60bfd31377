"""Security headers on every response, and JSON bodies refused before they can nest too deeply."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_smorest import abort

from infra.http import too_deep
from infra.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def response_headers(public_url: str) -> dict[str, str]:
    """The headers every response carries; HSTS only when the portal is served over https."""
    if urlsplit(public_url).scheme == "https":
        return {**HEADERS, "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY}
    return dict(HEADERS)


def init_app(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response and refuse over-nested JSON bodies (400)."""
    headers = response_headers(settings.public_url)

    @app.before_request
    def refuse_deep_json() -> None:
        limit = app.config["MAX_JSON_DEPTH"]
        if request.is_json and too_deep(request.get_data(cache=True), limit):
            abort(400, message=f"the JSON body is nested deeper than the {limit} levels allowed")

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
