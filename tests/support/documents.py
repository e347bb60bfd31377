"""A JSON (or TOML) document changed in one place, for tests that show each wrong member is
refused."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


def changed(document: Any, path: Sequence[str | int], value: object) -> Any:
    """A deep copy of `document` with the member at `path` set to `value`, or removed when
    `value` is `...` (None stays a value: JSON's null)."""
    result = copy.deepcopy(document)
    target = result
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result
