"""The outcome of each check (a fragment), the overall verdict and the report."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from verify.codes import Code


class Status(enum.StrEnum):
    """How one check, or the whole credential, came out."""

    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Fragment:
    """The result of one check: its status, reason code (None when VALID), message and details."""

    name: str
    status: Status
    code: Code | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """This fragment as a JSON object."""
        return {
            "name": self.name,
            "status": str(self.status),
            "code": None if self.code is None else str(self.code),
            "message": self.message,
            "details": self.details,
        }


def verdict(fragments: Iterable[Fragment]) -> Status:
    """INVALID if any check is; else INDETERMINATE if any check is; else VALID."""
    statuses = {fragment.status for fragment in fragments}
    if Status.INVALID in statuses:
        return Status.INVALID
    if Status.INDETERMINATE in statuses:
        return Status.INDETERMINATE
    return Status.VALID


@dataclass(frozen=True)
class Report:
    """Every check of one credential, in order, its verdict and a safe summary of the credential."""

    fragments: tuple[Fragment, ...]
    verdict: Status
    credential: dict[str, Any] = field(default_factory=dict)

    def fragment(self, name: str) -> Fragment:
        """The fragment of the check called `name`."""
        return next(fragment for fragment in self.fragments if fragment.name == name)

    def to_json(self) -> dict[str, Any]:
        """This report as a JSON object: verdict, checks and credential summary."""
        return {
            "verdict": str(self.verdict),
            "checks": [fragment.to_json() for fragment in self.fragments],
            "credential": self.credential,
        }
