"""National ids of people born on a chosen day (with a valid check digit), for the minors' tests:
a child under 14, a learner who turns 14 today or tomorrow, an adult guardian."""

from __future__ import annotations

from datetime import date, timedelta

from bank.minors import birthday, today

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def national_id(born: date, serial: int = 1, *, region: str = "110101") -> str:
    """An 18-character mainland national id of someone born on `born` (ISO 7064 check digit)."""
    body = f"{region}{born:%Y%m%d}{serial:03d}"
    return body + CHECK[sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS,
                                                                           strict=True)) % 11]


def born_ago(years: int, days: int = 0) -> date:
    """The day someone was born who turns `years` old `days` days from today (negative: ago)."""
    return birthday(today(), -years) + timedelta(days=days)
