"""A learner's way through the credit bank, end to end over the API, with numbers.

Wang Fang holds BJOU's own LOG201 (4 credits), four HDVC courses (WH110 3, MATH110 4, ENG110 3,
ACC110 3 failed), the courier-operator certificate, and deposits a XuetangX MOOC (2 credits,
85%). Under BJOU's rules that is 7 major + 9 general = 16 credits, and LOG101-103 (8 credits)
exempted. BJOU's first review excludes ENG110; the city centre decides 13 credits; on appeal
it amends to 16; HDVC then revokes WH110, the decision is flagged, and amended to 13 again.
"""

from __future__ import annotations

import copy

from bank.revocation_watch import watch_once
from issuers.revocation import request_revocation
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OTHER_ID,
    PASSWORD,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    outcome,
    xuetang_credential,
)
from tests.support.times import is_iso_utc
from verify import Context, Status, verify_credential

EXEMPTED = ["LOG101", "LOG102", "LOG103"]


def without_times(decision: dict) -> dict:
    """The decision's content without ids and clock readings."""
    return {
        "verdict": decision["verdict"],
        "rule_set": decision["rule_set"],
        "credits": decision["credits"],
        "categories": decision["categories"],
        "exempted_units": decision["exempted_units"],
        "lines": sorted((line["units"][0], line["decision"], line.get("rule_id"),
                         line.get("category"), line["credits"]) for line in decision["lines"]),
        "reasons": [(reason["code"], reason.get("stage"), reason["message"])
                    for reason in decision["reasons"]],
        "reviewers": [(item["stage"], item["reviewer"], item["verdict"])
                      for item in decision["reviewers"]],
        "in_force": decision["in_force"],
        "flagged": decision["flagged"],
    }


