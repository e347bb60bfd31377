"""Learning agreements: a request is checked field by field, the institution approves (a signed,
anchored credential our verifier finds VALID) or refuses, and a later decision honours the agreed
lines for the units completed in time, naming every condition not met."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bank.agreements import approve, refuse, request_agreement, withdraw
from bank.applications import apply, first_review, second_review
from bank.notices import KINDS
from bank.records import held_agreements, held_credentials
from bank.tables import notices
from infra.errors import Conflict, InvalidInput, NotFound
from issuers.catalogue import add_units
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import issuer_record
from issuers.tables import credentials
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import (
    OPERATOR_ACTOR,
    OTHER_ID,
    RULE_SET,
    Bank,
    city_bank,
    outcome,
    rule_set_document,
    unit,
)
from verify import Context, Status, verify_credential

REQUESTED_ON = datetime(2025, 1, 15, tzinfo=UTC).timestamp()
DECIDED_ON = datetime(2025, 1, 20, tzinfo=UTC).timestamp()
COMPLETE_BY = "2025-06-30"
CAP = 10


def capped_bank(runtime: Runtime) -> Bank:
    """The city bank with BJOU's version 2 in force: at most 10 credits from the vocational
    college (a provider cap), and one more college unit."""
    bank = city_bank(runtime)
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, "hdvc"),
                  [unit("PE110", "Physical Education", "course", 2, level=4)])
    document = rule_set_document(bank.did("bjou"), bank.did("courier"), bank.did("hdvc"),
                                 version=2)
    document["rules"].append({"id": "hdvc-cap", "kind": "provider_cap",
                              "source": {"providers": [bank.did("hdvc")]}, "max_credits": CAP})
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     document, master_key=runtime.settings.master_key())
    approve_rule_set(runtime.engine, runtime.chain, RULE_SET, 2, actor=OPERATOR_ACTOR)
    return bank


def learner_row(bank: Bank, national_id: str | None = None) -> dict:
    """Open a proven account and answer its row."""
    headers = bank.open_account(*(national_id,) if national_id else ())
    account = bank.client.get("/api/v1/learners/me", headers=headers).json["account"]
    found = bank.runtime.accounts.by_did(account["did"])
    assert found is not None
    return found


def errors_of(raised: pytest.ExceptionInfo) -> dict:
    return raised.value.errors


def test_a_request_names_the_field_it_cannot_accept(runtime: Runtime) -> None:
    bank = capped_bank(runtime)
    view = ChainView(runtime.ledger)
    learner = learner_row(bank)
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, "courier"),
                  [unit("CR101", "Bicycle Repair", "course", 2, level=4)])
    good = {"programme": f"{RULE_SET}@2", "units": ["hdvc:WH110"], "complete_by": COMPLETE_BY}
    cases = [
        ({"programme": "LOG-ASSOC"}, {"programme": ["must be RULE_SET_ID@VERSION"]}),
        ({"programme": f"{RULE_SET}@9"},
         {"programme": ["no rule set 'bjou:LOG-ASSOC' version 9"]}),
        ({"units": []}, {"units": ["plan at least one unit"]}),
        ({"units": ["WH110"]}, {"units": ["'WH110' is not ISSUER:CODE"]}),
        ({"units": ["hdvc:NOPE1"]}, {"units": ["hdvc:NOPE1 is in no catalogue"]}),
        ({"units": ["courier:CR101"]},
         {"units": ["none of these units counts under these rules"]}),
        ({"complete_by": "30/06/2025"}, {"complete_by": ["must be a date YYYY-MM-DD"]}),
        ({"complete_by": "2025-01-15"}, {"complete_by": ["must be after today"]}),
    ]
    for change, expected in cases:
        with pytest.raises(InvalidInput) as raised:
            request_agreement(runtime.engine, view, learner, **{**good, **change},
                              now=REQUESTED_ON)
        assert errors_of(raised) == expected, change
    first = request_agreement(runtime.engine, view, learner, **good, now=REQUESTED_ON)
    again = request_agreement(runtime.engine, view, learner, **good, now=REQUESTED_ON)
    assert (again["id"], first["status"], first["agreed_credits"]) == (
        first["id"], "requested", 3)
    assert withdraw(runtime.engine, first["id"], learner)["status"] == "withdrawn"
    assert withdraw(runtime.engine, first["id"], learner)["status"] == "withdrawn"
    with pytest.raises(Conflict):
        approve(runtime.engine, view, first["id"], "bjou", reviewer="registrar",
                settings=runtime.settings, now=DECIDED_ON)


def test_an_approval_is_a_credential_our_verifier_finds_valid(runtime: Runtime) -> None:
    bank = capped_bank(runtime)
    view = ChainView(runtime.ledger)
    learner = learner_row(bank)
    other = learner_row(bank, OTHER_ID)
    asked = request_agreement(runtime.engine, view, learner, programme=f"{RULE_SET}@2",
                              units=["hdvc:WH110", "hdvc:MATH110"], complete_by=COMPLETE_BY,
                              now=REQUESTED_ON)
    assert [(line["units"], line["category"], line["credits"]) for line in asked["lines"]] == [
        (["MATH110"], "general", 4), (["WH110"], "major", 3)]
    with pytest.raises(NotFound):
        approve(runtime.engine, view, asked["id"], "hdvc", reviewer="someone",
                settings=runtime.settings)
    with pytest.raises(InvalidInput) as unreasoned:
        refuse(runtime.engine, asked["id"], "bjou", reviewer="registrar", reasons=[" "])
    assert errors_of(unreasoned) == {"reasons": ["must not be empty"]}

    approved = approve(runtime.engine, view, asked["id"], "bjou", reviewer="registrar",
                       settings=runtime.settings, now=DECIDED_ON)
    retried = approve(runtime.engine, view, asked["id"], "bjou", reviewer="registrar",
                      settings=runtime.settings, now=DECIDED_ON)
    assert (approved["status"], retried["credential"]["id"]) == (
        "approved", approved["credential"]["id"])
    with pytest.raises(Conflict):
        refuse(runtime.engine, asked["id"], "bjou", reviewer="registrar", reasons=["late"])
    with runtime.engine.connect() as connection:
        batch = connection.execute(select(credentials.c.batch_id).where(
            credentials.c.id == approved["credential"]["id"])).scalar_one()
        told = connection.execute(select(notices.c.kind, notices.c.recipient_id, notices.c.link)
                                  .where(notices.c.kind == "agreement_decided")).all()
    assert "agreement_decided" in KINDS
    assert told == [("agreement_decided", learner["id"], f"/me/agreements/{asked['id']}")]
    bank.worker.drain({batch})

    (held,) = held_agreements(runtime.engine, learner)
    assert held["type"] == ["VerifiableCredential", "LearningAgreementCredential"]
    subject = held["credentialSubject"]
    assert (subject["id"], subject["ruleSet"]["ruleSetId"], subject["ruleSet"]["version"],
            subject["completeBy"], subject["agreedCredits"]) == (
        learner["did"], RULE_SET, 2, COMPLETE_BY, 7)
    assert [(unit["unitIssuer"], unit["code"], unit["credits"])
            for unit in subject["plannedUnit"]] == [
        (bank.did("hdvc"), "WH110", 3), (bank.did("hdvc"), "MATH110", 4)]
    assert set(subject) == {"id", "type", "programme", "ruleSet", "plannedUnit", "agreedLine",
                            "agreedCredits", "completeBy"}
    report = verify_credential(held, Context(view))
    assert report.verdict is Status.VALID, report.fragments
    assert report.fragment("format").details["kind"] == "agreement"
    assert held_credentials(runtime.engine, learner) == []
    assert held_agreements(runtime.engine, other) == []


def test_the_decision_honours_the_agreement_and_names_what_was_not_met(
        runtime: Runtime) -> None:
    bank = capped_bank(runtime)
    engine, view = runtime.engine, ChainView(runtime.ledger)
    learner = learner_row(bank)
    asked = request_agreement(engine, view, learner, programme=f"{RULE_SET}@2",
                              units=["hdvc:WH110", "hdvc:MATH110", "hdvc:ACC110"],
                              complete_by=COMPLETE_BY, now=REQUESTED_ON)
    agreement = approve(engine, view, asked["id"], "bjou", reviewer="registrar",
                        settings=runtime.settings, now=DECIDED_ON)
    version_3 = rule_set_document(bank.did("bjou"), bank.did("courier"), bank.did("hdvc"),
                                  version=3)
    publish_rule_set(engine, runtime.ledger, issuer_record(engine, "bjou"), version_3,
                     master_key=runtime.settings.master_key())
    approve_rule_set(engine, runtime.chain, RULE_SET, 3, actor=OPERATOR_ACTOR)
    eng, pe, wh, math, acc = bank.issue("hdvc", [
        outcome("ENG110", "B", completed_on="2025-03-01"),
        outcome("PE110", "B", completed_on="2025-03-02"),
        outcome("WH110", "B", completed_on="2025-06-05"),
        outcome("MATH110", "A", completed_on="2025-06-20"),
        outcome("ACC110", "B", completed_on="2025-07-10")])

    with pytest.raises(NotFound):
        apply(engine, view, learner_row(bank, OTHER_ID), agreement_id=agreement["id"])
    application = apply(engine, view, learner, agreement_id=agreement["id"])
    assert (application["rule_set"]["version"], application["agreement_id"]) == (
        2, agreement["id"])
    refused_by_cap = {item["outcome_ids"][0]: item["code"]
                      for item in application["audit"]["refusals"]}
    assert refused_by_cap == {math: "cap-provider", acc: "cap-provider"}
    first_review(engine, application["id"], "bjou", verdict="approve", reasons=[])
    decided = second_review(engine, application["id"], "city-centre", verdict="approve",
                            reasons=[])
    decision = decided["decisions"][0]
    granted = {line["outcome_ids"][0]: (line["category"], line["credits"], line.get("agreement"))
               for line in decision["lines"]}
    assert granted == {eng: ("general", 3, None), pe: ("general", 2, None),
                       wh: ("major", 3, agreement["id"]),
                       math: ("general", 4, agreement["id"])}
    assert (decision["credits"], decision["categories"]) == (12, {"general": 9, "major": 3})
    assert decision["agreement"] == {
        "id": agreement["id"], "credential": agreement["credential"]["id"],
        "honoured": [{"units": ["MATH110"], "credentials": [math], "category": "general",
                      "credits": 4},
                     {"units": ["WH110"], "credentials": [wh], "category": "major",
                      "credits": 3}],
        "unmet": [{"unit": "hdvc:ACC110", "condition": "completed-late"}]}
    assert [(item["code"], item.get("credentials"), item.get("params"))
            for item in decision["reasons"]] == [
        ("cap-provider", [acc], {"limit": CAP, "counted": 8, "category": "general",
                                 "credits": 3, "counter": bank.did("hdvc")}),
        ("agreement-condition-unmet", [],
         {"unit": "hdvc:ACC110", "condition": "completed-late"})]
