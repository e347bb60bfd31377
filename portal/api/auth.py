"""Who is calling the API: a learner, an institution or an operator, by bearer token; one
decorator authenticates every role's endpoints (the issuer API's too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import request
from sqlalchemy import Engine

from bank.accounts import (
    LEARNER_TOKEN_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    learner_of_token,
    operator_of_token,
)
from infra.errors import Forbidden, Unauthenticated
from issuers.registry import TOKEN_PREFIX as INSTITUTION_TOKEN_PREFIX
from issuers.registry import issuer_of_token
from portal.runtime import runtime

View = TypeVar("View", bound=Callable[..., Any])

LEARNER = "learner"
INSTITUTION = "institution"
OPERATOR = "operator"
BEARER: dict[str, list[str]] = {"bearerAuth": []}


@dataclass(frozen=True)
class Principal:
    """The caller: its role, its id (learner id, issuer id or operator name) and its record."""

    role: str
    id: str
    record: dict


def bearer_token() -> str:
    """The bearer token of this request; `Unauthenticated` without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send a token as 'Authorization: Bearer <token>'")
    return token


def caller(*roles: str, closing: bool = False) -> Principal:
    """The authenticated caller, if its role is one of `roles`; else 401 or 403. A learner whose
    account is closing gets 403 unless `closing` (only the closure itself answers them)."""
    found = _principal(runtime().engine, bearer_token())
    if found is None:
        raise Unauthenticated("the token is not valid (or has expired)")
    if found.role not in roles:
        raise Forbidden(f"this is not for the {found.role} role; it is for: {', '.join(roles)}")
    if found.role == LEARNER and found.record.get("closing_at") is not None and not closing:
        raise Forbidden("this account is closing: keep it first (DELETE "
                        "/api/v1/learners/me/closure)", {"account": ["is closing"]})
    return found


def requires(*roles: str, closing: bool = False) -> Callable[[View], View]:
    """Authenticate the caller before anything else and pass it to the view as `principal`
    (`closing`: a learner whose account is closing may call it too)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, principal=caller(*roles, closing=closing), **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _principal(engine: Engine, token: str) -> Principal | None:
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
