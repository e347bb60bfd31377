"""Who is calling the credit-bank API: a learner, an institution or an operator, by bearer token;
and the JSON body of a credit-bank error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, request

from issuers.registry import TOKEN_PREFIX as INSTITUTION_TOKEN_PREFIX
from issuers.registry import issuer_of_token
from ledger.runtime import Runtime
from portal.bank.accounts import (
    LEARNER_TOKEN_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    learner_of_token,
    operator_of_token,
)
from portal.bank.errors import (
    BankError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from portal.errors import error_body

View = TypeVar("View", bound=Callable[..., Any])

LEARNER = "learner"
INSTITUTION = "institution"
OPERATOR = "operator"
BEARER = {"bearerAuth": []}
STATUS_OF: tuple[tuple[type[BankError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
)


@dataclass(frozen=True)
class Principal:
    """The caller: its role, its id (learner id, issuer id or operator name) and its record."""

    role: str
    id: str
    record: dict


def caller(*roles: str) -> Principal:
    """The authenticated caller, if its role is one of `roles`; else 401 or 403."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send a token as 'Authorization: Bearer <token>'")
    found = _principal(runtime(), token)
    if found is None:
        raise Unauthenticated("the token is not valid (or has expired)")
    if found.role not in roles:
        raise Forbidden(f"this is not for the {found.role} role; it is for: {', '.join(roles)}")
    return found


def requires(*roles: str) -> Callable[[View], View]:
    """Authenticate the caller before anything else and pass it to the view as `principal`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, principal=caller(*roles), **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def bank_error(error: BankError) -> Response:
    """A credit-bank error as the portal's JSON error body, with its field errors."""
    status = next((code for cls, code in STATUS_OF if isinstance(error, cls)), 400)
    response = error_body(status, error.message, error.errors or None)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="creditbank"'
    return response


def runtime() -> Runtime:
    """The runtime the portal runs on."""
    return current_app.extensions["creditbank"]


def _principal(opened: Runtime, token: str) -> Principal | None:
    engine = opened.engine
    if token.startswith(LEARNER_TOKEN_PREFIX):
        learner = learner_of_token(engine, token)
        return Principal(LEARNER, learner["id"], learner) if learner else None
    if token.startswith(OPERATOR_TOKEN_PREFIX):
        name = operator_of_token(engine, token)
        return Principal(OPERATOR, name, {}) if name else None
    if token.startswith(INSTITUTION_TOKEN_PREFIX):
        issuer = issuer_of_token(engine, token)
        return Principal(INSTITUTION, issuer["id"], issuer) if issuer else None
    return None
