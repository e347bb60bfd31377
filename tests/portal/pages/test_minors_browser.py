"""The minors and data-rights journey in a real browser (Chromium), in English on a desktop and in
Chinese on a phone: a guardian signs in through the city's sign-on (the tests' OpenID provider),
opens a child's account and sees its activation code; then Wang Fang, whose application an
institution's reviewer opened, downloads her data (JSON and PDF) and sees who looked at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bank.accounts import Accounts
from bank.staff import INSTITUTION, add_staff
from bank.tables import guardians, learners
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, RULE_SET, city_bank
from tests.support.browser import ServedPortal, require_browser
from tests.support.citizen import issue_record
from tests.support.minors import born_ago, national_id
from tests.support.oidc_provider import OidcProvider
from tests.support.portal import form_token

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GUARDIAN_ID = national_id(born_ago(38), 41)
CHILD_ID = national_id(born_ago(8), 42)
REVIEWER = "bjou-reviewer"
HEADINGS = {
    "en": {"lang": "en", "guardian": "Your children’s learning accounts",
           "opened": "The child's account is open", "data": "My data",
           "access": "Who looked at my record"},
    "zh": {"lang": "zh-Hans", "guardian": "你孩子的学习账户", "opened": "孩子的账户已开立",
           "data": "我的数据", "access": "谁查看过我的档案"},
}


@pytest.fixture
def reviewed(runtime: Runtime) -> str:
    """Wang Fang's account and record, and her application, which BJOU's reviewer opened in the
    institution's console; her account id."""
    bank = city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    opened = accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                           activation_code=checked.activation_code)
    issue_record(bank)
    application = bank.client.post("/api/v1/applications", headers=bank.log_in(LEARNER_ID),
                                   json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    password = add_staff(runtime.engine, REVIEWER, role=INSTITUTION, issuer_id="bjou",
                         actor="cli:test")
    staff = bank.client.application.test_client()
    assert staff.post("/staff/sign-in", data={"csrf_token": form_token(staff),
                                              "username": REVIEWER,
                                              "password": password}).status_code == 303
    assert staff.get(f"/institution/applications/{application}").status_code == 200
    return opened["id"]


@pytest.fixture
def city_portal(runtime: Runtime, reviewed: str) -> Iterator[tuple[ServedPortal, OidcProvider]]:
    """The portal served with city sign-on configured for the tests' provider."""
    require_browser()
    with OidcProvider() as provider, ServedPortal(create_app(runtime)) as portal:
        runtime.settings = replace(runtime.settings, city_sign_on=provider.sign_on(
            f"{portal.url}/sign-in/city/callback", "national_id"))
        yield portal, provider


@pytest.mark.parametrize(("lang", "device"), [("en", "desktop"), ("zh", "phone")])
def test_a_guardian_opens_a_childs_account_and_a_learner_downloads_her_data(
        city_portal: tuple[ServedPortal, OidcProvider], runtime: Runtime, reviewed: str,
        lang: str, device: str) -> None:
    portal, provider = city_portal
    provider.person = {"sub": "city-guardian", "national_id": GUARDIAN_ID, "name": "王丽"}
    seen = portal.run("minors", child_national_id=CHILD_ID, child_name="王小明",
                      national_id=LEARNER_ID, password=PASSWORD, lang=lang, device=device,
                      name=f"minors-{lang}-{device}")
    headings = HEADINGS[lang]
    with runtime.engine.connect() as connection:
        child = connection.execute(select(learners.c.id, learners.c.display_name).join(
            guardians, guardians.c.learner_id == learners.c.id)).one()
    assert (seen["guardianHome"], seen["opened"]["lang"], seen["opened"]["h1"]) == (
        {"lang": headings["lang"], "h1": headings["guardian"]}, headings["lang"],
        headings["opened"])
    assert (len(seen["opened"]["code"]) >= 16, seen["consent"]["version"]) == (
        True, "guardian-2026-12")
    assert [row[0] for row in seen["wards"]] == [child.display_name] == ["王小明"]
    assert seen["data"] == {"lang": headings["lang"], "h1": headings["data"]}
    assert (seen["json"]["status"], seen["json"]["type"], seen["json"]["learner"]) == (
        200, "application/json", reviewed)
    assert (seen["pdf"]["status"], seen["pdf"]["type"], seen["pdf"]["magic"]) == (
        200, "application/pdf", "%PDF-")
    assert (seen["access"]["lang"], seen["access"]["h1"]) == (headings["lang"],
                                                              headings["access"])
    assert [read["purpose"] for read in seen["access"]["reads"]] == ["first-review"]
    assert REVIEWER in seen["access"]["reads"][0]["cells"][1]
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
