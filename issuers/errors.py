"""The issuer service's own errors; the refusals it shares with the bank are in infra.errors."""

from __future__ import annotations

from infra.errors import ServiceError


class IssuerError(ServiceError):
    """Root of the issuer service's own errors; `message` is safe to show a user."""


class AnchoringFailed(IssuerError):
    """The ledger refused to anchor a batch for a reason retrying will not fix."""

    status = 502
