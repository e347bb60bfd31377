"""Rule impact in the institution console and the issuer API: preview, publish what was
previewed, the kept summary; only the owning institution, with CSRF, bad input as 4xx."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape

import pytest
from flask.testing import FlaskClient

from bank.staff import add_staff
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import RULE_SET, Bank, bearer
from tests.support.impact import new_version, rule_change_bank
from tests.support.portal import at_localhost, form_token

PASSWORD = "staff password 1"
IMPACT_PAGE = f"/institution/rules/{RULE_SET}/3/impact"


@dataclass
class Console:
    """The rule-change bank, and a portal client per console user."""

    bank: Bank
    clients: dict[str, FlaskClient]


@pytest.fixture
def console(runtime: Runtime) -> Console:
    """BJOU's and HDVC's staff signed in to the console over the rule-change bank."""
    bank = rule_change_bank(at_localhost(runtime))
    app = create_app(runtime, {"TESTING": True})
    clients = {"anonymous": app.test_client()}
    for username, issuer_id in (("bjou-rules", "bjou"), ("hdvc-rules", "hdvc")):
        add_staff(runtime.engine, username, role="institution", issuer_id=issuer_id,
                  actor="cli:operator", password=PASSWORD)
        client = app.test_client()
        signed_in = client.post("/staff/sign-in", data={
            "csrf_token": form_token(client), "username": username, "password": PASSWORD})
        assert signed_in.status_code == 303
        clients[issuer_id] = client
    return Console(bank, clients)


def post(client: FlaskClient, path: str, data: dict) -> tuple[int, str]:
    """Post a console form with the session's CSRF token: status and HTML."""
    response = client.post(path, data={"csrf_token": form_token(client), **data})
    return response.status_code, response.get_data(as_text=True)


def errors(page: str) -> list[str]:
    """The error summary's lines."""
    summary = page.split('id="error-summary-title"')[1].split("</ul>")[0]
    return [unescape(item) for item in re.findall(r"<li>([^<]+)</li>", summary)]


def totals(page: str) -> dict[str, str]:
    """The impact's totals as the page shows them."""
    return dict(re.findall(r'data-total="(\w+)">([^<]*)<', page))


def lines(page: str) -> list[tuple[str, str]]:
    """Each changed line: its effect and its units."""
    return re.findall(r'<tr class="impact-line" data-effect="(\w+)">\s*<td[^>]*>.*?</td>\s*'
                      r'<td data-label="Units">([^<]*)</td>', page, re.S)


def test_staff_preview_the_impact_then_publish_what_they_previewed(console: Console) -> None:
    bjou = console.clients["bjou"]
    document = new_version(console.bank)
    text = json.dumps(document)
    status, preview = post(bjou, "/institution/rules/impact", {"document": text})
    assert (status, totals(preview)) == (200, {
        "audited": "3", "affected": "2", "gaining": "1", "losing": "1", "credits_gained": "3",
        "credits_lost": "3", "requirements_met": "0", "requirements_unmet": "0"})
    assert lines(preview) == [("loses", "ACC110"), ("gains", "ENG110")]
    assert re.findall(r"Learner [0-9a-f]{10}", preview) != []
    content_hash = re.search(r'name="content_hash" value="(0x[0-9a-f]{64})"', preview)
    assert content_hash is not None

    unseen = post(bjou, "/institution/rules", {"document": text})
    changed = post(bjou, "/institution/rules", {
        "document": text.replace('"max_credits": 10', '"max_credits": 11'),
        "content_hash": content_hash.group(1)})
    assert [(status, errors(page)) for status, page in (unseen, changed)] == [
        (400, ["Preview the impact of the version before publishing it."]),
        (409, ["the rule set changed since its impact was previewed; preview it again",
               f"content_hash: the document's hash is {changed_hash(changed[1])}"])]

    published = bjou.post("/institution/rules", data={
        "csrf_token": form_token(bjou), "document": text, "content_hash": content_hash.group(1)})
    assert (published.status_code, published.location) == (303, IMPACT_PAGE)
    kept = bjou.get(IMPACT_PAGE).get_data(as_text=True)
    assert (totals(kept), lines(kept)) == (totals(preview), lines(preview))
    listing = bjou.get("/institution/rules").get_data(as_text=True)
    assert f'href="{IMPACT_PAGE}"' in listing


