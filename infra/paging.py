"""Keyset paging for every list the API and the consoles show: a page is the rows after the
last one shown, in an order an index serves, so its cost does not grow with the rows before it
(never OFFSET). Cursors are opaque to clients (URL-safe base64 of the last row's sort keys) and
checked on the way back in: anything else is `InvalidInput` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Connection, RowMapping, Select, and_, or_
from sqlalchemy.sql.elements import ColumnElement

from infra.errors import InvalidInput

MAX_CURSOR = 1_000


@dataclass(frozen=True)
class Page:
    """One page of rows, the cursor of the next page (None on the last) and of the previous
    page (pass it as `before`; None on the first, as far as the page knows)."""

    rows: list[RowMapping]
    after: str | None
    before: str | None = None


def write_cursor(values: Sequence[object]) -> str:
    """An opaque cursor of a row's sort keys."""
    text = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def read_cursor(cursor: str, keys: Sequence[Column], field: str) -> tuple:
    """The sort keys a cursor holds, each of its key's type; `InvalidInput` naming `field` for
    anything this list did not give out."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if (isinstance(values, list) and len(values) == len(keys)
            and all(_fits(value, key) for value, key in zip(values, keys, strict=True))):
        return tuple(float(value) if key.type.python_type is float else value
                     for value, key in zip(values, keys, strict=True))
    raise InvalidInput(f"{field} is not a cursor this list gave out",
                       {field: ["not a cursor of this list"]})


def keyset_page(connection: Connection, query: Select, keys: Sequence[Column], *,
                after: str | None, limit: int, descending: bool = False,
                field: str = "after", before: str | None = None) -> Page:
    """The `limit` rows of `query` after the cursor `after` (or the `limit` rows before the
    cursor `before`), ordered by `keys` (all ascending or all descending; the last key unique),
    and the cursors of the next and previous pages. Serve it with an index on the query's
    equality filters followed by `keys`."""
    if before is not None:
        if after is not None:
            raise InvalidInput("give after or before, not both",
                               {"before": ["not with after"]})
        return _page_before(connection, query, keys, before, limit, descending)
    order = [key.desc() if descending else key.asc() for key in keys]
    if after is not None:
        query = query.where(_beyond(keys, read_cursor(after, keys, field), descending))
    rows = connection.execute(query.order_by(*order).limit(limit + 1)).mappings().all()
    shown = list(rows[:limit])
    more = len(rows) > limit and bool(shown)
    return Page(shown, _cursor_of(shown[-1], keys) if more else None,
                _cursor_of(shown[0], keys) if after is not None and shown else None)


def _page_before(connection: Connection, query: Select, keys: Sequence[Column], before: str,
                 limit: int, descending: bool) -> Page:
    """The `limit` rows just before the cursor `before`, read backwards on the same index."""
    order = [key.asc() if descending else key.desc() for key in keys]
    query = query.where(_beyond(keys, read_cursor(before, keys, "before"), not descending))
    rows = connection.execute(query.order_by(*order).limit(limit + 1)).mappings().all()
    shown = list(rows[:limit])[::-1]
    return Page(shown, _cursor_of(shown[-1], keys) if shown else None,
                _cursor_of(shown[0], keys) if len(rows) > limit else None)


def _cursor_of(row: RowMapping, keys: Sequence[Column]) -> str:
    return write_cursor([row[key.name] for key in keys])


def _beyond(keys: Sequence[Column], values: tuple, descending: bool) -> ColumnElement[bool]:
    """Rows strictly past `values` in the order of `keys`: a plain range on the first key (what
    an index seeks to, on every database) and the tie-break on the rest."""
    key, value = keys[0], values[0]
    if len(keys) == 1:
        return key < value if descending else key > value
    reach = key <= value if descending else key >= value
    past = key < value if descending else key > value
    return and_(reach, or_(past, and_(key == value, _beyond(keys[1:], values[1:], descending))))


def _fits(value: object, key: Column) -> bool:
    kind = key.type.python_type
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    if kind is int:
        return isinstance(value, int) and abs(value) < 2**63
    return isinstance(value, str) and len(value) <= 400
