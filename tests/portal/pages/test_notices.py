"""The inboxes over the Flask test client, on both databases: only the recipient reads a notice,
the learner's menu counts the unread ones, marking read, each notice in the page's language,
the e-mail choices form (validated, CSRF), the institution's console inbox and the JSON API."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from bank.notices import notify
from bank.staff import add_staff
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, RULE_SET, Bank, bearer, city_bank, outcome
from tests.support.citizen import sign_up
from tests.support.portal import form_token


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The small city bank with Wang Fang signed up (through the form) and one notice for her."""
    city = city_bank(runtime)
    sign_up(city.client)
    with runtime.engine.begin() as connection:
        notify(connection, recipient_kind="learner", recipient_id=wang(city),
               kind="share_expiring", link="/me/shares", now=100.0,
               params={"title": "Warehouse Operations", "expires_on": "2030-01-10"})
    return city


def wang(bank: Bank) -> str:
    """Wang Fang's account id."""
    me = bank.client.get("/api/v1/learners/me", headers=bank.log_in(LEARNER_ID))
    return str(me.json["account"]["id"])


def html(response) -> str:
    """A response's HTML."""
    return response.get_data(as_text=True)


def notices_on(page: str) -> list[tuple[str, bool]]:
    """The kinds of the notices a page lists, in order, and whether each is unread."""
    return [(kind, unread == " data-unread") for kind, unread in
            re.findall(r'data-kind="([a-z_]+)"( data-unread)?', page)]


def test_a_learner_reads_their_notices_in_their_language_and_marks_them_read(bank: Bank) -> None:
    client = bank.client
    with bank.runtime.engine.begin() as connection:
        notify(connection, recipient_kind="learner", recipient_id=wang(bank),
               kind="decision_made", link="/me/applications/a1", now=200.0,
               params={"programme": "Associate in Logistics Management", "verdict": "granted",
                       "credits": 7, "amended": False})
    page = html(client.get("/me/notices"))
    assert notices_on(page) == [("decision_made", True), ("share_expiring", True)]
    assert ("Your application for Associate in Logistics Management was decided: granted, "
            "7 credits.") in page
    assert 'href="/me/applications/a1"' in page
    assert re.search(r'class="unread-count" data-unread="2"', html(client.get("/me")))
    chinese = html(client.get("/me/notices?lang=zh"))
    assert "你申请认定的“Associate in Logistics Management”已作出决定：准予认定，7学分。" in chinese
    assert "你分享的“Warehouse Operations”链接将于2030-01-10失效。" in chinese

    refused = client.post("/me/notices/read", data={})
    assert refused.status_code == 400
    read = client.post("/me/notices/read", data={"csrf_token": form_token(client, "/me/notices")})
    assert (read.status_code, read.location) == (303, "/me/notices")
    page = html(client.get("/me/notices"))
    assert notices_on(page) == [("decision_made", False), ("share_expiring", False)]
    assert "data-mark-read" not in page and "unread-count" not in page


def test_only_the_recipient_reads_a_notice(bank: Bank) -> None:
    stranger = bank.client.application.test_client()
    assert stranger.get("/me/notices").location.startswith("/sign-in")
    assert stranger.get("/institution/notices").location.startswith("/staff/sign-in")
    sign_up(stranger, OTHER_ID)
    page = html(stranger.get("/me/notices"))
    assert (notices_on(page), "data-no-notices" in page) == ([], True)
    assert stranger.get("/institution/notices").status_code == 403
    other = bank.log_in(OTHER_ID)
    listed = bank.client.get("/api/v1/learners/me/notices", headers=other).json
    assert listed == {"notices": [], "unread": 0, "next": None}
    assert bank.client.get("/api/v1/learners/me/notices").status_code == 401
    assert bank.client.get("/api/v1/learners/me/notices",
                           headers=bearer(bank.tokens["bjou"])).status_code == 403


