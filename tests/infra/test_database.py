"""The PostgreSQL pool: a connection in steady use is not pinged (a ping is a round trip on each
of a request's reads), and one that sat idle is pinged at checkout and replaced when the server
dropped it, so no request sees the dead socket."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from infra import database
from infra.database import open_engine
from tests.support.databases import PostgresServer


def backend_of(engine: Any) -> int:
    """The server process id of the connection a checkout gets."""
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_pings_only_after_idle_and_a_dropped_connection_is_replaced(
        postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[int] = []
    ping = database._ping
    monkeypatch.setattr(database, "_ping", lambda connection: (pings.append(1), ping(connection)))
    engine = open_engine(postgres.new_database(), pool_size=1, max_overflow=0)
    try:
        first = backend_of(engine)
        steady = [backend_of(engine) for _ in range(5)]
        assert (steady, pings) == ([first] * 5, [])

        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)
        assert backend_of(engine) == first and pings == [1]
        with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        replaced = backend_of(engine)
        assert replaced != first and len(pings) == 2
        assert backend_of(engine) == replaced
    finally:
        engine.dispose()
