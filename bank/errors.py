"""The credit bank's own errors; the refusals it shares with issuers are in infra.errors."""

from __future__ import annotations

from infra.errors import ServiceError


class BankError(ServiceError):
    """Root of the credit bank's own errors; `message` is safe to show a user."""


class InvalidShare(BankError, ValueError):
    """A share link cannot be created as asked."""

    status = 422
