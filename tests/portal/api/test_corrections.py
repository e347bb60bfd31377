"""The correction and consent APIs on both databases: a learner asks about their own records
only, bad input is refused naming the field (unknown members too), the owner's queue holds no
learner identity, opening a request is logged, the answer reaches the learner; consents list
with their words and withdraw with their effect."""

from __future__ import annotations

from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, RULE_SET, bearer, city_bank, outcome

PATH = "/api/v1/learners/me/corrections"


def test_a_learner_asks_and_the_issuer_answers_through_the_api(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    learner = bank.open_account()
    other = bank.open_account(OTHER_ID)
    [credential] = bank.issue("hdvc", [outcome("WH110", "B")])
    [theirs] = bank.issue("hdvc", [outcome("WH110", "C", national_id=OTHER_ID)])
    hdvc, bjou = bearer(bank.tokens["hdvc"]), bearer(bank.tokens["bjou"])

    listed = client.get(PATH, headers=learner).json
    assert listed["corrections"] == []
    assert [item["about"] for item in listed["objects"]] == ["account"]
    refusals = [
        ({"about": "credential", "object_id": theirs, "request": "wrong grade"},
         {"object_id": ["is not one of your credential records"]}),
        ({"about": "transcript", "object_id": credential, "request": "wrong grade"},
         {"json": {"about": ["Must be one of: credential, deposit, decision, account."]}}),
        ({"about": "credential", "object_id": credential, "request": ""},
         {"json": {"request": ["Length must be between 1 and 2000."]}}),
        ({"about": "credential", "object_id": credential, "request": "x" * 2001},
         {"json": {"request": ["Length must be between 1 and 2000."]}}),
        ({"about": "credential", "object_id": credential, "request": "bad\u0000grade"},
         {"request": ["must not hold control characters"]}),
        ({"about": "credential", "object_id": credential, "request": "wrong", "urgent": True},
         {"json": {"urgent": ["Unknown field."]}}),
        ({"about": "credential", "request": "wrong"},
         {"json": {"object_id": ["Missing data for required field."]}}),
    ]
    answers = [client.post(PATH, json=body, headers=learner) for body, _errors in refusals]
    assert [(answer.status_code, answer.json["errors"]) for answer in answers] == [
        (422, errors) for _body, errors in refusals]

    asked = client.post(PATH, headers=learner, json={
        "about": "credential", "object_id": credential,
        "request": "My grade was B+, not B."})
    assert (asked.status_code, asked.json["routed_to"], asked.json["status"]) == (
        201, "hdvc", "open")
    correction = asked.json["id"]
    queue = client.get("/api/v1/corrections", headers=hdvc).json["corrections"]
    assert [sorted(item) for item in queue] == [
        ["about", "answered_at", "id", "requested_at", "status"]]
    assert client.get("/api/v1/corrections", headers=bjou).json == {"corrections": [], "next": None}
    assert client.get("/api/v1/corrections?status=maybe",
                      headers=hdvc).json["errors"] == {"query": {"status": [
                          "Must be one of: open, corrected, refused."]}}
    assert client.get(f"/api/v1/corrections/{correction}", headers=bjou).status_code == 404
    opened = client.get(f"/api/v1/corrections/{correction}", headers=hdvc).json
    assert (opened["request"], opened["object"]["unit"]) == ("My grade was B+, not B.", "WH110")
    reads = client.get("/api/v1/learners/me/access", headers=learner).json
    assert [(item["actor"], item["purpose"]) for item in reads["reads"]
            if item["what"] == "correction"] == [("institution:hdvc", "correction")]

    answer = f"/api/v1/corrections/{correction}/answer"
    assert client.post(answer, headers=hdvc, json={"status": "corrected"}).json["errors"] == {
        "json": {"answer": ["Missing data for required field."]}}
    assert client.post(answer, headers=hdvc, json={
        "status": "corrected", "answer": "ok", "notify": False}).json["errors"] == {
        "json": {"notify": ["Unknown field."]}}
    assert client.post(answer, headers=bjou, json={
        "status": "refused", "answer": "no"}).status_code == 404
    done = client.post(answer, headers=hdvc, json={
        "status": "corrected", "answer": "Reissued with B+."})
    assert (done.status_code, done.json["status"], done.json["answer"]) == (
        200, "corrected", "Reissued with B+.")
    again = client.post(answer, headers=hdvc, json={"status": "refused", "answer": "no"})
    assert again.status_code == 409
    mine = client.get(PATH, headers=learner).json["corrections"]
    assert [(item["status"], item["answer"]) for item in mine] == [
        ("corrected", "Reissued with B+.")]
    assert client.get(PATH, headers=other).json["corrections"] == []
    notices = client.get("/api/v1/learners/me/notices", headers=learner).json["notices"]
    assert [(item["kind"], item["text"]) for item in notices
            if item["kind"] == "correction_answered"] == [
        ("correction_answered",
         "Your request to correct a credential was answered: corrected.")]


def test_consents_list_with_their_words_and_withdraw_with_their_effect(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    learner = bank.open_account()
    bank.issue("bjou", [outcome("LOG201", "A")])
    applied = client.post("/api/v1/applications", headers=learner,
                          json={"rule_set_id": RULE_SET, "version": 1})
    consent = applied.json["consent"]
    assert (consent["version"], consent["withdrawn_at"], sorted(consent["text"])) == (
        "application-2026-12", None, ["en", "zh"])
    listed = client.get("/api/v1/learners/me/consents", headers=learner).json
    assert [(item["purpose"], item["status"]) for item in listed["consents"]] == [
        ("application", "given"), ("account", "given")]
    assert sorted(listed["texts"]) == ["account", "application", "email-notices", "guardian"]
    account = listed["consents"][1]["id"]
    closing = client.post(f"/api/v1/learners/me/consents/{account}/withdrawal", headers=learner)
    assert (closing.status_code, closing.json["errors"]) == (
        409, {"consent": ["close the account instead: /me/close"]})
    withdrawn = client.post(f"/api/v1/learners/me/consents/{consent['id']}/withdrawal",
                            headers=learner)
    assert (withdrawn.status_code, withdrawn.json["effect"], withdrawn.json["status"]) == (
        200, "application-withdrawn", "withdrawn")
    assert client.get(f"/api/v1/applications/{applied.json['id']}",
                      headers=learner).json["status"] == "withdrawn"
    unknown = client.post("/api/v1/learners/me/consents/no-such-consent/withdrawal",
                          headers=learner)
    assert unknown.status_code == 404
