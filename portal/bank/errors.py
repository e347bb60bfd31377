"""Credit-bank errors: one root with a user-facing message and, where useful, field errors."""

from __future__ import annotations

FieldErrors = dict[str, object]


class BankError(Exception):
    """Root of every credit-bank error; `message` is safe to show a user."""

    def __init__(self, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(BankError, ValueError):
    """A request is malformed or breaks a rule; `errors` name each field."""


class NotFound(BankError, LookupError):
    """No such learner, deposit, application or transcript (or it is not the caller's)."""


class Unauthenticated(BankError, PermissionError):
    """The bearer token or the password is missing, wrong or expired."""


class Forbidden(BankError, PermissionError):
    """The caller's role may not do this."""


class Conflict(BankError):
    """The request clashes with the record's state (already reviewed, past the deadline…)."""
