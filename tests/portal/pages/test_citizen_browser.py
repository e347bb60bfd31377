"""The citizen's journeys in a real browser (headless Chromium via Playwright, tests/js/journeys):
sign in, record, progress, apply, share; an employer opens the share link; Chinese pages; and the
city single sign-on against the tests' own OpenID provider. The main journey runs on a desktop and
on a phone (390×844, touch), where no page may scroll sideways."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bank.accounts import Accounts
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, RULE_SET, city_bank
from tests.support.browser import ServedPortal, require_browser
from tests.support.citizen import issue_record
from tests.support.oidc_provider import OidcProvider

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# The narrowest QR code a phone's camera reads off another phone's screen, in CSS pixels.
MIN_QR_WIDTH = 240


@pytest.fixture
def learner(runtime: Runtime) -> str:
    """Wang Fang's account, opened with her password after a check in person at the centre,
    and her record issued; her DID."""
    bank = city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    opened = accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                           activation_code=checked.activation_code)
    issue_record(bank)
    return opened["did"]


@pytest.fixture
def sso_portal(runtime: Runtime, learner: str) -> Iterator[tuple[ServedPortal, OidcProvider]]:
    """The portal served with city sign-on configured for the tests' provider."""
    require_browser()
    with OidcProvider() as provider:
        app = create_app(runtime)
        with ServedPortal(app) as portal:
            callback = f"{portal.url}/sign-in/city/callback"
            runtime.settings = replace(
                runtime.settings, city_sign_on=provider.sign_on(callback, "national_id")
            )
            yield portal, provider


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_citizen_signs_in_sees_the_record_applies_and_shares_and_an_employer_checks_it(
    browser_page: ServedPortal, learner: str, device: str
) -> None:
    seen = browser_page.run("citizen", national_id=LEARNER_ID, password=PASSWORD,
                            programme=f"{RULE_SET}@1", name=f"citizen-{device}", device=device)
    if device == "desktop":
        focus = seen["focus"]
        assert (focus["field"], focus["outline"] != "none") == ("national_id", True)
    record = seen["record"]
    assert (record["h1"], record["credits"], record["statuses"]) == (
        "Your lifelong learning record", "22", ["VALID"] * 5)
    assert seen["credential"] == {"h1": record["titles"][0], "verdict": "VALID"}
    assert seen["progress"] == [["total", "11", "72"], ["category:general", "4", "15"],
                                ["category:major", "7", "37"]]
    assert seen["application"] == {"h1": "Associate in Logistics Management",
                                   "status": "submitted"}
    share = seen["share"]
    assert (share["link"].startswith(f"{browser_page.url}/s/"), share["qr"], share["pdf"]) == (
        True, True, True)
    assert (seen["seen"]["verdict"], seen["seen"]["link"], seen["seen"]["title"]) == (
        "VALID", share["link"], "Shared credential")
    for code in (share["code"], seen["seen"]["code"]):
        assert (code["visible"], code["width"] >= MIN_QR_WIDTH) == (True, True)
    assert seen["chinese"] == {
        "record": {"lang": "zh-Hans", "h1": "我的终身学习档案"},
        "progress": {"lang": "zh-Hans", "h1": "距离目标学历的进度"},
        "applications": {"lang": "zh-Hans", "h1": "你的认定申请"},
    }
    assert (seen["violations"], seen["problems"], seen["narrow"]) == ([], [], [])


def test_city_single_sign_on_in_the_browser(
    sso_portal: tuple[ServedPortal, OidcProvider], learner: str
) -> None:
    portal, provider = sso_portal
    provider.person = {"sub": "city-0001", "national_id": LEARNER_ID}
    seen = portal.run("city", name="city-sign-on")
    assert seen["signedIn"] == {"path": "/me", "h1": "Your lifelong learning record",
                                "who": "Signed in as Wang Fang"}
    assert (seen["violations"], seen["problems"]) == ([], [])
