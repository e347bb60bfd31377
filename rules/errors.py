"""Errors raised by the engine; every one carries a user-facing message and its HTTP status."""

from __future__ import annotations

FieldErrors = dict[str, object]


class EngineError(Exception):
    """Root of engine errors; `message` is safe to show to a user, `errors` name each field."""

    status: int = 422

    def __init__(self, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidOutcome(EngineError, ValueError):
    """An outcome (or the credential it is read from) lacks a field the engine needs."""


class InvalidAudit(EngineError, ValueError):
    """The audit was asked with inconsistent input (several learners, repeated outcome ids)."""


class RuleSetNotInForce(EngineError, ValueError):
    """The rule set does not apply on the audit date."""
