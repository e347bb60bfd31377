"""The public catalogue search: latest versions only, filters, keyset paging, bad filters."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, insert, select

from infra.database import open_database
from infra.errors import InvalidInput
from issuers.catalogue import add_units, search_units
from issuers.tables import issuers, units


def _issuer(engine: Engine, issuer_id: str, name: str) -> dict:
    row = {"id": issuer_id, "did": f"did:web:bank.example:issuers:{issuer_id}",
           "chain_id": issuer_id.encode().ljust(32, b"\0"), "name": name,
           "name_zh": name + "（中）", "url": None, "kinds": "course,certificate,mooc",
           "levels": "[1,2,3,4,5,6,7,8]",
           "valid_from": 0, "valid_until": 0, "suspended": False, "created_at": time.time()}
    with engine.begin() as connection:
        connection.execute(insert(issuers).values(**row))
    return row


def _unit(code: str, title: str, *, kind: str = "course", level: int = 6, credits: float = 3,
          category: str = "Computer Science") -> dict:
    return {"code": code, "title": title, "description": title, "kind": kind,
            "level": {"framework": "CQF", "level": level}, "credit_value": credits,
            "credit_scheme": "CN-NCB", "hours": 48, "learning_outcomes": ["Do it"],
            "category": category, "valid_from": "2024-09-01"}


@pytest.fixture
def catalogue(database_url: str) -> Engine:
    """Two institutions' units; CS101 has a second version."""
    engine = open_database(database_url, master_key=bytes(32))
    open_u = _issuer(engine, "open-u", "Open University")
    poly = _issuer(engine, "poly", "Beijing Polytechnic")
    with engine.begin() as connection:
        add_units(connection, open_u, [
            _unit("CS101", "Introduction to Programming"),
            _unit("MATH201", "Linear Algebra", credits=4, category="Mathematics"),
            _unit("MOOC-PY", "Python for Everybody 100%", kind="mooc", level=5, credits=1),
        ])
        add_units(connection, poly, [
            _unit("CERT-DATA", "Data Analysis Certificate", kind="certificate", level=5,
                  credits=6, category="Data Science"),
            _unit("NET110", "Computer Networks", level=5, credits=2.5),
        ])
    with engine.begin() as connection:
        add_units(connection, open_u, [_unit("CS101", "Introduction to Programming (Python)",
                                             credits=3.5)])
    return engine


def _refs(engine: Engine, **filters: object) -> list[str]:
    with engine.connect() as connection:
        return [item["ref"] for item in search_units(connection, **filters)]  # type: ignore[arg-type]


def test_the_search_lists_the_latest_version_of_every_unit_by_issuer_then_code(
        catalogue: Engine) -> None:
    with catalogue.connect() as connection:
        found = search_units(connection)
        versions = connection.execute(select(units.c.code, units.c.version, units.c.latest)
                                      .where(units.c.code == "CS101")
                                      .order_by(units.c.version)).all()
    assert [item["ref"] for item in found] == [
        "open-u:CS101", "open-u:MATH201", "open-u:MOOC-PY", "poly:CERT-DATA", "poly:NET110"]
    assert (found[0]["version"], found[0]["title"], found[0]["credit_value"],
            found[0]["issuer"], found[0]["issuer_name"], found[0]["issuer_name_zh"]) == (
        2, "Introduction to Programming (Python)", 3.5, "open-u", "Open University",
        "Open University（中）")
    assert [tuple(row) for row in versions] == [("CS101", 1, False), ("CS101", 2, True)]


@pytest.mark.parametrize(("filters", "refs"), [
    ({"text": "programming"}, ["open-u:CS101"]),
    ({"text": "PYTHON"}, ["open-u:CS101", "open-u:MOOC-PY"]),
    ({"text": "cert-"}, ["poly:CERT-DATA"]),
    ({"text": "100%"}, ["open-u:MOOC-PY"]),
    ({"text": "net"}, ["poly:NET110"]),
    ({"kind": "certificate"}, ["poly:CERT-DATA"]),
    ({"level": 5}, ["open-u:MOOC-PY", "poly:CERT-DATA", "poly:NET110"]),
    ({"field": "Mathematics"}, ["open-u:MATH201"]),
    ({"min_credits": 3.5}, ["open-u:CS101", "open-u:MATH201", "poly:CERT-DATA"]),
    ({"min_credits": 2, "max_credits": 3.5}, ["open-u:CS101", "poly:NET110"]),
    ({"issuer_id": "poly"}, ["poly:CERT-DATA", "poly:NET110"]),
    ({"issuer_id": "poly", "kind": "course", "text": "net"}, ["poly:NET110"]),
    ({"text": "Introduction to Programming ("}, ["open-u:CS101"]),
    ({"text": "Introduction to Programming", "max_credits": 3}, []),
])
def test_the_search_filters_by_text_kind_level_field_credits_and_issuer(
        catalogue: Engine, filters: dict, refs: list[str]) -> None:
    assert _refs(catalogue, **filters) == refs


def test_pages_follow_each_other_by_the_last_reference(catalogue: Engine) -> None:
    pages, after = [], None
    while True:
        page = _refs(catalogue, limit=2, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1]
    assert pages == [["open-u:CS101", "open-u:MATH201"], ["open-u:MOOC-PY", "poly:CERT-DATA"],
                     ["poly:NET110"]]


@pytest.mark.parametrize(("filters", "fields"), [
    ({"kind": "lecture"}, ["kind"]),
    ({"level": -1}, ["level"]),
    ({"text": " "}, ["text"]),
    ({"text": "x" * 101}, ["text"]),
    ({"min_credits": -1, "max_credits": "3"}, ["max_credits", "min_credits"]),
    ({"min_credits": 5, "max_credits": 2}, ["max_credits"]),
    ({"after": "no-colon"}, ["after"]),
    ({"limit": 0}, ["limit"]),
    ({"limit": 101, "field": ""}, ["field", "limit"]),
])
def test_bad_filters_are_refused_naming_each_field(catalogue: Engine, filters: dict,
                                                   fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as raised, catalogue.connect() as connection:
        search_units(connection, **filters)
    assert sorted(raised.value.errors or {}) == fields
