"""The visitor's journey in a real browser (headless Chromium via Playwright, tests/js/journeys):
with no account, from the home page to the transfer guide, a catalogue search for a certificate,
the pick, and every programme ranked Match, Maybe and Miss; in English, in Chinese and on a
phone, over the demo bank."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bank.seed import COMMERCE_DIPLOMA, LOGISTICS_DIPLOMA, POPULAR_CERTIFICATE, RULE_SET
from portal.app import create_app
from tests.support.browser import ServedPortal, require_browser
from tests.support.runtimes import seeded_bank

pytestmark = pytest.mark.slow

RANKING = [
    {"programme": RULE_SET, "class": "match", "match": "8", "maybe": "0", "lines": [
        ["match", "8", "The certificate earns credits from the published table. (major)"]]},
    {"programme": LOGISTICS_DIPLOMA, "class": "maybe", "match": "0", "maybe": "6", "lines": [
        ["maybe", "6", "The certificate earns credits from the published table. It counts only "
                       "with a grade on the pass-fail scale that meets the rule; a reviewer "
                       "checks it. (major)"]]},
    {"programme": COMMERCE_DIPLOMA, "class": "miss", "match": "0", "maybe": "0", "lines": [
        ["miss", "0", "No rule of this programme recognises this learning."]]},
]
LABELS = {"en": ["Match", "Maybe", "Miss"], "zh": ["符合", "可能", "不符合"]}


@pytest.fixture(scope="module")
def portal(request: pytest.FixtureRequest) -> Iterator[ServedPortal]:
    """The demo bank served on 127.0.0.1, once for this module."""
    require_browser()
    with seeded_bank(request, "visitor") as runtime, ServedPortal(create_app(runtime)) as served:
        yield served


@pytest.mark.parametrize(("lang", "device"), [("en", "desktop"), ("zh", "desktop"),
                                              ("en", "phone")])
def test_a_visitor_finds_a_certificate_in_the_guide_and_sees_match_maybe_and_miss(
        portal: ServedPortal, lang: str, device: str) -> None:
    """The Chinese run waits for the translations of the public pages (A2.po) to merge."""
    seen = portal.run("guide", search="物流服务师", kind="certificate", unit=POPULAR_CERTIFICATE,
                      lang=lang, device=device, name=f"visitor-{lang}-{device}")
    html_lang = "zh-Hans" if lang == "zh" else "en"
    assert (seen["home"]["lang"], seen["guide"]["lang"]) == (html_lang, html_lang)
    assert seen["guide"]["h1"] == {"en": "Transfer guide", "zh": "学分转换指南"}[lang]
    assert seen["results"] == [POPULAR_CERTIFICATE]
    assert (seen["picked"]["picks"], seen["picked"]["share"].endswith(
        "/guide?unit=bjskills:CERT-LOGI-4")) == ([POPULAR_CERTIFICATE], True)
    ranking = seen["ranking"]
    assert [item["label"] for item in ranking] == LABELS[lang]
    assert [{key: item[key] for key in ("programme", "class", "match", "maybe")}
            for item in ranking] == [
        {key: item[key] for key in ("programme", "class", "match", "maybe")} for item in RANKING]
    if lang == "en":
        assert [item["lines"] for item in ranking] == [item["lines"] for item in RANKING]
    assert (seen["programme"]["h1"], seen["programme"]["rules"]) == (
        "物流管理（本科）Logistics Management, Bachelor", 10)
    assert (len(seen["catalogue"]), POPULAR_CERTIFICATE in seen["catalogue"],
            seen["institution"]) == (6, True, 1)
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