def test_the_email_choices_form_is_validated(bank: Bank) -> None:
    client = bank.client
    token = form_token(client, "/me/notices")
    bad = client.post("/me/notices/preferences", data={
        "csrf_token": token, "email": "wang at example", "kinds": ["decision_made"]})
    assert bad.status_code == 422
    assert "Enter an e-mail address like name@example.cn." in html(bad)
    assert 'aria-invalid="true"' in html(bad) and 'value="wang at example"' in html(bad)
    missing = client.post("/me/notices/preferences", data={
        "csrf_token": token, "email": "", "kinds": ["decision_made"]})
    assert (missing.status_code, "Enter an e-mail address to get notices by e-mail." in
            html(missing)) == (422, True)
    odd = client.post("/me/notices/preferences", data={
        "csrf_token": token, "email": "wang@example.cn", "kinds": ["application_waiting"]})
    assert (odd.status_code, "Choose among the kinds of notice listed." in html(odd)) == (
        422, True)
    saved = client.post("/me/notices/preferences", data={
        "csrf_token": token, "email": "wang@example.cn", "kinds": ["decision_made"]})
    assert (saved.status_code, saved.location) == (303, "/me/notices?saved=1")
    page = html(client.get(saved.location))
    assert 'value="wang@example.cn"' in page
    assert re.findall(r'value="([a-z_]+)" checked', page) == ["decision_made"]


def test_the_notices_api_lists_renders_and_sets_preferences(bank: Bank) -> None:
    client = bank.client
    headers = bank.log_in(LEARNER_ID)
    listed = client.get("/api/v1/learners/me/notices?lang=zh", headers=headers).json
    (notice,) = listed["notices"]
    assert (listed["unread"], notice["kind"], notice["title"], notice["text"], notice["link"],
            notice["read"], notice["email"]) == (
        1, "share_expiring", "分享链接即将失效",
        "你分享的“Warehouse Operations”链接将于2030-01-10失效。", "/me/shares", False, None)
    assert client.get("/api/v1/learners/me/notices?lang=fr",
                      headers=headers).json["errors"] == {"query": {"lang": [
                          "Must be one of: zh, en."]}}
    put = "/api/v1/learners/me/notice-preferences"
    unknown = client.put(put, headers=headers, json={"kinds": [], "sms": "1"})
    assert (unknown.status_code, unknown.json["errors"]) == (
        422, {"json": {"sms": ["Unknown field."]}})
    bad = client.put(put, headers=headers, json={"email": "x", "kinds": ["decision_made"]})
    assert (bad.status_code, bad.json["errors"]) == (
        422, {"email": ["must be an e-mail address such as name@example.cn"]})
    good = client.put(put, headers=headers, json={"email": "wang@example.cn",
                                                  "kinds": ["decision_made"]})
    assert (good.status_code, good.json) == (200, {"email": "wang@example.cn",
                                                   "kinds": ["decision_made"]})
    assert client.get(put, headers=headers).json == good.json
    marked = client.post("/api/v1/learners/me/notices/read", headers=headers)
    assert (marked.status_code, marked.json) == (200, {"marked": 1})


def test_an_institution_reads_applications_waiting_in_its_console(bank: Bank) -> None:
    engine = bank.runtime.engine
    for slug in ("bjou", "hdvc"):
        add_staff(engine, f"{slug}-admin", role="institution", issuer_id=slug,
                  password="staff password 1", actor="cli:operator")
    bank.issue("bjou", [outcome("LOG201", "A")])
    applied = bank.client.post("/api/v1/applications",
                               headers=bank.log_in(LEARNER_ID),
                               json={"rule_set_id": RULE_SET, "version": 1})
    assert applied.status_code == 201
    bjou, hdvc = (staff(bank, f"{slug}-admin") for slug in ("bjou", "hdvc"))
    page = html(bjou.get("/institution/notices"))
    assert notices_on(page) == [("application_waiting", True)]
    assert f'href="/institution/applications/{applied.json["id"]}"' in page
    assert "Notices (1)" in html(bjou.get("/institution/batches"))
    assert notices_on(html(hdvc.get("/institution/notices"))) == []
    assert bjou.get("/me/notices").status_code == 403
    read = bjou.post("/institution/notices/read",
                     data={"csrf_token": form_token(bjou, "/institution/notices")})
    assert read.status_code == 303
    assert notices_on(html(bjou.get("/institution/notices"))) == [
        ("application_waiting", False)]


def staff(bank: Bank, username: str) -> FlaskClient:
    """A client signed in to the console as this staff member."""
    client = bank.client.application.test_client()
    signed = client.post("/staff/sign-in", data={
        "csrf_token": form_token(client), "username": username, "password": "staff password 1"})
    assert signed.status_code == 303, signed.get_data(as_text=True)
    return client
