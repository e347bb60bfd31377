"""Server-side sign-in sessions of the portal's people (learners, institution staff, operators).

The browser holds only a random session token inside Flask's signed cookie; the row in
`web_sessions` (keyed by the token's SHA-256) says who is signed in, as what, and until when, so
signing out or expiry ends the session on the server. Signing in clears the cookie session, which
also rotates the CSRF token of `portal.csrf`. Failed sign-ins are counted per role and user name:
after `MAX_FAILURES` in a row the name is locked for `LOCK_SECONDS`.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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

from infra.settings import Settings
from portal.runtime import runtime
from portal.tables import ROLES, sign_in_failures, web_sessions

IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 3600
TOUCH_SECONDS = 60
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
COOKIE_KEY = "web_session"


@dataclass(frozen=True)
class WebSession:
    """Who is signed in: the role, the subject (learner id, issuer id or operator name), a label."""

    role: str
    subject: str
    label: str
    username: str
    expires_at: float


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


def lock_seconds_left(engine: Engine, role: str, username: str) -> float:
    """How long sign-in stays locked for this role and user name (0 when it is not)."""
    with engine.connect() as connection:
        locked_until = connection.execute(select(sign_in_failures.c.locked_until).where(
            sign_in_failures.c.key_sha256 == _failure_key(role, username))).scalar_one_or_none()
    return max(0.0, (locked_until or 0.0) - time.time())


def record_failure(engine: Engine, role: str, username: str) -> None:
    """Count a failed sign-in; the name locks after MAX_FAILURES in a row."""
    key = _failure_key(role, username)
    now = time.time()
    with engine.begin() as connection:
        failures = connection.execute(select(sign_in_failures.c.failures).where(
            sign_in_failures.c.key_sha256 == key)).scalar_one_or_none()
        if failures is None:
            connection.execute(insert(sign_in_failures).values(
                key_sha256=key, failures=1, locked_until=0.0, last_failure=now))
            return
        failures += 1
        locked_until = now + LOCK_SECONDS if failures >= MAX_FAILURES else 0.0
        connection.execute(update(sign_in_failures).where(sign_in_failures.c.key_sha256 == key)
                           .values(failures=0 if locked_until else failures,
                                   locked_until=locked_until, last_failure=now))


def clear_failures(engine: Engine, role: str, username: str) -> None:
    """Forget the failed sign-ins of a name after a successful one."""
    with engine.begin() as connection:
        connection.execute(delete(sign_in_failures).where(
            sign_in_failures.c.key_sha256 == _failure_key(role, username)))


def init_app(app: Flask, settings: Settings) -> None:
    """Cookie flags for sessions and `signed_in()` for templates."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    https = urlsplit(settings.public_url).scheme == "https"
    app.config.setdefault("SESSION_COOKIE_SECURE", https)
    app.jinja_env.globals["signed_in"] = lambda: current(runtime().engine)


def _of(row: Any) -> WebSession:
    return WebSession(role=row["role"], subject=row["subject"], label=row["label"],
                      username=row["username"], expires_at=row["expires_at"])


def _failure_key(role: str, username: str) -> str:
    return _sha256(f"{role}\n{username.strip().lower()}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
