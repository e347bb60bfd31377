"""Boundary cases of the credit bank: rule approval, review order, the appeal deadline to the
second, deposits that cannot be accepted, account mistakes, and revocation of a whole batch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bank.applications import appeal, current_decision, decide_appeal
from bank.revocation_watch import watch_once
from infra.errors import Conflict
from issuers.publication import publish_rule_set
from issuers.registry import issuer_record
from issuers.revocation import request_revocation
from issuers.tables import credentials
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OTHER_ID,
    PASSWORD,
    RULE_SET,
    bearer,
    city_bank,
    outcome,
    rule_set_document,
    xuetang_credential,
)


def error(status: int, message: str, errors: dict | None = None) -> dict:
    """The API's JSON error body."""
    names = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
             422: "Unprocessable Entity"}
    body = {"code": status, "status": names[status], "message": message}
    return {**body, "errors": errors} if errors else body


def test_rule_approval_review_order_and_the_appeal_deadline(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    bjou, operator = bearer(bank.tokens["bjou"]), bearer(bank.operator)
    learner = bank.open_account()
    bank.issue("bjou", [outcome("LOG201", "A")])
    _wh110, acc110 = bank.issue("hdvc", [outcome("WH110", "B"), outcome("ACC110", "F")])
    document = rule_set_document(bank.did("bjou"), bank.did("courier"), bank.did("hdvc"),
                                 version=2)
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     document, master_key=runtime.settings.master_key())

    unapproved = client.post("/api/v1/applications", headers=learner,
                             json={"rule_set_id": RULE_SET, "version": 2})
    assert (unapproved.status_code, unapproved.json) == (409, error(
        409, "version 2 of 'bjou:LOG-ASSOC' is not approved for use",
        {"version": ["is not approved"]}))
    unknown = client.put("/api/v1/learners/me/target", headers=learner,
                         json={"rule_set_id": RULE_SET, "version": 3})
    assert (unknown.status_code, unknown.json) == (404, error(
        404, "no rule set 'bjou:LOG-ASSOC' version 3",
        {"rule_set_id": ["unknown rule set or version"]}))
    no_target = client.post("/api/v1/applications", headers=learner, json={})
    assert (no_target.status_code, no_target.json["message"]) == (404, "choose a programme first")

    application = client.post("/api/v1/applications", headers=learner,
                              json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    path = f"/api/v1/applications/{application}"
    early = client.post(f"{path}/second-review", headers=operator,
                        json={"verdict": "approve", "reasons": []})
    assert (early.status_code, early.json) == (409, error(
        409, "the second review comes after the first review", {"status": ["submitted"]}))
    bad = client.post(f"{path}/first-review", headers=bjou, json={
        "verdict": "refuse", "excluded": [{"credential": acc110, "reason": "failed"}]})
    assert (bad.status_code, bad.json) == (422, error(422, "the review is invalid", {
        "reasons": ["a refusal states its reasons"],
        "excluded.0.credential": ["is not a credential the audit counts"]}))
    unknown_verdict = client.post(f"{path}/first-review", headers=bjou, json={"verdict": "maybe"})
    assert (unknown_verdict.status_code, list(unknown_verdict.json["errors"]["json"])) == (
        422, ["verdict"])
    assert client.post(f"{path}/first-review", headers=bjou,
                       json={"verdict": "approve"}).status_code == 200
    again = client.post(f"{path}/first-review", headers=bjou, json={"verdict": "approve"})
    assert (again.status_code, again.json["message"]) == (
        409, "the application is first_reviewed, not submitted")
    refused = client.post(f"{path}/second-review", headers=operator, json={
        "verdict": "refuse", "reasons": ["the outcomes are below level 5"]}).json
    decision = refused["decisions"][0]
    assert (decision["verdict"], decision["credits"], decision["categories"],
            decision["reasons"][-1]) == ("refused", 0, {}, {
                "code": "refused-by-reviewer", "stage": "second",
                "message": "the outcomes are below level 5"})

    engine = runtime.engine
    learner_row = {"id": client.get("/api/v1/learners/me", headers=learner).json["account"]["id"]}
    deadline = current_decision(engine, application)["appeal_deadline"]
    with pytest.raises(Conflict) as late:
        appeal(engine, application, learner_row, "late", now=deadline + 1)
    assert late.value.message == "the appeal deadline passed on " + decision["appeal_deadline"]
    assert appeal(engine, application, learner_row, "in time", now=deadline)["status"] == (
        "appealed")
    upheld = decide_appeal(engine, ChainView(runtime.ledger), application, "city-centre",
                           outcome="upheld", reasons=["the level rule applies"],
                           now=deadline + 10)
    assert (upheld["status"], [item["status"] for item in upheld["appeals"]]) == (
        "decided", ["upheld"])
    with pytest.raises(Conflict) as again:
        appeal(engine, application, learner_row, "again", now=deadline)
    assert again.value.message == "this decision was already appealed"


def test_deposits_and_accounts_refuse_what_cannot_be_accepted(runtime: Runtime) -> None:
    bank = city_bank(runtime, approve=False)
    client = bank.client
    learner = bank.open_account()
    other = bank.open_account(OTHER_ID)
    operator = bearer(bank.operator)
    issued, = bank.issue("bjou", [outcome("LOG201", "A")])
    other_did = client.get("/api/v1/learners/me", headers=other).json["account"]["did"]
    record = client.get("/api/v1/learners/me", headers=learner).json

    delivered = {"credential": {"id": issued, "type": ["VerifiableCredential"]}}
    answer = client.post("/api/v1/learners/me/deposits", json=delivered, headers=learner)
    assert (answer.status_code, answer.json["message"]) == (
        409, f"{issued} is already in your record: its issuer delivered it")
    no_id = client.post("/api/v1/learners/me/deposits", json={"credential": {"type": []}},
                        headers=learner)
    assert (no_id.status_code, no_id.json["errors"]) == (
        422, {"credential": {"id": ["must be a string of 1–300 characters"]}})
    not_object = client.post("/api/v1/learners/me/deposits", json={"credential": [1]},
                             headers=learner)
    assert (not_object.status_code, list(not_object.json["errors"]["json"])) == (
        422, ["credential"])

    someone_elses = xuetang_credential(runtime, other_did)
    mismatch = client.post("/api/v1/learners/me/deposits", headers=learner,
                           json={"credential": someone_elses, "evidence": "my old account"})
    assert (mismatch.json["status"], mismatch.json["verdict"], mismatch.json["reason"]) == (
        "review", "VALID", "SUBJECT_MISMATCH")
    twice = client.post("/api/v1/learners/me/deposits", headers=learner,
                        json={"credential": someone_elses})
    assert (twice.status_code, twice.json["message"]) == (
        409, f"you already deposited {someone_elses['id']}")
    review = f"/api/v1/deposits/{mismatch.json['id']}/review"
    unreasoned = client.post(review, headers=operator, json={"verdict": "reject"})
    assert (unreasoned.status_code, unreasoned.json["errors"]) == (
        422, {"reasons": ["must not be empty"]})
    assert client.post(review, headers=operator, json={"verdict": "accept"}).json["status"] == (
        "accepted")
    reviewed = client.post(review, headers=operator, json={"verdict": "accept"})
    assert (reviewed.status_code, reviewed.json["message"]) == (
        409, f"deposit {mismatch.json['id']} is accepted, not waiting for review")
    after = client.get("/api/v1/learners/me", headers=learner).json["credentials"]
    assert [(item["id"], item["source"]) for item in after] == [
        *((item["id"], item["source"]) for item in record["credentials"]),
        (someone_elses["id"], "deposit")]

    opening = {"national_id": "11010119900307451X", "password": "short"}
    short = client.post("/api/v1/learners", json=opening)
    assert (short.status_code, short.json["errors"]) == (
        422, {"password": ["must be at least 10 characters"]})
    bad_id = client.post("/api/v1/learners", json={"national_id": "no!", "password": PASSWORD})
    assert (bad_id.status_code, bad_id.json["errors"]) == (
        422, {"national_id": ["must be 4–64 letters, digits or '-'"]})
    duplicate = client.post("/api/v1/learners", json={"national_id": LEARNER_ID,
                                                      "password": PASSWORD})
    assert (duplicate.status_code, duplicate.json["message"]) == (
        409, "an account for this learner already exists; log in instead")
    wrong = client.post("/api/v1/learners/token", json={"national_id": LEARNER_ID,
                                                        "password": "wrong password!"})
    assert (wrong.status_code, wrong.json) == (
        401, error(401, "the national id or the password is wrong"))
    bulk = client.post("/api/v1/learners/bulk", headers=bearer(bank.tokens["hdvc"]),
                       json={"national_ids": ["44010619850315001X", "x", "44010619850315001X"]})
    assert (bulk.status_code, bulk.json["errors"]) == (422, {"national_ids": {
        "1": {"national_id": ["must be 4–64 letters, digits or '-'"]},
        "2": {"national_id": ["repeats entry 0"]}}})


def test_revoking_a_whole_batch_flags_the_decision_once(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    operator = bearer(bank.operator)
    learner = bank.open_account()
    bank.issue("hdvc", [outcome("WH110", "B"), outcome("MATH110", "A")])
    application = client.post("/api/v1/applications", headers=learner,
                              json={"rule_set_id": RULE_SET, "version": 1}).json["id"]
    path = f"/api/v1/applications/{application}"
    client.post(f"{path}/first-review", headers=bearer(bank.tokens["bjou"]),
                json={"verdict": "approve"})
    decided = client.post(f"{path}/second-review", headers=operator,
                          json={"verdict": "approve"}).json["decisions"][0]
    assert (decided["credits"], decided["categories"]) == (7, {"general": 4, "major": 3})

    with runtime.engine.begin() as connection:
        batch = connection.execute(select(credentials.c.batch_id).distinct().where(
            credentials.c.issuer_id == "hdvc")).scalar_one()
        request_revocation(connection, "hdvc", reason=5, batch_id=batch,
                           actor="institution:hdvc")
    assert watch_once(runtime.engine, runtime.ledger) == []
    bank.worker.run_once()
    assert watch_once(runtime.engine, runtime.ledger) == [decided["id"]]
    flag = client.get(path, headers=operator).json["decisions"][0]["flag_reason"]
    assert flag.count("(fraud)") == 2
    confirmed = client.post(f"{path}/flag-review", headers=operator, json={
        "outcome": "confirmed", "reasons": ["the learner re-sat both courses"]}).json
    assert ([item["flagged"] for item in confirmed["decisions"]],
            confirmed["reviews"][-1]["stage"]) == ([False], "flag:1")
    assert watch_once(runtime.engine, runtime.ledger) == []
    assert client.post(f"{path}/flag-review", headers=operator, json={
        "outcome": "confirmed", "reasons": ["again"]}).json["message"] == (
        "the decision is not flagged for review")


def test_applications_sent_at_once_open_one_review(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    learner = bank.open_account()
    bank.issue("bjou", [outcome("LOG201", "A")])
    start = threading.Barrier(4)

    def send(_: int) -> int:
        start.wait()
        return bank.client.post("/api/v1/applications", headers=learner,
                                json={"rule_set_id": RULE_SET, "version": 1}).status_code

    with ThreadPoolExecutor(4) as pool:
        answers = sorted(pool.map(send, range(4)))
    listed = bank.client.get("/api/v1/applications", headers=learner).json
    assert (answers, len(listed["applications"])) == ([201, 409, 409, 409], 1)
