"""eth_getLogs filters turned into queries on the node's SQL log index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOPIC_POSITIONS = 4


@dataclass(frozen=True)
class LogFilter:
    """A block range plus optional emitters and per-position topic alternatives.

    `topics[i]` is None (any topic) or a tuple of accepted 32-byte topics (OR); positions AND.
    """

    from_block: int
    to_block: int
    addresses: tuple[bytes, ...] = ()
    topics: tuple[tuple[bytes, ...] | None, ...] = ()

    def where(self) -> tuple[str, list[object]]:
        """The SQL WHERE clause and its arguments for the `logs` table."""
        clauses = ["block BETWEEN ? AND ?"]
        args: list[object] = [self.from_block, self.to_block]
        if self.addresses:
            clauses.append(_any_of("address", self.addresses))
            args.extend(self.addresses)
        for position, accepted in enumerate(self.topics[:TOPIC_POSITIONS]):
            if accepted:
                clauses.append(_any_of(f"topic{position}", accepted))
                args.extend(accepted)
        return " AND ".join(clauses), args


def _any_of(column: str, values: Sequence[bytes]) -> str:
    if len(values) == 1:
        return f"{column} = ?"
    return f"{column} IN ({', '.join('?' * len(values))})"
