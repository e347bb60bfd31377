"""Minors: the birth date in a national id, self sign-up refused under 14, accounts an institution
or the centre opens for a child locked until a guardian consents, and a guardian's access ending
on the child's fourteenth birthday (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update

from bank.accounts import Accounts, Opened
from bank.consents import TEXTS, consents_of
from bank.errors import GuardianNeeded
from bank.impact import preview_impact
from bank.minors import (
    age_on,
    birth_date_of,
    birthday,
    guardian_needed,
    guardianship,
    minor,
    today,
    ward,
    wards_of,
)
from bank.tables import guardians, learners
from infra.database import open_database
from infra.errors import Conflict, Forbidden, InvalidInput, NotFound
from issuers.registry import issuer_record
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import PASSWORD, RULE_SET, bearer, city_bank, outcome
from tests.support.citizen import issue_record
from tests.support.impact import new_version, rule_change_bank
from tests.support.minors import born_ago, national_id
from verify import Context

KEY = bytes(32)
HOST = "bank.example"
GUARDIAN_ID = national_id(date(1985, 6, 1), 21)
OTHER_GUARDIAN_ID = national_id(date(1982, 2, 9), 32)


@pytest.fixture
def accounts(database_url: str) -> Accounts:
    """Learner accounts over an empty database with column keys."""
    return Accounts(open_database(database_url, master_key=KEY), master_key=KEY, did_host=HOST)


def guardian_did(accounts: Accounts, national_id_: str = GUARDIAN_ID) -> str:
    """A guardian's DID, as the city's sign-on names them."""
    return accounts.identity(national_id_)[0]


def test_the_birth_date_comes_from_digits_7_to_14_of_a_mainland_id() -> None:
    future = today() + timedelta(days=1)
    assert {
        "plain": birth_date_of("110101199003074514"),
        "check X": birth_date_of("44010619850315001X"),
        "lower x, spaces": birth_date_of(" 11010119900307451x "),
        "wrong check digit": birth_date_of("110101199003074519"),
        "all zeros": birth_date_of("000000000000000000"),
        "17 digits": birth_date_of("00000000000000000"),
        "15-digit old id": birth_date_of("110101900307451"),
        "30 February": birth_date_of("110101199002304514"),
        "born tomorrow": birth_date_of(national_id(future)),
        "before 1900": birth_date_of(national_id(date(1899, 12, 31))),
        "letters": birth_date_of("ABCDEF199003074514"),
    } == {
        "plain": date(1990, 3, 7), "check X": date(1985, 3, 15),
        "lower x, spaces": date(1990, 3, 7), "wrong check digit": date(1990, 3, 7),
        "all zeros": None, "17 digits": None, "15-digit old id": None, "30 February": None,
        "born tomorrow": None, "before 1900": None, "letters": None,
    }


def test_ages_count_whole_years_and_29_february_turns_on_1_march() -> None:
    born = date(2012, 2, 29)
    assert [age_on(date(2010, 5, 5), day) for day in (
        date(2024, 5, 4), date(2024, 5, 5), date(2028, 5, 5))] == [13, 14, 18]
    assert (birthday(born, 14), age_on(born, date(2026, 2, 28)), age_on(born, date(2026, 3, 1))
            ) == (date(2026, 3, 1), 13, 14)
    day = date(2026, 12, 6)
    learners = {name: {"birth_date": value} for name, value in (
        ("child", "2015-01-01"), ("teen", "2010-01-01"), ("adult", "2000-01-01"),
        ("unknown", None))}
    assert {name: (guardian_needed(row, day), minor(row, day))
            for name, row in learners.items()} == {
        "child": (True, True), "teen": (False, True), "adult": (False, False),
        "unknown": (False, False)}


def test_a_child_under_14_cannot_sign_up_alone_and_a_14_year_old_can(
        accounts: Accounts) -> None:
    thirteen = national_id(born_ago(14, days=1), 1)
    fourteen = national_id(born_ago(14), 2)
    with pytest.raises(GuardianNeeded) as refused:
        accounts.open(thirteen, PASSWORD)
    opened = accounts.open(fourteen, PASSWORD)
    stored = accounts.by_did(opened["did"])
    assert (refused.value.status, list(refused.value.errors)) == (403, ["national_id"])
    assert accounts.by_did(accounts.identity(thirteen)[0]) is None
    assert stored is not None and stored["birth_date"] == born_ago(14).isoformat()
    assert accounts.open("000000000000000000", PASSWORD)["activated"] is True


def test_the_birth_date_is_sealed_at_rest(accounts: Accounts) -> None:
    opened = accounts.open(national_id(date(1999, 9, 9), 3), PASSWORD)
    with accounts.engine.connect() as connection:
        raw = connection.execute(text("SELECT birth_date FROM bank_learners WHERE did = :did"),
                                 {"did": opened["did"]}).scalar_one()
    assert "1999-09-09" not in raw
    assert accounts.by_did(opened["did"])["birth_date"] == "1999-09-09"  # type: ignore[index]


def test_a_guardian_opens_a_childs_account_with_their_consent(accounts: Accounts) -> None:
    child = national_id(born_ago(9), 4)
    guardian = guardian_did(accounts)
    opened = accounts.open_for_ward(child, guardian_did=guardian, display_name="小明",
                                    actor="guardian:test")
    learner = accounts.by_did(opened.did)
    assert learner is not None
    with accounts.engine.connect() as connection:
        row = connection.execute(select(guardians)).mappings().one()
    (consent,) = consents_of(accounts.engine, learner["id"]).consents
    assert (learner["opened_by"], learner["display_name"], learner["password_hash"]) == (
        "guardian", "小明", None)
    assert (row["learner_id"], row["guardian_did"], row["consent_id"]) == (
        learner["id"], guardian, consent["id"])
    assert (consent["purpose"], consent["version"], consent["given_by"]) == (
        "guardian", TEXTS["guardian"].version, guardian)
    activated = accounts.open(child, PASSWORD, activation_code=opened.activation_code)
    assert activated["activated"] is True
    assert guardianship(accounts.engine, learner, today()) == {
        "since": row["since"], "until": birthday(born_ago(9), 14), "ended": False}


def test_a_guardian_is_refused_for_a_teenager_an_unknown_id_or_another_guardians_child(
        accounts: Accounts) -> None:
    child = national_id(born_ago(6), 5)
    accounts.open_for_ward(child, guardian_did=guardian_did(accounts), display_name=None,
                           actor="guardian:test")
    refusals = {}
    for name, national, guardian in (
            ("fourteen", national_id(born_ago(14), 6), guardian_did(accounts)),
            ("no date", "000000000000000000", guardian_did(accounts)),
            ("other guardian", child, guardian_did(accounts, OTHER_GUARDIAN_ID))):
        try:
            accounts.open_for_ward(national, guardian_did=guardian, display_name=None,
                                   actor="guardian:test")
        except (InvalidInput, Conflict) as error:
            refusals[name] = (error.status, list(error.errors))
    assert refusals == {"fourteen": (422, ["national_id"]), "no date": (422, ["national_id"]),
                        "other guardian": (409, ["national_id"])}
    again = accounts.open_for_ward(child, guardian_did=guardian_did(accounts),
                                   display_name=None, actor="guardian:test")
    accounts.open(child, PASSWORD, activation_code=again.activation_code)
    with pytest.raises(Conflict):
        accounts.open_for_ward(child, guardian_did=guardian_did(accounts), display_name=None,
                               actor="guardian:test")


def test_the_guardians_access_ends_on_the_fourteenth_birthday(accounts: Accounts) -> None:
    guardian = guardian_did(accounts)
    turns_tomorrow = national_id(born_ago(14, days=1), 7)
    young = national_id(born_ago(10), 8)
    ids = {}
    for national in (turns_tomorrow, young):
        ids[national] = accounts.by_did(accounts.open_for_ward(
            national, guardian_did=guardian, display_name=None, actor="guardian:test").did)["id"]
    tomorrow = today() + timedelta(days=1)
    assert [item["learner"]["id"] for item in wards_of(accounts.engine, guardian, today())] == [
        ids[turns_tomorrow], ids[young]]
    assert [item["learner"]["id"] for item in wards_of(accounts.engine, guardian, tomorrow)] == [
        ids[young]]
    assert ward(accounts.engine, guardian, ids[turns_tomorrow], today())["id"] == ids[
        turns_tomorrow]
    with pytest.raises(Forbidden):
        ward(accounts.engine, guardian, ids[turns_tomorrow], tomorrow)
    with pytest.raises(NotFound):
        ward(accounts.engine, guardian_did(accounts, OTHER_GUARDIAN_ID), ids[young], today())
    learner = accounts.by_id(ids[turns_tomorrow])
    assert learner is not None
    assert guardianship(accounts.engine, learner, tomorrow)["ended"] is True  # type: ignore[index]


def bulk_and_centre(runtime: Runtime) -> tuple[Accounts, dict[str, str], dict[str, Opened]]:
    """A child HDVC issued to and opened in bulk, and one the centre checked in person: their
    national ids and what opening them answered, by who opened them."""
    bank = city_bank(runtime)
    children = {"hdvc": national_id(born_ago(12), 9), "centre": national_id(born_ago(11), 10)}
    bank.issue("hdvc", [outcome("MATH110", "B", national_id=children["hdvc"])])
    accounts = runtime.accounts
    opened = {"hdvc": accounts.open_in_bulk("hdvc", [children["hdvc"]],
                                            actor="institution:hdvc")[0],
              "centre": accounts.check_in_person(children["centre"], operator="ops",
                                                 actor="operator:ops")}
    return accounts, children, opened


def test_a_child_opened_in_bulk_or_at_the_centre_waits_for_a_guardian(runtime: Runtime) -> None:
    accounts, children, opened = bulk_and_centre(runtime)
    codes = {opener: item.activation_code for opener, item in opened.items()}
    assert {opener: item.to_json()["guardian_needed"] for opener, item in opened.items()} == {
        "hdvc": True, "centre": True}
    refused = {}
    for opener, national in children.items():
        learner = accounts.by_did(accounts.identity(national)[0])
        assert learner is not None and guardian_needed(learner, today())
        try:
            accounts.open(national, PASSWORD, activation_code=codes[opener])
        except GuardianNeeded as error:
            refused[opener] = list(error.errors)
    assert refused == {"hdvc": ["national_id"], "centre": ["national_id"]}
    guardian_codes = {opener: accounts.open_for_ward(
        national, guardian_did=guardian_did(accounts), display_name=None,
        actor="guardian:test").activation_code for opener, national in children.items()}
    activated = {
        "hdvc with its own code": accounts.open(children["hdvc"], PASSWORD,
                                                activation_code=codes["hdvc"]),
        "centre with the guardian's": accounts.open(children["centre"], PASSWORD,
                                                    activation_code=guardian_codes["centre"])}
    assert {name: account["activated"] for name, account in activated.items()} == {
        "hdvc with its own code": True, "centre with the guardian's": True}
    again = accounts.open_in_bulk("hdvc", [children["hdvc"]], actor="institution:hdvc")
    assert again[0].guardian_needed is False


def test_a_rule_impact_lists_no_minor_the_institution_does_not_review(runtime: Runtime) -> None:
    bank = rule_change_bank(runtime)
    with runtime.engine.begin() as connection:
        connection.execute(update(learners).values(birth_date=born_ago(16).isoformat()))
    summary = preview_impact(runtime.engine, ChainView(runtime.ledger), Context(runtime.view),
                             issuer_record(runtime.engine, "bjou"), new_version(bank),
                             master_key=runtime.settings.master_key())
    assert [sorted(set(item) & {"application", "pseudonym"}) for item in summary["learners"]] == [
        ["application"]]
    assert (summary["minors_withheld"], summary["totals"]["affected"]) == (1, 2)


def test_an_institution_reads_a_minors_application_only_while_reviewing_it(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    institution = bearer(bank.tokens["bjou"])
    statuses = {}
    for name, national in (("teen", national_id(born_ago(16), 19)),
                           ("adult", national_id(born_ago(30), 20))):
        issue_record(bank, national)
        learner = bank.open_account(national)
        application = bank.client.post("/api/v1/applications", headers=learner, json={
            "rule_set_id": RULE_SET, "version": 1}).json["id"]
        path = f"/api/v1/applications/{application}"
        reviewing = bank.client.get(path, headers=institution).status_code
        assert bank.client.post(f"{path}/first-review", headers=institution,
                                json={"verdict": "approve"}).status_code == 200
        statuses[name] = (reviewing, bank.client.get(path, headers=institution).status_code,
                          bank.client.get(path, headers=learner).status_code)
    assert statuses == {"teen": (200, 403, 200), "adult": (200, 200, 200)}
