"""CSRF protection of the portal's forms: a per-session token every unsafe request must echo.

The API under /api/ and the wallet endpoints under /oid4vci/ and /oid4vp/ are exempt: they
authenticate with bearer tokens, codes or a state, never with cookies.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from flask_babel import lazy_gettext as _l

FIELD = "csrf_token"
EXEMPT = ("/api/", "/oid4vci/", "/oid4vp/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXPIRED = _l("This form has expired or was sent from another site. Reload the page and try again.")


def csrf_token() -> str:
    """The session's CSRF token, created on first use (put it in every form as `csrf_token`)."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def check_csrf() -> None:
    """Refuse an unsafe request outside the exempt paths whose form lacks the session's token."""
    if request.method in SAFE_METHODS or request.path.startswith(EXEMPT):
        return
    expected = session.get(FIELD)
    sent = request.form.get(FIELD, "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, description=str(EXPIRED))


def init_app(app: Flask) -> None:
    """Check every form submission and offer `csrf_token()` to templates."""
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
