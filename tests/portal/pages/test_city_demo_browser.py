"""The city demo in a real browser (headless Chromium via Playwright, tests/js/journeys): over a
small city seeded once by `bank.city` (five institutions, one of each kind, 100 learners, ten
years), the operator's statistics show every year of the bank, learners joining in each, and
the learner with the long record pages through it; in English, in Chinese and on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bank.city import (
    FEATURED,
    LEARNER_PASSWORD,
    OPERATOR_USER,
    STAFF_PASSWORD,
    CityPlan,
    national_id,
)
from issuers.learners import learner_pepper, learner_ref
from issuers.tables import credentials
from portal.app import create_app
from tests.support.browser import ServedPortal, require_browser
from tests.support.runtimes import seeded_bank

pytestmark = pytest.mark.slow

PLAN = CityPlan(learners=100, credentials=600, years=10, institutions=5, seed=11)


@dataclass
class CityPortal:
    """The served city and what its database says the pages must show."""

    served: ServedPortal
    years: list[str]
    record: int


@pytest.fixture(scope="module")
def city(request: pytest.FixtureRequest) -> Iterator[CityPortal]:
    """The small city served on 127.0.0.1, seeded once for this module."""
    require_browser()
    with seeded_bank(request, "city-demo", plan=PLAN) as runtime:
        pepper = learner_pepper(runtime.settings.master_key())
        featured = learner_ref(national_id(FEATURED), pepper, runtime.settings.did_host).did
        with runtime.engine.connect() as connection:
            first, last = connection.execute(select(
                func.min(credentials.c.issued_at), func.max(credentials.c.issued_at))).one()
            record = connection.execute(select(func.count()).where(
                credentials.c.learner_did == featured)).scalar_one()
        years = [str(year) for year in range(datetime.fromtimestamp(first, UTC).year,
                                              datetime.fromtimestamp(last, UTC).year + 1)]
        with ServedPortal(create_app(runtime)) as served:
            served.national_ids.add(national_id(FEATURED))
            yield CityPortal(served, years, record)


@pytest.mark.parametrize(("lang", "device"), [("en", "desktop"), ("zh", "desktop"),
                                              ("en", "phone")])
def test_the_operator_sees_ten_years_and_a_learner_pages_through_a_long_record(
        city: CityPortal, lang: str, device: str) -> None:
    """The yearly charts come with H6's statistics and the record's pages with H5's record
    page; the Chinese run waits for the translations to merge."""
    seen = city.served.run("city_demo", operator=OPERATOR_USER, staff_password=STAFF_PASSWORD,
                           national_id=national_id(FEATURED), password=LEARNER_PASSWORD,
                           lang=lang, device=device, name=f"city-demo-{lang}-{device}")
    html_lang = "zh-Hans" if lang == "zh" else "en"
    statistics = seen["statistics"]
    assert (statistics["lang"], statistics["credentials"][0], statistics["credentials"][-1]) == (
        html_lang, city.years[0], city.years[-1])
    assert (len(city.years) in (10, 11), statistics["credentials"], statistics["bars"]) == (
        True, city.years, len(city.years))
    joined = [year for year, count in statistics["accounts"] if count != "0"]
    assert (len(joined) >= 10, set(joined) <= set(city.years)) == (True, True)
    record = seen["record"]
    pages = record["pages"]
    refs = [ref for page in pages for ref in page]
    assert city.record >= 120
    assert (record["lang"], len(pages) > 1, record["last_has_next"]) == (html_lang, True, False)
    assert (len(refs), len(set(refs))) == (city.record, city.record)
    assert record["back"] == pages[-2]
    assert (seen["violations"], seen["narrow"], seen["problems"]) == ([], [], [])
