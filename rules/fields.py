"""Reading published JSON documents field by field, collecting errors by field path."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from credentials.jsontypes import JsonObject

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Reader:
    """One JSON object under a field path; every bad field adds a message to `errors`."""

    def __init__(self, data: object, path: str, errors: dict[str, list[str]]) -> None:
        self.path = path
        self.errors = errors
        self.data: JsonObject = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.fail(None, "must be an object")

    def at(self, name: str | None) -> str:
        """The field path of a member (or of this object when name is None)."""
        if name is None:
            return self.path or "$"
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str | None, message: str) -> None:
        """Record an error against a member."""
        self.errors.setdefault(self.at(name), []).append(message)

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            self.fail(name, "is required")
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        """A non-empty string."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty string")
            return None
        return value

    def choice(self, name: str, options: Iterable[str], *, default: str | None = None) -> str:
        """One of a fixed set of strings."""
        options = tuple(options)
        value = self._get(name, default is None)
        if value is None:
            return default or options[0]
        if not isinstance(value, str) or value not in options:
            self.fail(name, f"must be one of {', '.join(options)}")
            return options[0]
        return value

    def integer(self, name: str, *, minimum: int | None = None,
                default: int | None = None) -> int:
        """An integer, at least `minimum`."""
        value = self._get(name, default is None)
        if value is None:
            return default or 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, "must be an integer")
            return 0
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}")
        return value

    def number(self, name: str, *, required: bool = True, maximum: Decimal | None = None,
               positive: bool = False) -> Decimal | None:
        """A non-negative number, read exactly as a Decimal."""
        value = self._get(name, required)
        if value is None:
            return None
        return self.as_number(value, name, maximum=maximum, positive=positive)

    def as_number(self, value: object, name: str, *, maximum: Decimal | None = None,
                  positive: bool = False) -> Decimal | None:
        """Validate one JSON number found under `name`."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, "must be a number")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(name, "must be a finite number")
            return None
        if not number.is_finite() or number < 0 or (positive and number == 0):
            self.fail(name, "must be a positive number" if positive else
                      "must be a non-negative number")
            return None
        if maximum is not None and number > maximum:
            self.fail(name, f"must be at most {maximum}")
            return None
        return number

    def boolean(self, name: str, *, default: bool) -> bool:
        """A JSON boolean."""
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return default
        return value

    def date(self, name: str, *, required: bool = True) -> date | None:
        """An ISO 8601 calendar date (YYYY-MM-DD)."""
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(name, "must be a date like 2025-03-01")
        return None

    def month_day(self, value: object, name: str) -> str:
        """A yearly date like 03-01 (29 February is not allowed)."""
        match = _MONTH_DAY.match(value) if isinstance(value, str) else None
        if match:
            month, day = int(match[1]), int(match[2])
            if 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]:
                return value  # type: ignore[return-value]
        self.fail(name, "must be a month and day like 03-01")
        return "01-01"

    def texts(self, name: str, *, required: bool = False, minimum: int = 0) -> tuple[str, ...]:
        """A list of non-empty strings, without repeats."""
        value = self._get(name, required)
        if value is None:
            if minimum and not required:
                self.fail(name, "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip()
                                                  for item in value):
            self.fail(name, "must be a list of non-empty strings")
            return ()
        if len(set(value)) != len(value):
            self.fail(name, "must not repeat an item")
        if len(value) < minimum:
            self.fail(name, f"must hold at least {minimum} items")
        return tuple(value)

    def child(self, name: str, *, required: bool = True) -> Reader | None:
        """A nested object."""
        value = self._get(name, required)
        if value is None:
            return None
        return Reader(value, self.at(name), self.errors)

    def children(self, name: str, *, required: bool = False, minimum: int = 0) -> list[Reader]:
        """A list of nested objects."""
        value = self._get(name, required)
        if value is None:
            if minimum and not required:
                self.fail(name, "is required")
            return []
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return []
        if len(value) < minimum:
            self.fail(name, f"must hold at least {minimum} items")
        return [Reader(item, f"{self.at(name)}[{index}]", self.errors)
                for index, item in enumerate(value)]

    def table(self, name: str, *, required: bool = True) -> dict[str, Decimal]:
        """An object mapping names to non-negative numbers."""
        value = self._get(name, required)
        if value is None:
            return {}
        if not isinstance(value, dict) or not value:
            self.fail(name, "must be a non-empty object of numbers")
            return {}
        table = {}
        for key, item in value.items():
            number = self.as_number(item, f"{name}.{key}")
            if number is not None:
                table[key] = number
        return table

    def done(self, *known: str) -> None:
        """Reject members this document type does not define."""
        for name in sorted(set(self.data) - set(known)):
            self.fail(name, "is not a known field")


def json_value(value: Any) -> Any:
    """Plain JSON for model values: dataclasses by field, Decimals as numbers, dates as ISO."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        result = {}
        for item in dataclasses.fields(value):
            member = getattr(value, item.name)
            if member is None or (isinstance(member, tuple | frozenset | dict) and not member):
                continue
            result[item.name] = json_value(member)
        return result
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(json_value(item) for item in value)
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value
