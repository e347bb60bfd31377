"""Issuer service errors: one root with a user-facing message; some carry field-level errors."""

from __future__ import annotations

FieldErrors = dict[str, object]


class IssuerError(Exception):
    """Root of every issuer-service error; `message` is safe to show a user."""

    def __init__(self, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(IssuerError, ValueError):
    """A request or file is malformed or breaks a rule; `errors` name each field (or line)."""


class NotFound(IssuerError, LookupError):
    """No such issuer, unit, credential or batch (or it belongs to another issuer)."""


class Unauthenticated(IssuerError, PermissionError):
    """The bearer token is missing, malformed or unknown."""


class Forbidden(IssuerError, PermissionError):
    """The issuer may not do this now (e.g. it is suspended)."""


class Conflict(IssuerError):
    """The request clashes with what already exists (a duplicate, a reused idempotency key)."""


class TooLarge(IssuerError, ValueError):
    """The upload has more outcomes or bytes than one request may carry."""


class AnchoringFailed(IssuerError):
    """The ledger refused to anchor a batch for a reason retrying will not fix."""
