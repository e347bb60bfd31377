"""A learner's pre-approval in a real browser (headless Chromium, tests/js/journeys/agreement.mjs):
the learner asks from the planner for a pre-approval of planned units, the institution's reviewer
approves it in the console, the learner sees the signed agreement, the institution issues the
units, the learner applies under the agreement, the reviews decide and the decision shows the
agreement honoured. In English on a desktop, in Chinese on a phone (390×844, touch), where no
learner page may scroll sideways."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bank.accounts import Accounts
from bank.applications import SUBMITTED, choose_target, first_review, second_review
from bank.planner import add_to_plan
from bank.staff import add_staff
from bank.tables import agreements, applications
from issuers.tables import credentials
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, RULE_SET, Bank, city_bank, outcome
from tests.support.browser import ServedPortal

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REVIEWER = "bjou-registrar"
REVIEWER_PASSWORD = "registrar password 1"
PLANNED = ("hdvc:WH110", "hdvc:MATH110")
POLL_SECONDS = 0.2


class Institutions(threading.Thread):
    """What happens off the browser while the journey runs: once the agreement is approved, its
    batch is anchored and the college issues the planned units (anchored too); once the learner
    applies, the institution and the city centre review and decide."""

    def __init__(self, bank: Bank) -> None:
        super().__init__(daemon=True)
        self.bank, self.stop = bank, threading.Event()
        self.error: Exception | None = None
        self.issued = self.decided = False

    def run(self) -> None:
        try:
            while not self.stop.wait(POLL_SECONDS) and not self.decided:
                self.step()
        except Exception as error:  # reported by the test, not lost in the thread
            self.error = error

    def step(self) -> None:
        engine = self.bank.runtime.engine
        with engine.connect() as connection:
            approved = connection.execute(select(agreements.c.credential_id).where(
                agreements.c.status == "approved")).scalar()
            submitted = connection.execute(select(applications.c.id).where(
                applications.c.status == SUBMITTED)).scalar()
            batch = connection.execute(select(credentials.c.batch_id).where(
                credentials.c.id == approved)).scalar() if approved else None
        if batch is not None and not self.issued:
            self.bank.worker.drain({batch})
            self.bank.issue("hdvc", [outcome("WH110", "B"), outcome("MATH110", "A")])
            self.issued = True
        if submitted is not None:
            first_review(engine, submitted, "bjou", verdict="approve", reasons=[])
            second_review(engine, submitted, "city-centre", verdict="approve", reasons=[])
            self.decided = True


@pytest.fixture
def institutions(runtime: Runtime) -> Iterator[Institutions]:
    """Wang Fang (proven at the centre) aims at BJOU's programme with two college units planned;
    BJOU's reviewer has a console account; the institutions act in a background thread."""
    bank = city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                  activation_code=checked.activation_code)
    learner = accounts.by_did(accounts.identity(LEARNER_ID)[0])
    assert learner is not None
    choose_target(runtime.engine, ChainView(runtime.ledger), learner, RULE_SET, 1)
    for ref in PLANNED:
        add_to_plan(runtime.engine, learner, ref)
    add_staff(runtime.engine, REVIEWER, role="institution", issuer_id="bjou", actor="cli:test",
              password=REVIEWER_PASSWORD)
    acting = Institutions(bank)
    acting.start()
    yield acting
    acting.stop.set()
    acting.join(30)


@pytest.mark.parametrize(("device", "locale"), [("desktop", "en-US"), ("phone", "zh-CN")])
def test_a_learner_obtains_a_pre_approval_and_the_decision_honours_it(
    browser_page: ServedPortal, institutions: Institutions, device: str, locale: str
) -> None:
    complete_by = (datetime.now(UTC).date() + timedelta(days=120)).isoformat()
    seen = browser_page.run("agreement", national_id=LEARNER_ID, password=PASSWORD,
                            reviewer=REVIEWER, reviewer_password=REVIEWER_PASSWORD,
                            complete_by=complete_by, name=f"agreement-{device}", device=device,
                            locale=locale)
    assert institutions.error is None, institutions.error
    assert seen["asked"] == {"status": "requested", "credits": "7",
                             "units": list(PLANNED)}
    assert seen["console"]["waiting"] == 1
    assert seen["signed"] == {"status": "approved", "credential": "anchored", "apply": True}
    assert seen["decision"] == {"verdict": "granted", "honoured": "2", "unmet": "0"}
    if locale == "zh-CN":
        assert seen["headings"] == {"agreement": "Associate in Logistics Management",
                                    "list": "预先认定",
                                    "console": "预先认定", "lang": "zh-Hans"}
    else:
        assert seen["headings"] == {"agreement": "Associate in Logistics Management",
                                    "list": "Pre-approvals", "console": "Pre-approvals",
                                    "lang": "en"}
    assert (seen["violations"], seen["problems"], seen["narrow"]) == ([], [], [])
