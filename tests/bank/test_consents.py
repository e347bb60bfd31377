"""Consents on both databases: each purpose is given where the learner agrees (opening the
account, applying, setting an e-mail address), recorded with its text's version, withdrawn with
its effect, and audited without personal details."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import insert, select

from bank.applications import application_json, application_row
from bank.consents import (
    BEFORE_RECORDS,
    TEXTS,
    consents_of,
    give,
    holds,
    withdraw,
)
from bank.notices import notify, preferences_of, save_preferences
from bank.tables import applications, consents, learners, notices
from infra.audit import audit_log
from infra.database import open_engine
from infra.errors import Conflict, InvalidInput, NotFound
from infra.schema import upgrade
from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, RULE_SET, Bank, bearer, city_bank, outcome

ADDRESS = "wang.fang@example.cn"


def learner_id(bank: Bank, headers: dict) -> str:
    """The account id of the learner logged in with these headers."""
    return bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["id"]


def apply(bank: Bank, headers: dict) -> str:
    """Apply under BJOU's rules; the application id."""
    answer = bank.client.post("/api/v1/applications", headers=headers,
                              json={"rule_set_id": RULE_SET, "version": 1})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def audited(bank: Bank, action: str) -> list[dict]:
    """The audit rows of an action: actor, subject and details."""
    with bank.runtime.engine.connect() as connection:
        return [{"actor": row.actor, "subject": row.subject, "details": json.loads(row.details)}
                for row in connection.execute(select(audit_log).where(
                    audit_log.c.action == action).order_by(audit_log.c.id))]


