"""The issuers' side of the maintained aggregates (`infra.aggregates`): credentials issued and
batches anchored, counted in the transaction that stores them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, select

from infra.aggregates import ANCHORED, COUNT, CREDENTIALS, add, month_of
from issuers.tables import units


def count_credentials(connection: Connection, issuer_id: str,
                      issued: Counter[tuple[str, int]], issued_at: float) -> None:
    """Count credentials an issuer stored at `issued_at`, given as (unit code, version) counts:
    one lookup of the units' kinds and one upsert per request, whatever the number of rows."""
    kinds = {(code, version): kind for code, version, kind in connection.execute(
        select(units.c.code, units.c.version, units.c.kind).where(
            units.c.issuer_id == issuer_id, units.c.code.in_({code for code, _ in issued})))}
    deltas: Counter[tuple[str, str, str, str]] = Counter()
    month = month_of(issued_at)
    for unit, count in issued.items():
        deltas[(CREDENTIALS, kinds.get(unit, ""), month, issuer_id)] += count
    add(connection, deltas)


def count_anchored(connection: Connection, issuer_id: str, anchored_at: float) -> None:
    """Count a batch anchored at `anchored_at`."""
    add(connection, {(ANCHORED, COUNT, month_of(anchored_at), issuer_id): 1})
