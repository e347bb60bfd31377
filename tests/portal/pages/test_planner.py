"""The planner on the progress page over the Flask test client: searching the catalogue, adding
and removing planned units (303 back to the page), the what-if bars and planned lines, the gaps
with their "Add to plan" buttons, programmes compared, and the form errors (4xx, never a 500)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from bank.tables import MAX_PLANNED_UNITS
from issuers.catalogue import add_units
from issuers.registry import issuer_record
from portal.runtime import Runtime
from tests.support.bank import RULE_SET, Bank, city_bank, unit
from tests.support.citizen import issue_record, sign_up
from tests.support.planner import DIPLOMA, planner_bank
from tests.support.portal import form_token

ASSOCIATE = f"{RULE_SET}@1"
DIPLOMA_V1 = f"{DIPLOMA}@1"


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """Wang Fang signed up with her record issued, aiming at the diploma."""
    city = city_bank(runtime)
    planner_bank(city)
    sign_up(city.client)
    issue_record(city)
    chosen = city.client.post("/me/progress", data={
        "csrf_token": form_token(city.client, "/me/progress"), "programme": DIPLOMA_V1})
    assert chosen.status_code == 303
    return city


def page(client: FlaskClient, query: str = "") -> tuple[int, str]:
    """The progress page's status and HTML."""
    response = client.get(f"/me/progress{query}")
    return response.status_code, response.get_data(as_text=True)


def post(client: FlaskClient, path: str, **form: object) -> tuple[int, str | None, str]:
    """Post a planner form with this session's CSRF token: status, Location and HTML."""
    response = client.post(path, data={"csrf_token": form_token(client, "/me/progress"),
                                       **form})
    return response.status_code, response.headers.get("Location"), response.get_data(
        as_text=True)


def values(html: str, name: str) -> list[str]:
    """Every value of a data attribute, in order."""
    return re.findall(rf'{name}="([^"]*)"', html)


def bars(html: str) -> list[tuple[str, ...]]:
    """Each requirement: id, counted (with the plan), required, and earned/planned if shown."""
    return re.findall(r'data-requirement="([^"]+)" data-counted="([^"]+)" '
                      r'data-required="([^"]+)"(?: data-earned="([^"]+)" '
                      r'data-planned="([^"]+)")?', html)


def test_searching_and_adding_two_moocs_shows_what_they_change(bank: Bank) -> None:
    client = bank.client
    status, before = page(client, "?q=mooc")
    assert (status, values(before, "data-result")) == (
        200, ["moocs:MOOC-DATA", "moocs:MOOC-LAW", "moocs:MOOC-PM"])
    assert values(before, "data-add")[-3:] == values(before, "data-result")
    assert bars(before) == [("total", "11", "30", "", ""), ("category:general", "4", "6", "", ""),
                            ("category:major", "7", "12", "", ""), ("core", "4", "8", "", "")]
    assert values(before, "data-planned-unit") == []
    for ref in ("moocs:MOOC-DATA", "moocs:MOOC-LAW"):
        added = post(client, "/me/plan", unit=ref, q="mooc", compare=[DIPLOMA_V1, ASSOCIATE])
        assert added[:2] == (303, f"/me/progress?compare={DIPLOMA_V1}&compare={ASSOCIATE}"
                                  "&q=mooc#plan")
    _status, after = page(client, "?q=mooc")
    assert bars(after) == [("total", "15", "30", "11", "4"),
                           ("category:general", "8", "6", "4", "4"),
                           ("category:major", "7", "12", "", ""), ("core", "4", "8", "", "")]
    assert values(after, "data-planned-unit") == ["moocs:MOOC-DATA", "moocs:MOOC-LAW"]
    assert after.count("data-planned-line") == 2
    assert values(after, "data-add")[-1:] == ["moocs:MOOC-PM"]
    assert values(after, "data-gap") == ["total", "category:major", "core"]
    assert values(after, "data-filler")[:4] == ["bjou:LOG210", "hdvc:ACC110", "hdvc:ENG110",
                                                "moocs:MOOC-PM"]
    removed = post(client, "/me/plan/remove", unit="moocs:MOOC-DATA")
    assert removed[:2] == (303, "/me/progress#plan")
    assert values(page(client)[1], "data-planned-unit") == ["moocs:MOOC-LAW"]


