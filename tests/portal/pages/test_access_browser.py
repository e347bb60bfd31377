"""The "who looked at my record" journey in a real browser (Chromium), on a phone: the learner
reaches the access log from her data hub, sees who read her application and why, and pages back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bank.access import Reader, log_read
from bank.accounts import Accounts
from bank.tables import learners
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, city_bank
from tests.support.browser import ServedPortal

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_learner_sees_who_looked_at_her_record_on_a_phone(
        browser_page: ServedPortal, runtime: Runtime) -> None:
    city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="wu", actor="operator:wu")
    accounts.open(LEARNER_ID, PASSWORD, activation_code=checked.activation_code)
    with runtime.engine.begin() as connection:
        learner_id = connection.execute(select(learners.c.id)).scalar_one()
        log_read(connection, Reader("operator:wu", "centre"), learner_id=learner_id,
                 what="deposit", object_id="d-1", purpose="deposit-check")
        for _ in range(20):
            log_read(connection, Reader("institution:li", "bjou"), learner_id=learner_id,
                     what="application", object_id="a-1", purpose="first-review")
    seen = browser_page.run("access", national_id=LEARNER_ID, password=PASSWORD, lang="en",
                            device="phone", name="access-en-phone")
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
    assert (seen["first"]["h1"], len(seen["first"]["rows"]), seen["first"]["older"]) == (
        "Who looked at my record", 20, True)
    assert seen["first"]["rows"][0]["cells"][1:] == [
        "Beijing Open University (li)", "Application",
        "the institution's review of your application"]
    assert seen["first"]["rows"][0]["link"] == "/me/applications/a-1"
    assert [(row["purpose"], row["cells"][1:]) for row in seen["second"]["rows"]] == [
        ("deposit-check", ["the city learning centre (wu)", "Deposit",
                           "checking a credential you deposited"])]
    assert seen["second"]["older"] is False
