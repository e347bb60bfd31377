"""An institution sees the impact of a rule change before publishing it, in a real browser
(headless Chromium via Playwright, tests/js/journeys/impact.mjs), in English and Chinese."""

from __future__ import annotations

import json

import pytest

from bank.staff import add_staff
from portal.runtime import Runtime
from tests.support.bank import RULE_SET
from tests.support.browser import ServedPortal
from tests.support.impact import new_version, rule_change_bank

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "staff password 1"
HEADINGS = {
    "en": ("en", "Conversion rules", "Impact of version 3", f"Impact of version 3 of {RULE_SET}"),
    "zh": ("zh-Hans", "转换规则", "第 3 版的影响", f"{RULE_SET} 第 3 版的影响"),
}


@pytest.fixture
def document(runtime: Runtime) -> str:
    """The rule-change bank with BJOU's reviewer; version 3 as the reviewer pastes it."""
    bank = rule_change_bank(runtime)
    add_staff(runtime.engine, "bjou-reviewer", role="institution", issuer_id="bjou",
              actor="cli:operator", password=PASSWORD)
    return json.dumps(new_version(bank), ensure_ascii=False, indent=2)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_institution_sees_who_gains_or_loses_before_publishing(
    browser_page: ServedPortal, document: str, language: str
) -> None:
    seen = browser_page.run("impact", institution="bjou-reviewer", password=PASSWORD,
                            document=document, language=language, name=f"impact-{language}")
    lang, h1, title, kept_h1 = HEADINGS[language]
    preview, kept = seen["preview"], seen["kept"]
    assert (preview["lang"], preview["h1"], preview["title"]) == (lang, h1, title)
    assert preview["totals"] == {
        "audited": "3", "affected": "2", "gaining": "1", "losing": "1", "credits_gained": "3",
        "credits_lost": "3", "requirements_met": "0", "requirements_unmet": "0"}
    assert [(item["change"], item["cells"][-1]) for item in preview["learners"]] == [
        ("-3", "−3"), ("3", "+3")]
    assert [(item["effect"], item["cells"][1], item["cells"][-1])
            for item in preview["lines"]] == [("loses", "ACC110", "−3"), ("gains", "ENG110", "+3")]
    assert preview["learners"][1]["cells"][0].split()[-1] == (
        preview["lines"][1]["cells"][0].split()[-1])
    assert "hdvc-accounting" in preview["lines"][0]["cells"][2]
    assert "hdvc-general" in preview["lines"][1]["cells"][3]
    assert (seen["path"], kept["h1"], kept["totals"], kept["lines"]) == (
        f"/institution/rules/{RULE_SET}/3/impact", kept_h1, preview["totals"], preview["lines"])
    assert kept["notice"] is not None and seen["listed"] == 1
    assert (seen["violations"], seen["problems"]) == ([], [])
