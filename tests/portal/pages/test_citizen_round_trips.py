"""The learner's record reads on one connection a request: the first page of `/me` and
`GET /api/v1/learners/me` run a bounded number of statements and pool checkouts, counted with
SQLAlchemy's events on SQLite and PostgreSQL (each checkout on PostgreSQL costs a BEGIN and a
ROLLBACK round trip besides its statements)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, event

from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, city_bank
from tests.support.citizen import issue_record, sign_up

PAGE_STATEMENTS = 12
PAGE_CHECKOUTS = 4
API_STATEMENTS = 7
API_CHECKOUTS = 2


@dataclass
class Trips:
    """The statements and pool checkouts seen on an engine."""

    statements: list[str] = field(default_factory=list)
    checkouts: int = 0


def counted(engine: Engine, request: Callable[[], int]) -> Trips:
    """The statements and checkouts one request (answering 200) makes on the engine."""
    trips = Trips()

    def statement(connection, cursor, text, *rest) -> None:
        trips.statements.append(text.split("\n")[0])

    def checkout(*rest) -> None:
        trips.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        assert request() == 200
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)
    return trips


def test_the_record_is_read_on_one_connection_a_request(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    sign_up(bank.client)
    issue_record(bank)
    headers = bank.log_in(LEARNER_ID)
    first = counted(runtime.engine, lambda: bank.client.get("/me").status_code)
    page = counted(runtime.engine, lambda: bank.client.get("/me").status_code)
    api = counted(runtime.engine, lambda: bank.client.get(
        "/api/v1/learners/me", headers=headers).status_code)
    listed = bank.client.get("/api/v1/learners/me", headers=headers).json["credentials"]
    assert any(text.startswith("INSERT INTO bank_verdicts") for text in first.statements)
    assert not any(text.startswith(("INSERT", "UPDATE")) for text in page.statements)
    assert len(page.statements) <= PAGE_STATEMENTS and page.checkouts <= PAGE_CHECKOUTS, (
        page.checkouts, page.statements)
    assert len(api.statements) <= API_STATEMENTS and api.checkouts <= API_CHECKOUTS, (
        api.checkouts, api.statements)
    assert sum(text.startswith("SELECT bank_learners.") for text in page.statements) == 1
    assert len(listed) == 5
