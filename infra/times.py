"""The one format of a moment in the API and its documents: ISO 8601 in UTC, to the second, with
`Z`, e.g. 2026-12-05T20:23:29Z (the database keeps unix seconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


@overload
def iso_utc(seconds: float) -> str: ...


@overload
def iso_utc(seconds: None) -> None: ...


@overload
def iso_utc(seconds: float | None) -> str | None: ...


def iso_utc(seconds: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC to the second with `Z` (None stays None)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime(ISO_UTC)


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time with `Z` or an offset as an aware datetime in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)
