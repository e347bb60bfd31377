"""Server-side sign-in sessions of the portal's people (learners, institution staff, operators).

The browser holds only a random session token inside Flask's signed cookie; the row in
`web_sessions` (keyed by the token's SHA-256) says who is signed in, as what, and until when, so
signing out or expiry ends the session on the server. Signing in clears the cookie session, which
also rotates the CSRF token of `portal.csrf`. Failed sign-ins are counted by the bank, the same
for every way of signing in (`portal.sign_in`).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    g,
    redirect,
    request,
    session,
    url_for,
)
from sqlalchemy import Engine, delete, insert, select, update
from werkzeug.wrappers import Response as BaseResponse

from portal.runtime import runtime
from portal.tables import ROLES, web_sessions

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
TOUCH_SECONDS = 60
COOKIE_KEY = "web_session"


@dataclass(frozen=True)
class WebSession:
    """Who is signed in: the role, the subject (learner id, issuer id or operator name), a label."""

    role: str
    subject: str
    label: str
    username: str
    expires_at: float
    created_at: float = 0.0


def sign_in(engine: Engine, *, role: str, subject: str, label: str, username: str) -> WebSession:
    """Start a session for someone whose credentials were checked; rotates the cookie session."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    token = secrets.token_urlsafe(32)
    now = time.time()
    row = {"token_sha256": _sha256(token), "role": role, "subject": subject, "label": label,
           "username": username, "created_at": now, "last_seen": now,
           "expires_at": now + ABSOLUTE_SECONDS}
    with engine.begin() as connection:
        connection.execute(insert(web_sessions).values(**row))
    session.clear()
    session[COOKIE_KEY] = token
    g.web_session = _of(row)
    return g.web_session


def sign_out(engine: Engine) -> None:
    """End the current session on the server and clear the cookie."""
    token = session.get(COOKIE_KEY)
    if token:
        with engine.begin() as connection:
            connection.execute(delete(web_sessions).where(
                web_sessions.c.token_sha256 == _sha256(token)))
    session.clear()
    g.web_session = None


def current(engine: Engine) -> WebSession | None:
    """The signed-in person of this request, or None (expired or idle sessions end here)."""
    if "web_session" in g:
        return g.web_session
    g.web_session = None
    token = session.get(COOKIE_KEY)
    if not token:
        return None
    now = time.time()
    key = _sha256(token)
    with engine.connect() as connection:
        row = connection.execute(select(web_sessions).where(
            web_sessions.c.token_sha256 == key)).mappings().first()
    if row is None or row["expires_at"] <= now or row["last_seen"] + IDLE_SECONDS <= now:
        sign_out(engine)
        return None
    if row["last_seen"] + TOUCH_SECONDS <= now:
        with engine.begin() as connection:
            connection.execute(update(web_sessions).where(web_sessions.c.token_sha256 == key)
                               .values(last_seen=now))
    g.web_session = _of(row)
    return g.web_session


def refusal(role: str, *, sign_in_endpoint: str) -> BaseResponse | None:
    """None if a `role` is signed in; else a redirect to sign in (anonymous) or a 403."""
    signed_in = current(runtime().engine)
    if signed_in is None:
        return redirect(url_for(sign_in_endpoint, next=request.full_path.rstrip("?")))
    if signed_in.role != role:
        abort(403)
    return None


def require(role: str, *, sign_in_endpoint: str) -> Callable:
    """Decorate a view with `refusal`: anonymous visitors go to sign in, other roles get 403."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return refusal(role, sign_in_endpoint=sign_in_endpoint) or view(*args, **kwargs)

        return guarded

    return decorate


def guard_blueprint(blueprint: Blueprint, role: str, *, sign_in_endpoint: str) -> None:
    """Apply `refusal` to every view of a blueprint."""
    blueprint.before_request(lambda: refusal(role, sign_in_endpoint=sign_in_endpoint))


def end_sessions_of(engine: Engine, role: str, username: str) -> None:
    """End every web session of someone (their password was withdrawn)."""
    with engine.begin() as connection:
        connection.execute(delete(web_sessions).where(
            web_sessions.c.role == role, web_sessions.c.username == username))


def init_app(app: Flask) -> None:
    """`signed_in()` for templates (`portal.security` sets the cookie's flags)."""
    app.jinja_env.globals["signed_in"] = lambda: current(runtime().engine)


def _of(row: Any) -> WebSession:
    return WebSession(role=row["role"], subject=row["subject"], label=row["label"],
                      username=row["username"], expires_at=row["expires_at"],
                      created_at=row["created_at"])


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
