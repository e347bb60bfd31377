"""The one time format of the API: ISO 8601 in UTC, to the second, with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.times import iso_utc, parse_iso
from tests.support.times import is_iso_utc

MOMENT = datetime(2026, 12, 5, 20, 23, 29, tzinfo=UTC)


def test_unix_seconds_are_shown_in_utc_to_the_second_with_z() -> None:
    assert iso_utc(MOMENT.timestamp() + 0.75) == "2026-12-05T20:23:29Z"
    assert (iso_utc(0.0), is_iso_utc(iso_utc(MOMENT.timestamp()))) == ("1970-01-01T00:00:00Z", True)
    assert iso_utc(None) is None


def test_times_with_z_or_an_offset_are_read_back_in_utc() -> None:
    assert parse_iso("2026-12-05T20:23:29Z") == MOMENT
    assert parse_iso("2026-12-06T04:23:29+08:00") == MOMENT
    assert parse_iso(iso_utc(MOMENT.timestamp())).tzinfo == UTC
