"""The visitor's journey in a real browser (headless Chromium via Playwright, tests/js/journeys):
with no account, from the home page to the transfer guide, a catalogue search for a certificate,
the pick, and every programme ranked Match, Maybe and Miss; in English, in Chinese and on a
phone, over the demo bank."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bank.seed import COMMERCE_DIPLOMA, LOGISTICS_DIPLOMA, POPULAR_CERTIFICATE, RULE_SET, seed_demo
from infra.settings import Settings
from ledger.genesis import initialise
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.browser import ServedPortal, in_ci, missing_browser

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
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPortal]:
    """The demo bank served on 127.0.0.1, once for this module."""
    reason = missing_browser()
    if reason is not None:
        pytest.fail(reason) if in_ci() else pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("visitor") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CREDITBANK_MASTER_KEY", raising=False)
        initialise(data_dir)
        settings = Settings(data_dir=data_dir, block_period=0.05,
                            database_url=f"sqlite:///{data_dir.parent / 'creditbank.sqlite'}")
        with Runtime(settings) as runtime:
            seed_demo(runtime.engine, runtime.chain, settings=runtime.settings)
            with ServedPortal(create_app(runtime)) as served:
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
