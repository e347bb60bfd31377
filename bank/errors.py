"""The credit bank's own errors; the refusals it shares with issuers are in infra.errors."""

from __future__ import annotations

from infra.errors import ServiceError


class BankError(ServiceError):
    """Root of the credit bank's own errors; `message` is safe to show a user."""


class InvalidShare(BankError, ValueError):
    """A share link cannot be created as asked."""

    status = 422


class TooManyAttempts(BankError):
    """Too many failed sign-ins: the account or the client address waits `retry_after` seconds."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after} s")
        self.retry_after = retry_after


class GuardianNeeded(BankError, PermissionError):
    """A learner under 14 tried to open or activate an account alone: a guardian must consent."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "a learner under 14 cannot open an account alone: a guardian opens it for them, "
            "signed in through the city's sign-on",
            {"national_id": ["is of a learner under 14: a guardian must open the account"]})
