"""The correction queues, the learning-agreement lists and a learner's own applications,
deposits, share links and correction requests page by keyset on both databases:
following `next` (API) or each list's own link (consoles, the learner's page, `?lang=` kept) from
the first page lists every row exactly once in the list's order (ties on the time broken by id),
and a cursor the list did not give out is refused naming `after` (API) or is a page error."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from bank.staff import add_staff
from bank.tables import agreements, applications, corrections, deposits, shared_links
from issuers.tables import rule_sets
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, RULE_SET, Bank, bearer, city_bank
from tests.support.citizen import sign_up
from tests.support.portal import form_token

REQUESTED_AT = 1_767_225_600.0
COUNT = 53
PASSWORD = "queue staff password"
NOT_A_CURSOR = "bm90LWEtY3Vyc29y"
ROW = r'<tr data-(?:correction|agreement|application|share)="([^"]+)"'
CARD = r'<section [^>]*data-agreement="([^"]+)"'


def fill(bank: Bank, learner_id: str) -> tuple[list[dict], list[dict]]:
    """`COUNT` open and `COUNT` answered correction requests routed to hdvc, and `COUNT` waiting
    and `COUNT` decided agreement requests to bjou, two at each moment, all the learner's."""
    with bank.runtime.engine.begin() as connection:
        version = connection.execute(select(rule_sets.c.version).where(
            rule_sets.c.rule_set_id == RULE_SET)).scalar_one()
        asked = [{"id": f"cor-{state}-{index:03d}", "learner_id": learner_id,
                  "about": "credential", "object_id": f"urn:uuid:{index}", "routed_to": "hdvc",
                  "request": "wrong", "status": "open" if state == "open" else "corrected",
                  "requested_at": REQUESTED_AT + index // 2,
                  "answered_at": None if state == "open" else REQUESTED_AT + 90 + index // 2}
                 for state in ("open", "done") for index in range(COUNT)]
        connection.execute(insert(corrections), asked)
        requested = [{"id": f"agr-{state}-{index:03d}", "learner_id": learner_id,
                      "rule_set_id": RULE_SET, "version": version, "institution_id": "bjou",
                      "units": "[]", "complete_by": "2027-06-30", "lines": "[]",
                      "status": "requested" if state == "wait" else "refused",
                      "requested_at": REQUESTED_AT + index // 2,
                      "decided_at": None if state == "wait" else REQUESTED_AT + 90 + index // 2}
                     for state in ("wait", "done") for index in range(COUNT)]
        connection.execute(insert(agreements), requested)
    return asked, requested


def in_order(rows: list[dict], time: str, *, newest: bool = False) -> list[str]:
    """The ids of rows ordered by a time, then id."""
    return [row["id"] for row in sorted(rows, key=lambda row: (row[time], row["id"]),
                                        reverse=newest)]


def follow(client: FlaskClient, path: str, headers: dict, member: str) -> list[list[str]]:
    """The ids on every page of an API list, following `next` from its first page."""
    pages, after = [], None
    while True:
        joiner = "&" if "?" in path else "?"
        answer = client.get(f"{path}{joiner}limit=4" + (f"&after={after}" if after else ""),
                            headers=headers)
        assert answer.status_code == 200, answer.json
        pages.append([item["id"] for item in answer.json[member]])
        after = answer.json["next"]
        if after is None:
            return pages


def walk(client: FlaskClient, path: str, start: str, shown: str = ROW,
         ) -> tuple[list[list[str]], list[str]]:
    """The ids `shown` finds on every page of one list of a page (the part from `start` to the
    next heading), following that list's own link to its next page; and the links followed."""
    pages, links = [], []
    while path:
        page = client.get(path)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        begin = text.index(start)
        end = text.find("<h2>", begin)
        part = text[begin:end if end != -1 else len(text)]
        pages.append(re.findall(shown, part))
        found = re.search(r'<a href="([^"]+)" rel="next">', part)
        path = unescape(found.group(1)) if found else ""
        links += [path] if path else []
    return pages, links


def staff(bank: Bank, username: str, role: str, issuer_id: str | None = None) -> FlaskClient:
    """A console signed in as a new staff member."""
    add_staff(bank.runtime.engine, username, password=PASSWORD, role=role, issuer_id=issuer_id,
              actor="cli:test")
    client = bank.client.application.test_client()
    signed_in = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": username, "password": PASSWORD})
    assert signed_in.status_code == 303
    return client


def flat(pages: list[list[str]]) -> list[str]:
    """The ids of every page, in turn."""
    return [item for page in pages for item in page]


def test_correction_queues_page_through_the_api_and_the_consoles(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    sign_up(bank.client)
    learner = bank.client.get("/api/v1/learners/me",
                              headers=bank.log_in(LEARNER_ID)).json["account"]["id"]
    asked, _requested = fill(bank, learner)
    hdvc = bearer(bank.tokens["hdvc"])

    whole = follow(bank.client, "/api/v1/corrections", hdvc, "corrections")
    assert [len(page) for page in whole] == [4] * 26 + [2]
    assert flat(whole) == in_order(asked, "requested_at")
    waiting = [row for row in asked if row["status"] == "open"]
    answered = [row for row in asked if row["status"] != "open"]
    assert flat(follow(bank.client, "/api/v1/corrections?status=open", hdvc,
                       "corrections")) == in_order(waiting, "requested_at")
    assert follow(bank.client, "/api/v1/corrections", bearer(bank.operator),
                  "corrections") == [[]]

    console = staff(bank, "hdvc-clerk", "institution", "hdvc")
    shown, links = walk(console, "/institution/corrections?lang=zh",
                        'data-corrections="waiting"')
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(waiting, "requested_at")
    assert links and all("lang=zh" in link for link in links)
    shown, links = walk(console, "/institution/corrections", 'data-corrections="answered"')
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(answered, "answered_at", newest=True)
    newest_first = in_order(asked, "requested_at", newest=True)
    own, _links = walk(bank.client, "/me/corrections", "data-corrections")
    assert [len(page) for page in own] == [50, 50, 6]
    assert flat(own) == newest_first
    assert flat(follow(bank.client, "/api/v1/learners/me/corrections",
                       bank.log_in(LEARNER_ID), "corrections")) == newest_first
    operator = staff(bank, "centre-clerk", "operator")
    assert "data-correction=" not in operator.get("/operator/corrections").get_data(as_text=True)

    refused = bank.client.get(f"/api/v1/corrections?after={NOT_A_CURSOR}", headers=hdvc)
    assert (refused.status_code, refused.json["errors"]) == (
        422, {"after": ["not a cursor of this list"]})
    assert console.get(f"/institution/corrections?answered={NOT_A_CURSOR}").status_code == 400
    assert console.get(f"/institution/corrections?waiting={NOT_A_CURSOR}").status_code == 400
    assert bank.client.get(f"/me/corrections?after={NOT_A_CURSOR}").status_code == 400


def test_agreement_lists_page_through_the_api_the_console_and_the_learners_page(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    sign_up(bank.client)
    learner_headers = bank.log_in(LEARNER_ID)
    learner = bank.client.get("/api/v1/learners/me",
                              headers=learner_headers).json["account"]["id"]
    _asked, requested = fill(bank, learner)
    newest_first = in_order(requested, "requested_at", newest=True)

    bjou = follow(bank.client, "/api/v1/agreements", bearer(bank.tokens["bjou"]), "agreements")
    assert [len(page) for page in bjou] == [4] * 26 + [2]
    assert flat(bjou) == newest_first
    assert flat(follow(bank.client, "/api/v1/agreements", learner_headers,
                       "agreements")) == newest_first
    assert follow(bank.client, "/api/v1/agreements", bearer(bank.tokens["hdvc"]),
                  "agreements") == [[]]

    own, links = walk(bank.client, "/me/agreements?lang=zh", "data-agreements")
    assert [len(page) for page in own] == [50, 50, 6]
    assert flat(own) == newest_first
    assert links and all("lang=zh" in link for link in links)

    console = staff(bank, "bjou-clerk", "institution", "bjou")
    waiting = [row for row in requested if row["status"] == "requested"]
    decided = [row for row in requested if row["status"] != "requested"]
    shown, _links = walk(console, "/institution/agreements", "Waiting for your decision",
                         CARD)
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(waiting, "requested_at")
    shown, _links = walk(console, "/institution/agreements", "data-decided")
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(decided, "decided_at", newest=True)

    refused = bank.client.get(f"/api/v1/agreements?after={NOT_A_CURSOR}",
                              headers=learner_headers)
    assert (refused.status_code, refused.json["errors"]) == (
        422, {"after": ["not a cursor of this list"]})
    assert bank.client.get(f"/me/agreements?after={NOT_A_CURSOR}").status_code == 400
    assert console.get(f"/institution/agreements?decided={NOT_A_CURSOR}").status_code == 400


def test_a_learners_applications_deposits_and_links_page_newest_first(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    sign_up(bank.client)
    headers = bank.log_in(LEARNER_ID)
    learner = bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["id"]
    with runtime.engine.begin() as connection:
        rule_set = connection.execute(select(rule_sets).where(
            rule_sets.c.rule_set_id == RULE_SET)).mappings().one()
        applied = [{"id": f"app-{index:03d}", "learner_id": learner, "rule_set_id": RULE_SET,
                    "version": rule_set["version"], "content_hash": rule_set["content_hash"],
                    "institution_id": rule_set["issuer_id"], "status": "withdrawn",
                    "audit": "{}", "credentials": "[]", "set_aside": "[]",
                    "submitted_at": REQUESTED_AT + index // 2, "updated_at": REQUESTED_AT}
                   for index in range(COUNT)]
        connection.execute(insert(applications), applied)
        deposited = [{"id": f"dep-{index:03d}", "learner_id": learner,
                      "credential_id": f"urn:uuid:dep-{index:03d}", "credential": "{}",
                      "verdict": "invalid", "report": "{}", "status": "review",
                      "deposited_at": REQUESTED_AT + index // 2} for index in range(COUNT)]
        connection.execute(insert(deposits), deposited)
        shared = [{"token": f"link-{index:03d}", "credential_json": '{"name": "WH110"}',
                   "kind": "credential", "created_at": REQUESTED_AT + index // 2,
                   "expires_at": REQUESTED_AT + 86_400, "revoked": False, "learner_id": learner}
                  for index in range(COUNT)]
        connection.execute(insert(shared_links), shared)

    shown, links = walk(bank.client, "/me/applications?lang=zh", "data-applications")
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(applied, "submitted_at", newest=True)
    assert links and all("lang=zh" in link for link in links)
    shown, _links = walk(bank.client, "/me/deposits", "data-deposits",
                         r"<code>urn:uuid:([^<]+)</code>")
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == in_order(deposited, "deposited_at", newest=True)
    assert flat(follow(bank.client, "/api/v1/learners/me/deposits", headers,
                       "deposits")) == in_order(deposited, "deposited_at", newest=True)
    record = bank.client.get("/api/v1/learners/me", headers=headers).json
    assert [item["id"] for item in record["deposits"]] == in_order(
        deposited, "deposited_at", newest=True)[:50]
    shown, _links = walk(bank.client, "/me/shares", "data-shares")
    assert [len(page) for page in shown] == [50, 3]
    assert flat(shown) == [link["token"] for link in sorted(
        shared, key=lambda link: (link["created_at"], link["token"]), reverse=True)]
    assert bank.client.get("/me/shares/link-007").status_code == 200

    refused = bank.client.get(f"/api/v1/learners/me/deposits?after={NOT_A_CURSOR}",
                              headers=headers)
    assert (refused.status_code, refused.json["errors"]) == (
        422, {"after": ["not a cursor of this list"]})
    assert bank.client.get(f"/me/deposits?after={NOT_A_CURSOR}").status_code == 400
    assert bank.client.get(f"/me/applications?after={NOT_A_CURSOR}").status_code == 400
    assert bank.client.get(f"/me/shares?after={NOT_A_CURSOR}").status_code == 400
