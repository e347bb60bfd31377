"""The notices journey in a real browser (Chromium), in English on a desktop and in Chinese on a
phone: the learner chooses to get "decision made" by e-mail, the city centre decides while she
waits, and the notice arrives in her inbox and, through the tests' SMTP server, by e-mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bank.accounts import Accounts
from bank.notices import preferences_of, work_once
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, RULE_SET, Bank, bearer, city_bank
from tests.support.browser import ServedPortal
from tests.support.citizen import issue_record
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ADDRESS = "wang.fang@example.cn"
WAIT_SECONDS = 40.0


@pytest.fixture
def applied(runtime: Runtime) -> tuple[Bank, str, str]:
    """Wang Fang's account and record, and her application past the first review: the bank,
    her account id and the application's id."""
    bank = city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    opened = accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                           activation_code=checked.activation_code)
    issue_record(bank)
    application = bank.client.post("/api/v1/applications", headers=bank.log_in(LEARNER_ID),
                                   json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    assert bank.client.post(f"/api/v1/applications/{application}/first-review",
                            headers=bearer(bank.tokens["bjou"]),
                            json={"verdict": "approve"}).status_code == 200
    return bank, opened["id"], application


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """The tests' SMTP server."""
    with SmtpServer() as server:
        yield server


def decide_when_chosen(bank: Bank, learner_id: str, application: str, portal: ServedPortal,
                       smtp: SmtpServer, stop: threading.Event) -> None:
    """The city centre: once the learner chose "decision made" by e-mail, run the bank's notice
    step (it notices her record's deliveries), decide her application, and run it again (it
    e-mails the decision), so the inbox holds the deliveries before the decision shows."""
    runtime = bank.runtime
    while not stop.wait(0.2):
        if "decision_made" in preferences_of(runtime.engine, learner_id).kinds:
            settings = replace(runtime.settings, public_url=portal.url, smtp_url=smtp.url,
                               mail_from="notices@bank.example.cn")
            work_once(runtime.engine, settings)
            bank.client.post(f"/api/v1/applications/{application}/second-review",
                             headers=bearer(bank.operator), json={"verdict": "approve"})
            work_once(runtime.engine, settings)
            return


@pytest.mark.parametrize(("lang", "device", "texts"), [
    ("en", "desktop", ("New Your application was decided",
                       "Your application for Associate in Logistics Management was decided: "
                       "granted, 11 credits.", "Notices")),
    ("zh", "phone", ("新 你的认定申请已有决定",
                     "你申请认定的“Associate in Logistics Management”已作出决定："
                     "准予认定，11学分。",
                     "通知")),
])
def test_a_decision_notice_arrives_in_the_inbox_and_by_email(
        browser_page: ServedPortal, applied: tuple[Bank, str, str], smtp: SmtpServer,
        lang: str, device: str, texts: tuple[str, str, str]) -> None:
    bank, learner_id, application = applied
    stop = threading.Event()
    centre = threading.Thread(target=decide_when_chosen, args=(
        bank, learner_id, application, browser_page, smtp, stop), daemon=True)
    centre.start()
    try:
        seen = browser_page.run("notices", national_id=LEARNER_ID, password=PASSWORD,
                                email=ADDRESS, lang=lang, device=device,
                                name=f"notices-{lang}-{device}")
    finally:
        stop.set()
        centre.join(WAIT_SECONDS)
    title, text, heading = texts
    assert seen["saved"]["email"] == ADDRESS and seen["saved"]["kinds"] == ["decision_made"]
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
    link = f"/me/applications/{application}"
    # unread: the decision, and the five credentials of her record the same step noticed
    assert seen["inbox"] == {"h1": heading, "unread": "6", "title": title, "text": text,
                             "link": link, "isNew": True}
    assert seen["opened"]["path"] == link
    assert seen["after"] == {"unread": 0, "counted": False}
    (mail,) = smtp.received()
    assert (mail["To"], mail["Subject"]) == (
        ADDRESS, "你的认定申请已有决定 / Your application was decided")
    assert f"{browser_page.url}{link}" in mail.get_content()
    assert LEARNER_ID not in mail.as_string()
