"""The public bank: institutions as the chain records them, programmes in force, the guide."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, update

from bank.guide import guide
from bank.public import institution, institutions, programme, programmes, published_rule_sets
from infra.errors import InvalidInput, NotFound
from issuers.publication import publish_rule_set
from issuers.registry import issuer_record, suspend
from issuers.tables import credentials, rule_sets
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OPERATOR_ACTOR,
    RULE_SET,
    Bank,
    city_bank,
    outcome,
    rule_set_document,
)

TODAY = date(2026, 3, 1)


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank with BJOU's approved rules and a pending second version."""
    opened = city_bank(runtime)
    document = rule_set_document(opened.did("bjou"), opened.did("courier"), opened.did("hdvc"),
                                 version=2)
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     document, master_key=runtime.settings.master_key())
    return opened


def test_institutions_are_shown_as_the_chain_records_them(bank: Bank) -> None:
    engine, view = bank.runtime.engine, bank.runtime.view
    suspend(engine, bank.runtime.chain, "courier", actor=OPERATOR_ACTOR)
    listed = institutions(engine, view)
    hdvc = institution(engine, view, "hdvc")
    assert [(item["id"], item["status"]) for item in listed] == [
        ("bjou", "accredited"), ("hdvc", "accredited"), ("courier", "suspended")]
    assert (hdvc["name"], hdvc["did"], hdvc["did_document"], hdvc["kinds"], hdvc["levels"]) == (
        "Haidian Vocational College", bank.did("hdvc"), "/issuers/hdvc/did.json",
        ["course", "certificate", "mooc"], list(range(1, 9)))
    assert [(key["registered_block"] > 0, key["retired_block"]) for key in hdvc["keys"]] == [
        (True, None)]
    with pytest.raises(NotFound):
        institution(engine, view, "nobody")


def test_programmes_show_the_approved_version_in_force_and_the_history(bank: Bank) -> None:
    engine, view = bank.runtime.engine, bank.runtime.view
    (listed,) = programmes(engine, view, as_of=TODAY)
    detail = programme(engine, view, RULE_SET, as_of=TODAY)
    assert (listed["rule_set_id"], listed["title"], listed["institution"]["name"],
            listed["version"]["version"], listed["version"]["valid_from"]) == (
        RULE_SET, "Associate in Logistics Management", "Beijing Open University", 1,
        "2025-01-01")
    assert listed["version"]["approved_block"] >= listed["version"]["block"] > 0
    assert [(item["version"], item["approved_block"] is not None) for item in listed["history"]
            ] == [(2, False), (1, True)]
    assert (detail["requirements"]["total_credits"], [rule["id"] for rule in detail["rules"]],
            detail["rule_set"].version) == (80, ["courier-exemption", "hdvc-warehouse",
                                                 "hdvc-general", "mooc-pass", "mooc-general"], 1)
    assert programmes(engine, view, as_of=date(2024, 12, 31)) == []
    cached = list(published_rule_sets(engine)._entries.values())
    programmes(engine, view, as_of=TODAY)
    assert [(item.rule_set.version, item.book.rule_set is item.rule_set) for item in cached] == [
        (1, True)]
    assert [id(item) for item in published_rule_sets(engine)._entries.values()] == [
        id(item) for item in cached]
    assert detail["rule_set"] is cached[0].rule_set
    with pytest.raises(NotFound):
        programme(engine, view, "bjou:NOTHING", as_of=TODAY)


def test_a_version_whose_document_no_longer_matches_the_chain_is_not_served(bank: Bank) -> None:
    engine, view = bank.runtime.engine, bank.runtime.view
    with engine.begin() as connection:
        row = connection.execute(select(rule_sets.c.document).where(
            rule_sets.c.version == 1)).scalar_one()
        document = json.loads(row)
        document["programme"]["total_credits"] = 60
        connection.execute(update(rule_sets).where(rule_sets.c.version == 1).values(
            document=json.dumps(document)))
    assert programmes(engine, view, as_of=TODAY) == []
    assert len(published_rule_sets(engine)._entries) == 0


def test_the_guide_classes_picked_units_and_verified_credentials(bank: Bank) -> None:
    engine, view = bank.runtime.engine, bank.runtime.view
    (credential_id,) = bank.issue("hdvc", [outcome("MATH110", "B")])
    with engine.connect() as connection:
        document = json.loads(connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == credential_id)).scalar_one())
    tampered = {**document, "credentialSubject": {**document["credentialSubject"],
                                                  "creditsEarned": 40}}
    answer = guide(engine, view, units=["hdvc:WH110", "courier:CERT-COURIER", "bjou:LOG201"],
                   credentials=[document, tampered, document], as_of=TODAY)
    (found,) = answer["programmes"]
    assert [(line["verdict"], line["units"], line["code"], line.get("credits", 0))
            for line in found["lines"]] == [
        ("match", ["MATH110"], "transfer", 4),
        ("match", ["LOG201"], "home-unit", 4),
        ("match", ["CERT-COURIER"], "exemption", 0),
        ("match", ["WH110"], "transfer", 3)]
    assert (found["match"], found["maybe"], found["version"]) == (11, 0, 1)
    assert [(item["index"], item["verdict"], item["code"]) for item in answer["not_counted"]] == [
        (1, "INVALID", "SIGNATURE_INVALID"), (2, "VALID", "duplicate")]
    assert [item["index"] for item in answer["credentials"]] == [0]
    text = json.dumps(answer)
    assert document["credentialSubject"]["id"] not in text and LEARNER_ID not in text


@pytest.mark.parametrize(("units", "fields"), [
    (["hdvc"], ["units.0"]),
    (["hdvc:WH110", "hdvc:WH110"], ["units.1"]),
    (["hdvc:NOPE"], ["units.0"]),
    ([f"hdvc:U{n}" for n in range(51)], ["units"]),
])
def test_the_guide_refuses_bad_picks_by_name(bank: Bank, units: list[str],
                                             fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as raised:
        guide(bank.runtime.engine, bank.runtime.view, units=units, as_of=TODAY)
    assert sorted(raised.value.errors or {}) == fields
