"""The staff queues page by keyset on both databases: following `next` from the first page
lists every application and deposit once, oldest first (ties on the time broken by id), the
consoles link to the same pages, and a cursor the queue did not give out is refused naming
`after`."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from bank.staff import add_staff
from bank.tables import applications, deposits, learners
from issuers.tables import rule_sets
from portal.runtime import Runtime
from tests.support.bank import RULE_SET, Bank, bearer, city_bank
from tests.support.portal import form_token

SUBMITTED_AT = 1_767_225_600.0
COUNT = 53
PASSWORD = "queue staff password"


def fill_queues(bank: Bank) -> tuple[list[str], list[str]]:
    """`COUNT` applications submitted and deposits waiting, two at each moment, each of its own
    learner; their ids in queue order."""
    with bank.runtime.engine.begin() as connection:
        rule_set = connection.execute(select(rule_sets).where(
            rule_sets.c.rule_set_id == RULE_SET)).mappings().one()
        connection.execute(insert(learners), [
            {"id": f"learner-{index:03d}", "did": f"did:web:queue.example:{index}",
             "identity_hash": f"queue-{index}", "opened_by": "self", "created_at": SUBMITTED_AT}
            for index in range(COUNT)])
        connection.execute(insert(applications), [
            {"id": f"app-{index:03d}", "learner_id": f"learner-{index:03d}",
             "rule_set_id": RULE_SET, "version": rule_set["version"],
             "content_hash": rule_set["content_hash"], "institution_id": rule_set["issuer_id"],
             "status": "submitted", "audit": "{}", "credentials": "[]", "set_aside": "[]",
             "submitted_at": SUBMITTED_AT + index // 2, "updated_at": SUBMITTED_AT}
            for index in range(COUNT)])
        connection.execute(insert(deposits), [
            {"id": f"dep-{index:03d}", "learner_id": f"learner-{index:03d}",
             "credential_id": f"urn:uuid:{index}", "credential": "{}", "verdict": "invalid",
             "report": "{}", "status": "review", "deposited_at": SUBMITTED_AT + index // 2}
            for index in range(COUNT)])
    return ([f"app-{index:03d}" for index in range(COUNT)],
            [f"dep-{index:03d}" for index in range(COUNT)])


def follow(client: FlaskClient, path: str, token: str, member: str) -> list[list[str]]:
    """The ids on every page of an API list, following `next` from its first page."""
    pages, after = [], None
    while True:
        query = f"{path}?limit=4" + (f"&after={after}" if after else "")
        answer = client.get(query, headers=bearer(token))
        assert answer.status_code == 200, answer.json
        pages.append([item["id"] for item in answer.json[member]])
        after = answer.json["next"]
        if after is None:
            return pages


def console_pages(client: FlaskClient, path: str,
                  marker: str) -> tuple[list[list[str]], list[str]]:
    """The ids on every page of a console list, following its link to the next page; and the
    links followed."""
    pages, links = [], []
    while path:
        page = client.get(path).get_data(as_text=True)
        pages.append(re.findall(rf'data-{marker}="([^"]+)"', page))
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        path = unescape(found.group(1)) if found else ""
        links += [path] if path else []
    return pages, links


def test_queues_page_oldest_first_through_the_api_and_the_consoles(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    application_ids, deposit_ids = fill_queues(bank)

    applications_seen = follow(bank.client, "/api/v1/applications", bank.operator,
                               "applications")
    institution_seen = follow(bank.client, "/api/v1/applications", bank.tokens["bjou"],
                              "applications")
    deposits_seen = follow(bank.client, "/api/v1/deposits", bank.operator, "deposits")
    assert [len(page) for page in applications_seen] == [4] * 13 + [1]
    assert [item for page in applications_seen for item in page] == application_ids
    assert institution_seen == applications_seen
    assert [item for page in deposits_seen for item in page] == deposit_ids

    add_staff(runtime.engine, "queue-operator", password=PASSWORD, role="operator",
              actor="cli:test")
    staff = runtime_client(bank)
    signed_in = staff.post("/staff/sign-in", data={
        "csrf_token": form_token(staff), "username": "queue-operator", "password": PASSWORD})
    assert signed_in.status_code == 303
    console, links = console_pages(staff, "/operator/deposits?lang=zh", "deposit")
    assert [len(page) for page in console] == [50, 3]
    assert [item for page in console for item in page] == deposit_ids
    assert all("lang=zh" in link for link in links)

    refused = bank.client.get("/api/v1/deposits?after=bm90LWEtY3Vyc29y",
                              headers=bearer(bank.operator))
    assert (refused.status_code, refused.json["errors"]) == (
        422, {"after": ["not a cursor of this list"]})
    page_error = staff.get("/operator/applications?second=bm90LWEtY3Vyc29y")
    assert page_error.status_code == 400


def runtime_client(bank: Bank) -> FlaskClient:
    """A fresh browser on the bank's portal."""
    return bank.client.application.test_client()
