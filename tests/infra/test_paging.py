"""Keyset paging on both databases: every row once, in order, ties on the first key broken by
the second; a cursor from anywhere else is refused naming the field; and the institution's batch
list pages the same way through its console."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from bank.notices import inbox_page
from bank.tables import notices
from infra.audit import audit_log, entries, entry_page
from infra.database import open_engine
from infra.errors import InvalidInput
from infra.paging import keyset_page, write_cursor
from infra.schema import upgrade
from issuers.records import batch_credentials, batch_page
from issuers.tables import batches, credentials, issuer_keys, issuers, revocations
from ledger.deployment import Deployment

STATUSES = ("open", "closed", "anchored")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An empty database at the newest schema, with one issuer and 57 batches, some opened at
    the same moment."""
    opened = open_engine(database_url)
    upgrade(opened)
    with opened.begin() as connection:
        connection.execute(insert(issuers).values(
            id="bjou", did="did:web:bjou.example", chain_id=b"\x01" * 32, name="BJOU",
            kinds="course", levels="[]", valid_from=0, valid_until=2**40, suspended=False,
            created_at=0.0))
        connection.execute(insert(batches), [
            {"id": f"batch-{index:03d}", "issuer_id": "bjou", "status": STATUSES[index % 3],
             "size": index, "opened_at": 1_700_000_000.5 + index // 4}
            for index in range(57)])
    yield opened
    opened.dispose()


def every_page(engine: Engine, *, limit: int, descending: bool,
               status: str | None = None) -> list[list[str]]:
    """The batch ids of every page, following the cursors from the first page to the last."""
    pages: list[list[str]] = []
    after = None
    query = select(batches).where(batches.c.issuer_id == "bjou")
    if status is not None:
        query = query.where(batches.c.status == status)
    with engine.connect() as connection:
        while True:
            page = keyset_page(connection, query, (batches.c.opened_at, batches.c.id),
                               after=after, limit=limit, descending=descending)
            pages.append([row["id"] for row in page.rows])
            if page.after is None:
                return pages
            after = page.after


def test_pages_hold_every_row_once_in_order_on_both_databases(engine: Engine) -> None:
    ids = [f"batch-{index:03d}" for index in range(57)]
    ascending = every_page(engine, limit=5, descending=False)
    descending = every_page(engine, limit=5, descending=True)
    anchored = every_page(engine, limit=4, descending=True, status="anchored")
    assert [len(page) for page in ascending] == [5] * 11 + [2]
    assert [batch for page in ascending for batch in page] == ids
    assert [batch for page in descending for batch in page] == ids[::-1]
    assert [batch for page in anchored for batch in page] == [
        batch for index, batch in enumerate(ids) if index % 3 == 2][::-1]
    assert every_page(engine, limit=57, descending=False) == [ids]


def test_previous_pages_walk_back_the_same_pages_to_the_first(engine: Engine) -> None:
    keys = (batches.c.opened_at, batches.c.id)
    query = select(batches).where(batches.c.issuer_id == "bjou")
    forward = every_page(engine, limit=5, descending=True)
    backward: list[list[str]] = []
    with engine.connect() as connection:
        first = keyset_page(connection, query, keys, after=None, limit=5, descending=True)
        last = first
        while last.after is not None:
            last = keyset_page(connection, query, keys, after=last.after, limit=5,
                               descending=True)
        backward.append([row["id"] for row in last.rows])
        before = last.before
        while before is not None:
            page = keyset_page(connection, query, keys, after=None, before=before, limit=5,
                               descending=True)
            backward.append([row["id"] for row in page.rows])
            assert page.after is not None
            before = page.before
        with pytest.raises(InvalidInput) as both:
            keyset_page(connection, query, keys, after=first.after, before=first.after,
                        limit=5, descending=True)
        with pytest.raises(InvalidInput) as bad:
            keyset_page(connection, query, keys, after=None, before="nonsense", limit=5)
    assert first.before is None
    assert backward[::-1] == forward
    assert both.value.errors == {"before": ["not with after"]}
    assert bad.value.errors == {"before": ["not a cursor of this list"]}


def test_a_cursor_this_list_did_not_give_out_is_refused_naming_the_field(
        engine: Engine) -> None:
    def raw(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    bad = ("", "not a cursor", raw([1.5]), raw(["x", "batch-001"]), raw([True, "batch-001"]),
           raw({"at": 1}), raw([1.5, 7]), raw([1.5, "x" * 500]), "A" * 1001, "%%%")
    refused = {}
    with engine.connect() as connection:
        for cursor in bad:
            with pytest.raises(InvalidInput) as error:
                keyset_page(connection, select(batches), (batches.c.opened_at, batches.c.id),
                            after=cursor or "=", limit=5, field="after")
            refused[cursor] = error.value.errors
    assert refused == {cursor: {"after": ["not a cursor of this list"]} for cursor in bad}


def test_the_institution_batch_list_pages_newest_first(engine: Engine) -> None:
    deployment = Deployment(chain_id=1337, issuer_registry="0x" + "1" * 40,
                            credential_anchor="0x" + "2" * 40, rule_registry="0x" + "3" * 40,
                            block=0)
    seen, after = [], None
    while True:
        rows, after = batch_page(engine, "bjou", deployment, after=after, limit=10)
        seen.extend(row["id"] for row in rows)
        if after is None:
            break
    assert seen == [f"batch-{index:03d}" for index in range(56, -1, -1)]
    first, later = batch_page(engine, "bjou", deployment, status="closed", limit=3)
    assert ([row["id"] for row in first], later) == (
        ["batch-055", "batch-052", "batch-049"], write_cursor([1_700_000_012.5, "batch-049"]))


def test_the_audit_trail_pages_newest_first_by_filter(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(audit_log), [
            {"at": 1_700_000_000.0 + index // 3, "actor": f"operator:{'ab'[index % 2]}",
             "action": "issuer.suspend", "subject": "bjou", "details": "{}"}
            for index in range(23)])
    pages, after = [], None
    while True:
        listed, after = entry_page(engine, actor="operator:a", after=after, limit=4)
        pages.append([entry["id"] for entry in listed])
        if after is None:
            break
    with engine.connect() as connection:
        ids = list(connection.execute(select(audit_log.c.id).where(
            audit_log.c.actor == "operator:a").order_by(
            audit_log.c.at.desc(), audit_log.c.id.desc())).scalars())
    assert [len(page) for page in pages] == [4, 4, 4]
    assert [entry for page in pages for entry in page] == ids
    assert [entry["id"] for entry in entries(engine, limit=50)] == sorted(
        range(1, 24), key=lambda number: (-(1_700_000_000 + (number - 1) // 3), -number))


def test_an_inbox_pages_newest_first_and_only_the_recipients(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(notices), [
            {"recipient_kind": "institution", "recipient_id": ("bjou", "hdvc")[index % 2],
             "kind": "application_waiting", "params": "{}", "created_at": 1_700_000_000.0
             + index // 4, "email_attempts": 0}
            for index in range(30)])
    pages, after = [], None
    while True:
        listed, after = inbox_page(engine, "institution", "bjou", after=after, limit=4)
        pages.append([item["id"] for item in listed])
        if after is None:
            break
    assert [len(page) for page in pages] == [4, 4, 4, 3]
    assert [item for page in pages for item in page] == list(range(29, 0, -2))


def test_a_batchs_credentials_page_in_leaf_order_both_ways_with_their_revocations(
        engine: Engine) -> None:
    with engine.begin() as connection:
        key = connection.execute(insert(issuer_keys).values(
            issuer_id="bjou", public_key=b"\x02" * 32, sealed_seed="sealed", state="active",
            registered_block=1)).inserted_primary_key[0]
        connection.execute(insert(credentials), [
            {"id": f"urn:uuid:leaf-{index:03d}", "issuer_id": "bjou",
             "learner_did": f"did:example:{index}", "learner_hash": f"h{index}",
             "unit_code": "LOG201", "unit_version": 1, "session": "2025 spring", "key_id": key,
             "batch_id": "batch-001", "position": index, "digest": bytes([index]) * 32,
             "issued_at": 1_700_000_000.0} for index in range(57)])
        connection.execute(insert(revocations).values(
            issuer_id="bjou", batch_id="batch-001", credential_id="urn:uuid:leaf-051",
            reason=1, status="confirmed", requested_at=1_700_000_100.0))
    pages, after = [], None
    while True:
        rows, after, previous = batch_credentials(engine, "bjou", "batch-001", after=after,
                                                  limit=10)
        pages.append([row["position"] for row in rows])
        last = rows
        if after is None:
            break
    back, _later, earlier = batch_credentials(engine, "bjou", "batch-001", before=previous,
                                              limit=10)
    with pytest.raises(InvalidInput) as refused:
        batch_credentials(engine, "bjou", "batch-001", after="not-a-cursor")
    assert pages == [list(range(start, min(start + 10, 57))) for start in range(0, 57, 10)]
    assert [row["position"] for row in back] == list(range(40, 50))
    assert earlier is not None
    assert [row["id"] for row in last if row["revocation"]] == ["urn:uuid:leaf-051"]
    assert batch_credentials(engine, "hdvc", "batch-001")[0] == []
    assert refused.value.errors == {"after": ["not a cursor of this list"]}
