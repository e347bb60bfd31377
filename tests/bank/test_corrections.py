"""Correction requests on both databases: routed to who owns the data, refused for anything not
the learner's, answered once by the owner alone, the learner told, the owner's read logged."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bank.access import CENTRE, Reader, reads_of
from bank.corrections import (
    MAX_TEXT,
    answer,
    corrections_of,
    object_of,
    open_request,
    queue,
    request_correction,
)
from bank.notices import inbox, message
from bank.tables import corrections
from infra.errors import Conflict, InvalidInput, NotFound
from portal.runtime import Runtime
from tests.support.bank import (
    OTHER_ID,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    outcome,
    xuetang_credential,
)

BJOU = Reader("institution:bjou-registrar", "bjou")
HDVC = Reader("institution:hdvc-registrar", "hdvc")
CENTRE_READER = Reader("operator:li", CENTRE)


def account(bank: Bank, headers: dict) -> dict:
    """The account row of the learner logged in with these headers."""
    did = bank.client.get("/api/v1/learners/me", headers=headers).json["account"]["did"]
    found = bank.runtime.accounts.by_did(did)
    assert found is not None
    return found


def corrections_read(engine: Engine, learner_id: str) -> list[tuple[str, str, str]]:
    """Who read which of the learner's correction requests, newest first."""
    return [(item["actor"], item["organisation"], item["object_id"])
            for item in reads_of(engine, learner_id)[0] if item["purpose"] == "correction"]


