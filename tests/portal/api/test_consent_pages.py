"""A learner's consents page by keyset on both databases, newest first: following `next` (API)
or the page's own next link from the first page lists every consent exactly once, `previous`
walks the same pages back to the first, and a cursor the list did not give out is refused
naming `after` or `before` (API) or is a page error."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from bank.tables import consents
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, city_bank
from tests.support.citizen import sign_up

GIVEN_AT = 1_767_225_600.0
COUNT = 57
NOT_A_CURSOR = "bm90LWEtY3Vyc29y"
CARD = re.compile(r'data-consent="([^"]*)" data-purpose=')
LINK = r'<a href="([^"]+)" rel="{}"'


def api_pages(client: FlaskClient, headers: dict, start: dict[str, str],
              follow: str) -> list[list[str]]:
    """The consent ids on every API page from `start`, following the `follow` cursor
    ("next" as `after`, "previous" as `before`) until there is none."""
    pages, query = [], dict(start)
    while True:
        answer = client.get("/api/v1/learners/me/consents", headers=headers,
                            query_string={"limit": 4, **query})
        assert answer.status_code == 200, answer.json
        pages.append([item["id"] for item in answer.json["consents"]])
        cursor = answer.json[follow]
        if cursor is None:
            return pages
        query = {"after" if follow == "next" else "before": cursor}


def page_walk(client: FlaskClient, path: str, rel: str) -> tuple[list[list[str]], list[str]]:
    """The consent ids on every page of /me/consents from `path`, following its `rel` link;
    and the last page's text."""
    pages, text = [], ""
    while path:
        answer = client.get(path)
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        pages.append(CARD.findall(text))
        found = re.search(LINK.format(rel), text)
        path = unescape(found.group(1)) if found else ""
    return pages, [text]


def test_a_learners_consents_page_both_ways_in_the_api_and_the_page(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    sign_up(bank.client)
    headers = bank.log_in(LEARNER_ID)
    learner = bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["id"]
    with runtime.engine.begin() as connection:
        connection.execute(insert(consents), [
            {"id": f"consent-{index:03d}", "learner_id": learner, "purpose": "application",
             "object_id": f"app-{index:03d}", "text_version": "application-2026-12",
             "given_by": "learner", "given_at": GIVEN_AT + index // 3,
             "withdrawn_at": GIVEN_AT + 10 if index % 5 == 0 else None}
            for index in range(COUNT)])
        newest_first = list(connection.execute(select(consents.c.id).where(
            consents.c.learner_id == learner).order_by(
            consents.c.given_at.desc(), consents.c.id.desc())).scalars())
    client = bank.client

    forward = api_pages(client, headers, {}, "next")
    backward = api_pages(client, headers, {"after": last_cursor(client, headers)}, "previous")
    assert [len(page) for page in forward] == [4] * 14 + [2]
    assert [item for page in forward for item in page] == newest_first
    assert backward[1:] == forward[:-1][::-1]

    shown, (last,) = page_walk(client, "/me/consents?lang=zh", "next")
    assert [len(page) for page in shown] == [50, 8]
    assert [item for page in shown for item in page] == newest_first
    assert 'rel="prev"' in last and "data-first" in last and "lang=zh" in last
    back, (first,) = page_walk(client, unescape(re.findall(LINK.format("prev"), last)[0]),
                               "prev")
    assert back == [shown[0]]
    assert 'rel="next"' in first and 'rel="prev"' not in first

    refused = {name: client.get("/api/v1/learners/me/consents", headers=headers,
                                query_string={name: NOT_A_CURSOR})
               for name in ("after", "before")}
    assert {name: (answer.status_code, answer.json["errors"])
            for name, answer in refused.items()} == {
        name: (422, {name: ["not a cursor of this list"]}) for name in ("after", "before")}
    both = client.get("/api/v1/learners/me/consents", headers=headers,
                      query_string={"after": forward_cursor(client, headers),
                                    "before": forward_cursor(client, headers)})
    assert (both.status_code, list(both.json["errors"])) == (422, ["before"])
    assert client.get(f"/me/consents?after={NOT_A_CURSOR}").status_code == 400
    assert client.get(f"/me/consents?before={NOT_A_CURSOR}").status_code == 400


def forward_cursor(client: FlaskClient, headers: dict) -> str:
    """The `next` cursor of the API's first page of four."""
    return client.get("/api/v1/learners/me/consents", headers=headers,
                      query_string={"limit": 4}).json["next"]


def last_cursor(client: FlaskClient, headers: dict) -> str:
    """The `after` cursor that opens the API's last page of four."""
    cursor = None
    while True:
        answer = client.get("/api/v1/learners/me/consents", headers=headers,
                            query_string={"limit": 4, **({"after": cursor} if cursor else {})})
        if answer.json["next"] is None:
            assert cursor is not None
            return cursor
        cursor = answer.json["next"]
