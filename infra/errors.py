"""Infrastructure errors, and the request refusals every service shares: each error carries a
user-facing `message`, its HTTP `status` and, where useful, field-level `errors`."""

from __future__ import annotations

FieldErrors = dict[str, object]


class InfraError(Exception):
    """Root of every infrastructure error; `message` is safe to show a user."""

    status: int = 500

    def __init__(self, message: str, errors: FieldErrors | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class SettingsError(InfraError, ValueError):
    """A setting in the environment has a value that cannot be used (the message names it)."""


class MasterKeyError(InfraError, ValueError):
    """The master key is missing or malformed."""


class SealingFailed(InfraError, ValueError):
    """A sealed column's value does not open: another master key, or it was tampered with."""


class BackupFailed(InfraError, ValueError):
    """A backup cannot be made or restored: a damaged file, another master key, another schema
    revision, a database that is not empty (the message names which)."""


class SchemaUnknown(InfraError, RuntimeError):
    """The database is at a schema revision this code does not know (a newer release wrote it)."""

    def __init__(self, found: str, wanted: str) -> None:
        super().__init__(
            f"the database schema is at revision {found}, which this release does not know "
            f"(its newest is {wanted}); run the release that wrote it"
        )
        self.found = found
        self.wanted = wanted


class SchemaUntracked(InfraError, RuntimeError):
    """The database holds tables but no migration revision (made before migrations, or not ours)."""

    def __init__(self) -> None:
        super().__init__(
            "the database holds tables but no schema revision: it was made before schema "
            "migrations or by another program; point CREDITBANK_DATABASE_URL at an empty database"
        )


class ServiceError(InfraError):
    """Root of the errors a service (issuers, bank) refuses a request with."""

    status = 400


class InvalidInput(ServiceError, ValueError):
    """A request or file is malformed or breaks a rule; `errors` name each field (or line)."""

    status = 422


class NotFound(ServiceError, LookupError):
    """No such record (or it is not the caller's)."""

    status = 404


class Unauthenticated(ServiceError, PermissionError):
    """The bearer token or the password is missing, wrong or expired."""

    status = 401


class Forbidden(ServiceError, PermissionError):
    """The caller may not do this (its role, or its standing now)."""

    status = 403


class Conflict(ServiceError):
    """The request clashes with the record's state (a duplicate, already reviewed…)."""

    status = 409


class TooLarge(ServiceError, ValueError):
    """The request carries more items or bytes than one request may."""

    status = 413


class MailFailed(InfraError, RuntimeError):
    """An e-mail could not be handed to the SMTP server; `permanent` when trying again is futile
    (the server refused the message or its recipient for good)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
