"""Verify errors: a coded error makes a check INVALID, a failed precondition makes it SKIPPED."""

from __future__ import annotations

from typing import Any

from verify.codes import Code


class VerifyError(Exception):
    """Root of every verify error; `message` is safe to show a user."""

    status: int = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(VerifyError, ValueError):
    """The credential fails a check for the reason `code`; `details` name the fields involved."""

    def __init__(self, code: Code, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class PreconditionFailed(VerifyError):
    """A check cannot run because another check, named `check`, did not pass."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
