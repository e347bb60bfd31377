"""Security headers on every response, `no-store` on everything private, the cookie flags, the
one check of where to return after signing in, and JSON bodies refused before they nest too deeply.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask, Response, current_app, request, session
from flask_smorest import abort

from infra.http import too_deep
from infra.settings import Settings
from portal import sessions

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
NO_STORE = "no-store"
SHARED_ENDPOINTS = frozenset({
    "static", "healthz", "api-docs.openapi_json", "issuer_dids.DidDocument",
    "oid4vci.credential_issuer_metadata", "oid4vci.authorization_server_metadata",
    "status_lists.StatusList",
    "public_api.Institutions", "public_api.Institution", "public_api.Catalogue",
    "public_api.CatalogueUnit", "public_api.Programmes", "public_api.Programme",
})
PUBLIC_ENDPOINTS = frozenset({
    "pages.home", "pages.verify_form", "pages.verify_submit", "pages.result", "verify.Verify",
})
MAX_NEXT_LENGTH = 2048
NEXT_DECODINGS = 3


def response_headers(public_url: str) -> dict[str, str]:
    """The headers every response carries; HSTS only when the portal is served over https."""
    if urlsplit(public_url).scheme == "https":
        return {**HEADERS, "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY}
    return dict(HEADERS)


def safe_next(value: object) -> str | None:
    """`value` if it is a path on this site to return to after signing in, else None: no other
    site, scheme, backslash, whitespace, control character or dot segment, however encoded."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NEXT_LENGTH or not value.isascii():
        return None
    layer = value
    for _ in range(NEXT_DECODINGS):
        if not _local_path(layer):
            return None
        decoded = unquote(layer)
        if decoded == layer:
            return value
        layer = decoded
    return None


def set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    """Set a cookie with the session cookie's flags: HttpOnly, SameSite=Lax, Secure under https."""
    config = current_app.config
    response.set_cookie(name, value, max_age=max_age,
                        httponly=config["SESSION_COOKIE_HTTPONLY"],
                        samesite=config["SESSION_COOKIE_SAMESITE"],
                        secure=config["SESSION_COOKIE_SECURE"])


def private() -> bool:
    """Whether this request's answer is someone's own (a signed-in page, an API answer, a download
    of theirs, a learner's share link, which stops opening the moment it is withdrawn), so no
    cache may keep it; a public page is too when its visitor is signed in."""
    if request.endpoint in SHARED_ENDPOINTS:
        return False
    if request.endpoint not in PUBLIC_ENDPOINTS or "Authorization" in request.headers:
        return True
    return sessions.COOKIE_KEY in session


def init_app(app: Flask, settings: Settings) -> None:
    """Add the security headers to every response, `no-store` to private ones, set the session
    cookie's flags, and refuse over-nested JSON bodies and NUL characters (400)."""
    headers = response_headers(settings.public_url)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlsplit(settings.public_url).scheme == "https",
    )

    @app.before_request
    def refuse_deep_json() -> None:
        limit = app.config["MAX_JSON_DEPTH"]
        if request.is_json and too_deep(request.get_data(cache=True), limit):
            abort(400, message=f"the JSON body is nested deeper than the {limit} levels allowed")

    @app.before_request
    def refuse_nul() -> None:
        where = nul_fields()
        if where:
            abort(400, message="the request holds a NUL character, which no id, code or text has",
                  errors={name: ["must not hold a NUL character"] for name in where})

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if private():
            response.headers["Cache-Control"] = NO_STORE
        return response


def nul_fields() -> list[str]:
    """The path parameters, query parameters and form fields holding a NUL character (which
    PostgreSQL refuses in text), by name."""
    given = [*(request.view_args or {}).items(),
             *((name, value) for source in (request.args, request.form)
               for name, values in source.lists() for value in values)]
    return sorted({name for name, value in given if "\x00" in f"{name}{value}"})


def _local_path(text: str) -> bool:
    """Whether `text` is an absolute path with no authority, backslash, space or control
    character, and no `.` or `..` segment."""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return False
    if any(character.isspace() or not character.isprintable() for character in text):
        return False
    segments = urlsplit(text).path.split("/")
    return not {".", ".."} & set(segments)