def test_a_gap_filler_is_added_with_its_button_and_fills_the_gap(bank: Bank) -> None:
    client = bank.client
    assert post(client, "/me/plan", unit="bjou:LOG210")[0] == 303
    _status, html = page(client)
    assert bars(html)[2:] == [("category:major", "11", "12", "7", "4"),
                              ("core", "8", "8", "4", "4")]
    assert values(html, "data-gap") == ["total", "category:general", "category:major"]


def test_the_associate_refuses_ungraded_moocs_with_a_reason_the_learner_understands(
    bank: Bank,
) -> None:
    client = bank.client
    post(client, "/me/plan", unit="moocs:MOOC-DATA")
    _status, html = page(client, f"?compare={ASSOCIATE}&compare={DIPLOMA_V1}")
    rows = re.findall(r'data-programme="([^"]+)".*?data-now>([^<]+)<.*?data-with-plan>([^<]+)<'
                      r'.*?data-missing>([^<]+)<.*?data-complete="(\w+)"', html, re.S)
    assert rows == [(DIPLOMA_V1, "11", "13", "17", "false"),
                    (ASSOCIATE, "11", "11", "61", "false")]
    chosen = post(client, "/me/progress", programme=ASSOCIATE)
    assert chosen[0] == 303
    _status, html = page(client)
    assert "It needs a grade on the percent scale" in html
    assert html.count("data-planned-refusal") == 1


def test_bad_planner_input_is_a_form_error_never_a_500(bank: Bank) -> None:
    client = bank.client
    answers = {
        "unknown unit": post(client, "/me/plan", unit="moocs:NOPE"),
        "not a reference": post(client, "/me/plan", unit="MOOC-DATA"),
        "no unit": post(client, "/me/plan"),
        "not planned": post(client, "/me/plan/remove", unit="moocs:MOOC-DATA"),
    }
    assert {name: answer[0] for name, answer in answers.items()} == {
        "unknown unit": 404, "not a reference": 422, "no unit": 422, "not planned": 404}
    assert all('class="error-summary"' in answer[2] for answer in answers.values())
    assert "There is no such unit in the catalogue." in answers["unknown unit"][2]
    four = "&".join(f"compare={value}" for value in (ASSOCIATE, DIPLOMA_V1, "bjou:X@1",
                                                      "hdvc:Y@1"))
    pages = {query: page(client, query) for query in (
        f"?{four}", "?compare=bjou:NOPE@1", "?compare=nonsense", "?kind=spaceship",
        "?q=" + "x" * 101)}
    assert {query: status for query, (status, _html) in pages.items()} == dict.fromkeys(
        pages, 400)
    assert "Choose up to three of the approved programmes to compare." in pages[f"?{four}"][1]
    forged = client.post("/me/plan", data={"unit": "moocs:MOOC-DATA"})
    assert forged.status_code == 400
    assert values(page(client)[1], "data-planned-unit") == []


def test_the_planner_is_the_signed_in_learners_own(bank: Bank, runtime: Runtime) -> None:
    stranger = bank.client.application.test_client()
    token = form_token(stranger, "/sign-in")
    answer = stranger.post("/me/plan", data={"csrf_token": token, "unit": "moocs:MOOC-DATA"})
    assert (answer.status_code, answer.headers["Location"].split("?")[0]) == (302, "/sign-in")
    assert values(page(bank.client)[1], "data-planned-unit") == []


def test_a_full_plan_says_so_on_the_page(bank: Bank, runtime: Runtime) -> None:
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, "moocs"),
                  [unit(f"MOOC-{index:02d}", f"MOOC {index}", "mooc", 1)
                   for index in range(MAX_PLANNED_UNITS)])
    for index in range(MAX_PLANNED_UNITS):
        assert post(bank.client, "/me/plan", unit=f"moocs:MOOC-{index:02d}")[0] == 303
    status, _location, html = post(bank.client, "/me/plan", unit="moocs:MOOC-DATA")
    assert (status, "Your plan holds at most 30 units: remove one first." in html) == (409, True)
    assert len(values(html, "data-planned-unit")) == MAX_PLANNED_UNITS
