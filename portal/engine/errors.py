"""Errors raised by the engine; every one carries a user-facing message."""


class EngineError(Exception):
    """Root of engine errors; `message` is safe to show to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidOutcome(EngineError, ValueError):
    """An outcome (or the credential it is read from) lacks a field the engine needs."""


class InvalidAudit(EngineError, ValueError):
    """The audit was asked with inconsistent input (several learners, repeated outcome ids)."""


class RuleSetNotInForce(EngineError, ValueError):
    """The rule set does not apply on the audit date."""