def decided(bank: Bank, headers: dict) -> str:
    """Apply under BJOU's rules and pass both reviews; the decision id."""
    client = bank.client
    application = client.post("/api/v1/applications", headers=headers,
                              json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    path = f"/api/v1/applications/{application}"
    for step, token in (("first-review", bank.tokens["bjou"]),
                        ("second-review", bank.operator)):
        assert client.post(f"{path}/{step}", headers=bearer(token),
                           json={"verdict": "approve"}).status_code == 200
    return client.get(path, headers=headers).json["decisions"][0]["id"]


def test_requests_go_to_the_owner_who_answers_and_the_learner_is_told(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    headers = bank.open_account()
    wang = account(bank, headers)
    [credential] = bank.issue("hdvc", [outcome("WH110", "B")])
    bank.issue("bjou", [outcome("LOG201", "A")])
    decision = decided(bank, headers)
    deposit = bank.client.post("/api/v1/learners/me/deposits", headers=headers, json={
        "credential": xuetang_credential(runtime, wang["did"])}).json["id"]

    offered = {about: object_of(engine, wang, about, object_id) for about, object_id in (
        ("account", wang["id"]), ("credential", credential), ("decision", decision),
        ("deposit", deposit))}
    assert {about: (found or {}).get("object_id") for about, found in offered.items()} == {
        "account": wang["id"], "credential": credential, "decision": decision,
        "deposit": deposit}
    assert (offered["credential"] or {}).get("by") is not None
    assert [object_of(engine, wang, about, "not-theirs") for about in (
        "account", "credential", "decision", "deposit", "transcript")] == [None] * 5
    asked = {about: request_correction(engine, wang, about=about, object_id=object_id,
                                       text=f"  The {about} is wrong.\nPlease check. ")
             for about, object_id in (("credential", credential), ("decision", decision),
                                      ("deposit", deposit), ("account", wang["id"]))}
    assert {about: item["routed_to"] for about, item in asked.items()} == {
        "credential": "hdvc", "decision": "bjou", "deposit": CENTRE, "account": CENTRE}
    assert asked["credential"]["request"] == "The credential is wrong.\nPlease check."
    assert [item["kind"] for item in inbox(engine, "institution", "hdvc")] == [
        "correction_waiting"]
    waiting = inbox(engine, "institution", "hdvc")[0]
    assert message("correction_waiting", waiting["params"], "en").text.startswith(
        "A learner asked on ")
    assert wang["id"] not in str(waiting["params"]) and wang["did"] not in str(waiting["params"])

    assert queue(engine, "hdvc") == ([
        {"id": asked["credential"]["id"], "about": "credential", "status": "open",
         "requested_at": asked["credential"]["requested_at"], "answered_at": None}], None)
    assert [item["about"] for item in queue(engine, CENTRE)[0]] == ["deposit", "account"]
    assert corrections_read(engine, wang["id"]) == []

    with pytest.raises(NotFound):
        open_request(engine, asked["credential"]["id"], BJOU)
    opened = open_request(engine, asked["credential"]["id"], HDVC)
    assert (opened["request"], opened["object"]["unit"]) == (
        "The credential is wrong.\nPlease check.", "WH110")
    assert open_request(engine, asked["account"]["id"], CENTRE_READER)["object"]["did"] == \
        wang["did"]
    assert corrections_read(engine, wang["id"]) == [
        ("operator:li", "centre", asked["account"]["id"]),
        ("institution:hdvc-registrar", "hdvc", asked["credential"]["id"])]

    with pytest.raises(NotFound):
        answer(engine, asked["credential"]["id"], BJOU, status="corrected", text="done")
    answered = answer(engine, asked["credential"]["id"], HDVC, status="corrected",
                      text="The grade was re-entered as A and the credential reissued.")
    refused = answer(engine, asked["decision"]["id"], BJOU, status="refused",
                     text="The decision follows the approved rules.")
    assert (answered["status"], answered["answered_by"], refused["status"]) == (
        "corrected", "institution:hdvc-registrar", "refused")
    with pytest.raises(Conflict):
        answer(engine, asked["credential"]["id"], HDVC, status="refused", text="again")
    told = [item for item in inbox(engine, "learner", wang["id"])
            if item["kind"] == "correction_answered"]
    assert [message(item["kind"], item["params"], "en").text for item in told] == [
        "Your request to correct a decision was answered: not corrected, with reasons.",
        "Your request to correct a credential was answered: corrected."]
    assert message(told[1]["kind"], told[1]["params"], "zh").text == \
        "你申请更正一份证书的请求已答复：已更正。"
    mine, later = corrections_of(engine, wang["id"])
    assert later is None
    assert sorted(item["status"] for item in mine) == ["corrected", "open", "open", "refused"]
    with engine.connect() as connection:
        stored = connection.execute(select(corrections.c.status)).scalars().all()
    assert len(stored) == 4


def test_requests_about_anything_not_the_learners_are_refused_naming_the_field(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    engine = runtime.engine
    wang = account(bank, bank.open_account())
    other_headers = bank.open_account(OTHER_ID)
    other = account(bank, other_headers)
    [theirs] = bank.issue("hdvc", [outcome("WH110", "B", national_id=OTHER_ID)])
    cases = [
        ({"about": "credential", "object_id": theirs, "text": "wrong"}, ["object_id"]),
        ({"about": "account", "object_id": other["id"], "text": "wrong"}, ["object_id"]),
        ({"about": "decision", "object_id": "no-such-decision", "text": "wrong"}, ["object_id"]),
        ({"about": "deposit", "object_id": "", "text": "wrong"}, ["object_id"]),
        ({"about": "grade", "object_id": theirs, "text": "wrong"}, ["about"]),
        ({"about": "account", "object_id": wang["id"], "text": "   "}, ["request"]),
        ({"about": "account", "object_id": wang["id"], "text": "x" * (MAX_TEXT + 1)},
         ["request"]),
        ({"about": "account", "object_id": wang["id"], "text": "a\x00b"}, ["request"]),
        ({"about": "account", "object_id": wang["id"], "text": 7}, ["request"]),
    ]
    refused = []
    for fields, _expected in cases:
        with pytest.raises(InvalidInput) as error:
            request_correction(engine, wang, **fields)
        refused.append(sorted(error.value.errors))
    assert refused == [expected for _fields, expected in cases]
    filed = request_correction(engine, other, about="credential", object_id=theirs,
                               text="wrong")
    with pytest.raises(InvalidInput) as bad:
        answer(engine, filed["id"], HDVC, status="maybe", text="")
    assert sorted(bad.value.errors) == ["answer", "status"]
    with engine.connect() as connection:
        assert connection.execute(select(corrections.c.learner_id)).scalars().all() == [
            other["id"]]
