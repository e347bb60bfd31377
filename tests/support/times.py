"""The API's one time format, for tests that check a response's times."""

import re

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def is_iso_utc(value: object) -> bool:
    """Whether a value is a time as the API shows it, e.g. 2026-12-05T20:23:29Z."""
    return isinstance(value, str) and ISO_UTC.fullmatch(value) is not None