def test_the_account_consent_is_given_on_opening_and_ends_only_by_closing(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    wang = learner_id(bank, bank.open_account())
    listed = consents_of(runtime.engine, wang).consents
    assert [(item["purpose"], item["version"], item["given_by"], item["status"])
            for item in listed] == [("account", TEXTS["account"].version, "learner", "given")]
    assert listed[0]["text"] == {"en": TEXTS["account"].en, "zh": TEXTS["account"].zh}
    with pytest.raises(Conflict) as refused:
        withdraw(runtime.engine, wang, listed[0]["id"])
    assert refused.value.errors == {"consent": ["close the account instead: /me/close"]}
    with runtime.engine.begin() as connection:
        assert holds(connection, wang, "account")
        assert give(connection, wang, "account") == listed[0]["id"]
        with pytest.raises(InvalidInput) as unknown:
            give(connection, wang, "marketing")
    assert list(unknown.value.errors) == ["purpose"]
    assert audited(bank, "consent.give") == [
        {"actor": f"learner:{wang}", "subject": listed[0]["id"],
         "details": {"purpose": "account", "version": TEXTS["account"].version}}]

    earlier = str(uuid.uuid4())
    with runtime.engine.begin() as connection:
        connection.execute(insert(learners).values(
            id=earlier, did="did:example:earlier", identity_hash="h" * 64, opened_by="self",
            created_at=1_700_000_000.0))
    assert consents_of(runtime.engine, earlier).consents == [
        {"id": None, "purpose": "account", "object_id": None, "version": None, "text": None,
         "given_by": "learner", "given_at": "2023-11-14T22:13:20Z", "withdrawn_at": None,
         "status": BEFORE_RECORDS}]
    with pytest.raises(NotFound):
        withdraw(runtime.engine, earlier, listed[0]["id"])


def test_withdrawing_the_email_consent_erases_the_address_and_stops_emails(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    wang = learner_id(bank, bank.open_account())
    save_preferences(engine, wang, email=ADDRESS, kinds=["decision_made"])
    save_preferences(engine, wang, email=ADDRESS, kinds=["decision_made", "appeal_answered"])
    email = [item for item in consents_of(engine, wang).consents
             if item["purpose"] == "email-notices"]
    assert [(item["version"], item["status"]) for item in email] == [
        (TEXTS["email-notices"].version, "given")]
    with engine.begin() as connection:
        notify(connection, recipient_kind="learner", recipient_id=wang, kind="decision_made",
               params={"programme": "P", "verdict": "granted", "credits": 3})

    withdrawn = withdraw(engine, wang, email[0]["id"])
    assert (withdrawn["status"], withdrawn["effect"]) == ("withdrawn", "email-erased")
    assert preferences_of(engine, wang).to_json() == {"email": None, "kinds": []}
    with engine.connect() as connection:
        assert not holds(connection, wang, "email-notices")
        assert connection.execute(select(notices.c.email_status)).scalars().all() == [None]
    assert withdraw(engine, wang, email[0]["id"])["withdrawn_at"] == withdrawn["withdrawn_at"]

    save_preferences(engine, wang, email=ADDRESS, kinds=[])
    save_preferences(engine, wang, email="", kinds=[])
    statuses = [item["status"] for item in consents_of(engine, wang).consents
                if item["purpose"] == "email-notices"]
    assert statuses == ["withdrawn", "withdrawn"]
    written = json.dumps(audited(bank, "consent.give") + audited(bank, "consent.withdraw"))
    assert ADDRESS not in written
    assert [item["details"] for item in audited(bank, "consent.withdraw")] == [
        {"purpose": "email-notices"}] * 2


def test_each_application_records_its_consent_and_withdrawing_it_withdraws_the_application(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    headers = bank.open_account()
    wang = learner_id(bank, headers)
    bank.issue("bjou", [outcome("LOG201", "A")])
    first = apply(bank, headers)
    with engine.connect() as connection:
        rows = connection.execute(select(consents.c.object_id, consents.c.text_version).where(
            consents.c.purpose == "application")).all()
    assert [tuple(row) for row in rows] == [(first, TEXTS["application"].version)]
    shown = application_json(engine, application_row(engine, first))["consent"]
    assert (shown["version"], shown["withdrawn_at"]) == (TEXTS["application"].version, None)

    withdrawn = withdraw(engine, wang, shown["id"])
    assert withdrawn["effect"] == "application-withdrawn"
    assert application_row(engine, first)["status"] == "withdrawn"
    assert application_json(engine, application_row(engine, first))["consent"][
        "withdrawn_at"] == withdrawn["withdrawn_at"]
    late = bank.client.post(f"/api/v1/applications/{first}/first-review",
                            headers=bearer(bank.tokens["bjou"]), json={"verdict": "approve"})
    assert late.status_code == 409

    second = apply(bank, headers)
    path = f"/api/v1/applications/{second}"
    assert bank.client.post(f"{path}/first-review", headers=bearer(bank.tokens["bjou"]),
                            json={"verdict": "approve"}).status_code == 200
    assert bank.client.post(f"{path}/second-review", headers=bearer(bank.operator),
                            json={"verdict": "approve"}).status_code == 200
    consent = application_json(engine, application_row(engine, second))["consent"]
    assert consent["id"] != shown["id"]
    kept = withdraw(engine, wang, consent["id"])
    assert kept["effect"] == "decision-kept"
    decided = application_json(engine, application_row(engine, second))
    assert (decided["status"], decided["decisions"][0]["in_force"]) == ("decided", True)

    other = learner_id(bank, bank.open_account(OTHER_ID))
    with pytest.raises(NotFound):
        withdraw(engine, other, consent["id"])
    assert [item["details"] for item in audited(bank, "consent.give")
            if item["details"]["purpose"] == "application"] == [
        {"purpose": "application", "version": TEXTS["application"].version}] * 2
    assert [item["subject"] for item in audited(bank, "application.withdraw")] == [first]


def test_an_appeal_under_review_is_withdrawn_with_the_consent(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    headers = bank.open_account()
    wang = learner_id(bank, headers)
    bank.issue("bjou", [outcome("LOG201", "A")])
    application = apply(bank, headers)
    path = f"/api/v1/applications/{application}"
    for step, token in (("first-review", bank.tokens["bjou"]),
                        ("second-review", bank.operator)):
        assert bank.client.post(f"{path}/{step}", headers=bearer(token),
                                json={"verdict": "approve"}).status_code == 200
    assert bank.client.post(f"{path}/appeal", headers=headers,
                            json={"grounds": "ENG110 matches"}).status_code == 201
    consent = application_json(engine, application_row(engine, application))["consent"]
    assert withdraw(engine, wang, consent["id"], now=time.time())["effect"] == "appeal-withdrawn"
    after = application_json(engine, application_row(engine, application))
    assert (after["status"], [item["status"] for item in after["appeals"]]) == (
        "decided", ["withdrawn"])
    with engine.connect() as connection:
        assert connection.execute(select(applications.c.status)).scalars().all() == ["decided"]


def test_consents_page_newest_first_both_ways_and_refuse_a_bad_cursor(
        database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    learner = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(insert(learners).values(
            id=learner, did="did:example:many", identity_hash="m" * 64, opened_by="self",
            created_at=1_700_000_000.0))
        made = [give(connection, learner, "application", object_id=f"application-{index:02d}",
                     now=1_700_000_100.0 + index // 3) for index in range(11)]
    newest_first = sorted(made, key=lambda consent: (made.index(consent) // 3, consent),
                          reverse=True)
    forward: list[list[str | None]] = []
    page = consents_of(engine, learner, limit=4)
    assert page.previous is None
    while True:
        forward.append([item["id"] for item in page.consents])
        if page.next is None:
            break
        page = consents_of(engine, learner, after=page.next, limit=4)
    backward = []
    while page.previous is not None:
        page = consents_of(engine, learner, before=page.previous, limit=4)
        backward.append([item["id"] for item in page.consents])
    with pytest.raises(InvalidInput) as refused:
        consents_of(engine, learner, after="not-a-cursor")
    engine.dispose()
    assert forward == [newest_first[:4], newest_first[4:8], [*newest_first[8:], None]]
    assert backward == [newest_first[4:8], newest_first[:4]]
    assert refused.value.errors == {"after": ["not a cursor of this list"]}
