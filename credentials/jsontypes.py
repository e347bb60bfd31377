"""Type names for the JSON values the credentials package reads and writes."""

from collections.abc import Callable
from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]
Loader: TypeAlias = Callable[[str], JsonObject]