def test_learner_applies_is_reviewed_twice_appeals_and_gets_a_transcript(
        runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    bjou, operator = bearer(bank.tokens["bjou"]), bearer(bank.operator)
    learner = bank.open_account()
    did = client.get("/api/v1/learners/me", headers=learner).json["account"]["did"]

    log201, = bank.issue("bjou", [outcome("LOG201", "A")])
    wh110, math110, eng110, acc110 = bank.issue("hdvc", [
        outcome("WH110", "B+"), outcome("MATH110", "B"), outcome("ENG110", "A-"),
        outcome("ACC110", "F")])
    courier, = bank.issue("courier", [outcome("CERT-COURIER", "Pass", scale="pass-fail")])

    me = client.get("/api/v1/learners/me", headers=learner).json
    assert sorted((c["unit"], c["id"], c["source"], c["credits"]) for c in me["credentials"]) == [
        ("ACC110", acc110, "issued", 3), ("CERT-COURIER", courier, "issued", 8),
        ("ENG110", eng110, "issued", 3), ("LOG201", log201, "issued", 4),
        ("MATH110", math110, "issued", 4), ("WH110", wh110, "issued", 3)]
    assert is_iso_utc(me["account"]["created_at"])

    # Deposits: the genuine MOOC credential is accepted, a tampered copy waits for review.
    mooc = xuetang_credential(runtime, did)
    tampered = copy.deepcopy(mooc)
    tampered["id"] = "urn:uuid:0d7c5e0a-1111-4d2b-9a51-2f0c8e1d4a77"
    tampered["credentialSubject"]["result"][0]["value"] = "100"
    accepted = client.post("/api/v1/learners/me/deposits", json={"credential": mooc},
                           headers=learner)
    review = client.post("/api/v1/learners/me/deposits",
                         json={"credential": tampered, "evidence": "certificate scan"},
                         headers=learner)
    assert (accepted.status_code, accepted.json["status"], accepted.json["verdict"]) == (
        201, "accepted", "VALID")
    assert (review.status_code, review.json["status"], review.json["verdict"],
            review.json["reason"], review.json["evidence"]) == (
        201, "review", "INVALID", "SIGNATURE_INVALID", "certificate scan")
    queue = client.get("/api/v1/deposits", headers=operator).json["deposits"]
    assert [item["id"] for item in queue] == [review.json["id"]]
    rejected = client.post(f"/api/v1/deposits/{review.json['id']}/review", headers=operator,
                           json={"verdict": "reject", "reasons": ["the grade was altered"]})
    assert (rejected.json["status"], rejected.json["reviewer"],
            rejected.json["review_reasons"]) == (
        "rejected", "operator:city-centre", ["the grade was altered"])

    # Target programme and progress: 16 credits, 8 exempted, 72 still required in total.
    target = client.put("/api/v1/learners/me/target", headers=learner,
                        json={"rule_set_id": RULE_SET, "version": 1})
    assert target.json == {"rule_set_id": RULE_SET, "version": 1}
    audit = client.get("/api/v1/learners/me/progress", headers=learner).json["audit"]
    assert (audit["credits"], audit["exempted"], audit["complete"]) == (16, 8, False)
    assert [(r["id"], r["required"], r["counted"]) for r in audit["requirements"]] == [
        ("total", 72, 16), ("category:general", 15, 9), ("category:major", 37, 7)]

    # Apply; BJOU's first review excludes ENG110; the city centre's second review decides.
    applied = client.post("/api/v1/applications", json={}, headers=learner)
    assert (applied.status_code, applied.json["status"]) == (201, "submitted")
    application = applied.json["id"]
    first = client.post(f"/api/v1/applications/{application}/first-review", headers=bjou, json={
        "verdict": "approve", "reasons": ["recognised under rules v1"],
        "excluded": [{"credential": eng110,
                      "reason": "level 4 English does not meet the level 5 outcomes"}]})
    assert first.json["status"] == "first_reviewed"
    second = client.post(f"/api/v1/applications/{application}/second-review", headers=operator,
                         json={"verdict": "approve", "reasons": ["confirmed"]})
    assert second.json["status"] == "decided"
    decision = second.json["decisions"][0]
    content_hash = applied.json["rule_set"]["content_hash"]
    rule_set = {"id": RULE_SET, "version": 1, "content_hash": content_hash,
                "institution": "bjou"}
    failed = ("failed", None, "Failed (grade F on the letter scale).")
    excluded = ("excluded-by-reviewer", "first",
                "level 4 English does not meet the level 5 outcomes")
    reviewers = [("first", "institution:bjou", "approve"),
                 ("second", "operator:city-centre", "approve")]
    assert without_times(decision) == {
        "verdict": "granted", "rule_set": rule_set, "credits": 13,
        "categories": {"general": 6, "major": 7}, "exempted_units": EXEMPTED,
        "lines": [
            ("CERT-COURIER", "exemption", "courier-exemption", None, 0),
            ("LOG201", "home", None, "major", 4),
            ("MATH110", "transfer", "hdvc-general", "general", 4),
            ("MOOC-LOGI", "transfer", "mooc-general", "general", 2),
            ("WH110", "transfer", "hdvc-warehouse", "major", 3),
        ],
        "reasons": [failed, excluded], "reviewers": reviewers,
        "in_force": True, "flagged": False,
    }
    assert decision["appeal_deadline"] is not None

    # The learner appeals; the city centre amends on a fresh audit: 16 credits, final.
    appealed = client.post(f"/api/v1/applications/{application}/appeal", headers=learner,
                           json={"grounds": "ENG110 covers the programme's English outcomes"})
    assert (appealed.status_code, appealed.json["status"]) == (201, "appealed")
    amended = client.post(f"/api/v1/applications/{application}/appeal-decision",
                          headers=operator, json={"outcome": "amended",
                                                  "reasons": ["the syllabus matches"]})
    assert amended.json["status"] == "decided"
    assert [item["status"] for item in amended.json["appeals"]] == ["amended"]
    on_appeal, original = amended.json["decisions"]
    assert (original["in_force"], on_appeal["in_force"], on_appeal["sequence"]) == (
        False, True, 2)
    assert (on_appeal["credits"], on_appeal["categories"], on_appeal["appeal_deadline"]) == (
        16, {"general": 9, "major": 7}, None)
    assert [item["stage"] for item in on_appeal["reviewers"]] == ["first", "second", "appeal"]

    # HDVC revokes WH110: the watch flags the decision; the city centre amends it to 13.
    with runtime.engine.begin() as connection:
        request_revocation(connection, "hdvc", reason=3, credential_id=wh110,
                           actor="institution:hdvc")
    bank.worker.run_once()
    assert watch_once(runtime.engine, runtime.ledger) == [on_appeal["id"]]
    assert watch_once(runtime.engine, runtime.ledger) == []
    flagged = client.get("/api/v1/applications?flagged=true", headers=operator).json
    assert [item["id"] for item in flagged["applications"]] == [application]
    flag = client.get(f"/api/v1/applications/{application}",
                      headers=operator).json["decisions"][0]
    assert (flag["flagged"], flag["flag_reason"].split(" was revoked")[0]) == (True, wh110)
    reviewed = client.post(f"/api/v1/applications/{application}/flag-review", headers=operator,
                           json={"outcome": "amended", "reasons": ["WH110 was issued in error"]})
    latest = reviewed.json["decisions"][0]
    assert (latest["sequence"], latest["credits"], latest["categories"]) == (
        3, 13, {"general": 9, "major": 4})
    assert ("revoked", None, "The credential has been revoked.") in without_times(latest)[
        "reasons"]
    assert latest["appeal_deadline"] is not None
    assert client.get("/api/v1/applications?flagged=true", headers=operator).json == {
        "applications": [], "next": None}

    # The transcript: a CLR of the six credentials that still verify, signed and anchored.
    requested = client.post("/api/v1/learners/me/transcripts", json={}, headers=learner)
    assert (requested.status_code, requested.json["status"]) == (202, "signed")
    bank.worker.drain({requested.json["batch"]})
    transcript = client.get(f"/api/v1/learners/me/transcripts/{requested.json['id']}",
                            headers=learner).json
    clr = transcript["credential"]
    assert transcript["status"] == "anchored"
    assert sorted(c["id"] for c in clr["credentialSubject"]["verifiableCredential"]) == sorted(
        [log201, math110, eng110, acc110, courier, mooc["id"]])
    report = verify_credential(clr, Context(ChainView(runtime.ledger)))
    assert report.verdict is Status.VALID, report.to_json()


def test_institution_opens_accounts_in_bulk_and_learners_activate_them(
        runtime: Runtime) -> None:
    bank: Bank = city_bank(runtime, approve=False)
    client = bank.client
    hdvc = bearer(bank.tokens["hdvc"])
    bank.issue("hdvc", [outcome("WH110", "B+", national_id=national_id)
                        for national_id in (LEARNER_ID, OTHER_ID)])
    bank.issue("bjou", [outcome("LOG201", "A")])
    bulk = client.post("/api/v1/learners/bulk", headers=hdvc,
                       json={"national_ids": [LEARNER_ID, OTHER_ID]})
    assert bulk.status_code == 201
    first, second = bulk.json["accounts"]
    again = client.post("/api/v1/learners/bulk", headers=hdvc,
                        json={"national_ids": [OTHER_ID]})
    (renewed,) = again.json["accounts"]
    assert (renewed["did"], len(renewed["activation_code"]),
            renewed["activation_code"] == second["activation_code"]) == (second["did"], 16, False)

    opened = {"national_id": LEARNER_ID, "password": "correct horse battery"}
    refused = client.post("/api/v1/learners", json=opened)
    assert (refused.status_code, refused.json["errors"]) == (
        403, {"activation_code": ["is missing or wrong"]})
    activated = client.post("/api/v1/learners", json={
        **opened, "activation_code": first["activation_code"]})
    assert (activated.status_code, activated.json["did"], activated.json["opened_by"],
            activated.json["activated"]) == (201, first["did"], "hdvc", True)
    assert client.post("/api/v1/learners", json={
        **opened, "activation_code": first["activation_code"]}).status_code == 409
    learner = bank.log_in(LEARNER_ID)
    assert learner["Authorization"].startswith("Bearer cbl_")
    record = client.get("/api/v1/learners/me", headers=learner).json
    assert ([item["unit"] for item in record["credentials"]], record["identity"]["institutions"],
            record["identity"]["real_name"]) == (["WH110"], ["hdvc"], False)
    token = client.post("/api/v1/learners/token",
                        json={"national_id": LEARNER_ID, "password": PASSWORD}).json
    assert is_iso_utc(token["expires_at"])
