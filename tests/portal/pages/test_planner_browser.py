"""The planner in a real browser (headless Chromium via Playwright, tests/js/journeys/planner.mjs):
a learner searches the catalogue, plans two MOOCs, sees the progress change and compares two
programmes; in English and Chinese, on a desktop and on a phone (390×844, touch), where no page
may scroll sideways."""

from __future__ import annotations

import pytest

from bank.accounts import Accounts
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, RULE_SET, city_bank
from tests.support.browser import ServedPortal
from tests.support.citizen import issue_record
from tests.support.planner import DIPLOMA, planner_bank

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HEADINGS = {"en": "Progress toward a qualification", "zh": "距离目标学历的进度"}
PLANNED = {"en": "planned", "zh": "计划中"}


@pytest.fixture
def learner(runtime: Runtime) -> str:
    """Wang Fang's account (checked in person) with her record, and the MOOC platform's
    catalogue and BJOU's diploma beside the associate programme; her DID."""
    bank = city_bank(runtime)
    planner_bank(bank)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    opened = accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                           activation_code=checked.activation_code)
    issue_record(bank)
    return opened["did"]


@pytest.mark.parametrize(("lang", "device"), [("en", "desktop"), ("zh", "desktop"),
                                              ("en", "phone"), ("zh", "phone")])
def test_a_learner_plans_two_moocs_and_sees_the_progress_change(
    browser_page: ServedPortal, learner: str, lang: str, device: str
) -> None:
    seen = browser_page.run(
        "planner", national_id=LEARNER_ID, password=PASSWORD, programme=f"{DIPLOMA}@1",
        other=f"{RULE_SET}@1", search="MOOC", units=["moocs:MOOC-DATA", "moocs:MOOC-LAW"],
        lang=lang, locale="zh-CN" if lang == "zh" else "en-US", name=f"planner-{lang}-{device}",
        device=device)
    assert seen["heading"] == {"lang": "zh-Hans" if lang == "zh" else "en", "h1": HEADINGS[lang]}
    counted = {item["id"]: item["counted"] for item in seen["before"]}
    assert counted == {"total": "11", "category:general": "4", "category:major": "7",
                       "core": "4"}
    assert seen["found"] == ["moocs:MOOC-DATA", "moocs:MOOC-LAW", "moocs:MOOC-PM"]
    after = {item["id"]: (item["counted"], item["earned"], item["planned"])
             for item in seen["after"]}
    assert after == {"total": ("15", "11", "4"), "category:general": ("8", "4", "4"),
                     "category:major": ("7", None, None), "core": ("4", None, None)}
    assert seen["planned"] == {
        "units": ["moocs:MOOC-DATA", "moocs:MOOC-LAW"], "lines": ["MOOC-DATA", "MOOC-LAW"],
        "tag": PLANNED[lang], "stillSearching": "MOOC",
        "gaps": ["total", "category:major", "core"]}
    assert seen["compared"] == [
        {"programme": f"{DIPLOMA}@1", "now": "11", "withPlan": "15", "missing": "15",
         "complete": "false"},
        {"programme": f"{RULE_SET}@1", "now": "11", "withPlan": "11", "missing": "61",
         "complete": "false"},
    ]
    assert (seen["violations"], seen["problems"], seen["narrow"]) == ([], [], [])
