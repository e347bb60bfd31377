"""Signing in, the same way on every path (the learner's form, the learner API's token, the
staff form): each attempt goes through the bank's back-off (`bank.attempts`), and a browser that
signs in is remembered in a signed device cookie, so that its later attempts on that account are
counted apart: whoever keeps an account (or an address) waiting does not keep out its owner's
usual browser.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Response, after_this_request, current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from bank.attempts import Attempt, Attempts
from portal.ratelimit import client_of
from portal.runtime import runtime
from portal.security import set_cookie

T = TypeVar("T")

DEVICE_COOKIE = "cb_device"
DEVICE_SALT = "creditbank sign-in device"
DEVICE_SECONDS = 365 * 86400
MAX_DEVICES = 5


def attempt(account: str) -> Attempt:
    """This request's attempt to sign in to `account`: its client address, and the device id
    this browser holds for the account if it signed in to it before."""
    return Attempt(account, client_of(request.remote_addr), _devices().get(_tag(account)))


def guarded(account: str, check: Callable[[], T]) -> T:
    """`check()` (raising `Unauthenticated` for a wrong password) under the account's and the
    address's back-off (`TooManyAttempts` while they wait); a success remembers the browser."""
    made = attempt(account)
    result = Attempts(runtime().engine).guarded(made, check)
    _remember(account, made.device)
    return result


def _remember(account: str, device: str | None) -> None:
    """Keep (or give) this browser a device id for the account, in the cookie of this answer."""
    devices = _devices()
    tag = _tag(account)
    devices.pop(tag, None)
    devices[tag] = device or secrets.token_urlsafe(16)
    value = _serializer().dumps(dict(list(devices.items())[-MAX_DEVICES:]))

    @after_this_request
    def set_device(response: Response) -> Response:
        set_cookie(response, DEVICE_COOKIE, value, max_age=DEVICE_SECONDS)
        return response


def _devices() -> dict[str, str]:
    """The device ids this browser holds, by account tag (none if the cookie is not ours)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(value, dict):
        return {}
    return {tag: device for tag, device in value.items()
            if isinstance(tag, str) and isinstance(device, str)}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=DEVICE_SALT)


def _tag(account: str) -> str:
    """A short name of an account in the cookie (which never names the account itself)."""
    return hashlib.sha256(account.encode("utf-8")).hexdigest()[:16]


def wait_message(seconds: int) -> str:
    """How long to wait before signing in again, in the page's language."""
    if seconds < 60:
        return _("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=seconds)
    return _("Too many failed sign-ins. Try again in %(minutes)d minutes.",
             minutes=math.ceil(seconds / 60))