def changed_hash(page: str) -> str:
    """The hash a refusal reports for the changed document."""
    found = re.search(r"hash is (0x[0-9a-f]{64})", page)
    assert found is not None
    return found.group(1)


def test_only_the_owning_institution_previews_or_reads_the_impact(console: Console) -> None:
    bjou, hdvc = console.clients["bjou"], console.clients["hdvc"]
    document = new_version(console.bank)
    status, refused = post(hdvc, "/institution/rules/impact", {"document": json.dumps(document)})
    assert (status, errors(refused)[0]) == (422, "a rule set is published by its owner")
    assert bjou.post("/institution/rules/impact",
                     data={"document": json.dumps(document)}).status_code == 400
    assert bjou.post("/institution/rules/impact", data={
        "document": json.dumps(document), "csrf_token": "forged"}).status_code == 400
    token = bearer(console.bank.tokens["bjou"])
    assert console.bank.client.post("/api/v1/rules", headers=token,
                                    json=document).status_code == 201
    anonymous = console.clients["anonymous"].get(IMPACT_PAGE)
    assert (anonymous.status_code, anonymous.location) == (
        302, f"/staff/sign-in?next={IMPACT_PAGE}")
    assert [hdvc.get(IMPACT_PAGE).status_code, bjou.get(IMPACT_PAGE).status_code,
            bjou.get(f"/institution/rules/{RULE_SET}/2/impact").status_code] == [404, 200, 404]


def test_bad_json_is_refused_with_the_field(console: Console) -> None:
    bjou = console.clients["bjou"]
    status, page = post(bjou, "/institution/rules/impact", {"document": "{not json"})
    assert (status, errors(page)[0].startswith("The rule set is not valid JSON:")) == (400, True)
    document = {**new_version(console.bank), "colour": "blue"}
    status, page = post(bjou, "/institution/rules/impact", {"document": json.dumps(document)})
    assert (status, errors(page)) == (422, [
        "the rule set is invalid; nothing was published", "colour: is not a known field"])


def test_the_issuer_api_previews_publishes_and_keeps_the_impact(console: Console) -> None:
    client, bank = console.bank.client, console.bank
    token, other = bearer(bank.tokens["bjou"]), bearer(bank.tokens["hdvc"])
    document = new_version(bank)
    preview = client.post("/api/v1/rules/impact", headers=token, json=document)
    assert (preview.status_code, preview.json["totals"]["affected"],
            [item.get("application") is None for item in preview.json["learners"]]) == (
        200, 2, [False, True])
    refusals = [
        client.post("/api/v1/rules/impact", json=document),
        client.post("/api/v1/rules/impact", headers=token, data="{not json",
                    content_type="application/json"),
        client.post("/api/v1/rules/impact", headers=token, json={**document, "colour": 1}),
        client.post("/api/v1/rules/impact", headers=other, json=document),
    ]
    assert [(item.status_code, list((item.json or {}).get("errors", {})))
            for item in refusals] == [
        (401, []), (422, ["json"]), (422, ["colour"]), (422, ["owner_did"])]
    published = client.post("/api/v1/rules", headers=token, json=document)
    assert (published.status_code, published.json["impact"]["totals"]) == (
        201, preview.json["totals"])
    kept = client.get(f"/api/v1/rules/{RULE_SET}/3/impact", headers=token)
    assert (kept.status_code, kept.json["learners"]) == (200, preview.json["learners"])
    assert [client.get(path, headers=headers).status_code for path, headers in (
        (f"/api/v1/rules/{RULE_SET}/3/impact", other),
        (f"/api/v1/rules/{RULE_SET}/{2**40}/impact", token),
        (f"/api/v1/rules/{RULE_SET}/3/impact", bearer(bank.operator)),
    )] == [404, 404, 403]
