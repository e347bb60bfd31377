"""The consents and corrections pages in a real browser (Chromium), in English on a desktop and
in Chinese on a phone: the learner reads the words she agreed to, withdraws her e-mail consent
and asks the issuer of a credential to correct it; every page fits a phone and passes axe."""

from __future__ import annotations

import pytest

from bank.accounts import Accounts
from bank.consents import TEXTS
from bank.notices import preferences_of, save_preferences
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, PASSWORD, city_bank, outcome
from tests.support.browser import ServedPortal

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(("lang", "device"), [("en", "desktop"), ("zh", "phone")])
def test_a_learner_withdraws_a_consent_and_asks_for_a_correction(
        browser_page: ServedPortal, runtime: Runtime, lang: str, device: str) -> None:
    bank = city_bank(runtime)
    accounts = Accounts.of(runtime.engine, runtime.settings)
    checked = accounts.check_in_person(LEARNER_ID, operator="city-centre",
                                       actor="operator:city-centre")
    opened = accounts.open(LEARNER_ID, PASSWORD, display_name="Wang Fang",
                           activation_code=checked.activation_code)
    save_preferences(runtime.engine, opened["id"], email="wang.fang@example.cn",
                     kinds=["decision_made"])
    [credential] = bank.issue("hdvc", [outcome("WH110", "B")])
    seen = browser_page.run("corrections", national_id=LEARNER_ID, password=PASSWORD,
                            credential=credential, lang=lang, device=device,
                            name=f"corrections-{lang}-{device}")
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
    assert seen["listed"] == [["email-notices", "given"], ["account", "given"]]
    assert seen["words"] == (TEXTS["account"].zh if lang == "zh" else TEXTS["account"].en)
    assert seen["withdrawn"] == {"status": "withdrawn", "done": True}
    assert seen["asked"] == {"sent": True, "statuses": ["open"]}
    assert preferences_of(runtime.engine, opened["id"]).email is None
