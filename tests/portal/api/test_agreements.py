"""The learning-agreement API: unknown members and bad fields are refused by name, a learner
sees only their own agreements, an institution decides only the requests it received, and an
application under an approved agreement records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, RULE_SET, bearer, city_bank, outcome


def test_learners_ask_and_institutions_decide_through_the_api(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    learner, other = bank.open_account(), bank.open_account(OTHER_ID)
    bjou, hdvc = bearer(bank.tokens["bjou"]), bearer(bank.tokens["hdvc"])
    complete_by = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    body = {"programme": f"{RULE_SET}@1", "units": ["hdvc:WH110"], "complete_by": complete_by}

    unknown = client.post("/api/v1/agreements", headers=learner, json={**body, "credits": 9})
    assert (unknown.status_code, list(unknown.json["errors"]["json"])) == (422, ["credits"])
    late = client.post("/api/v1/agreements", headers=learner,
                       json={**body, "complete_by": "2020-01-01"})
    assert (late.status_code, late.json["errors"]) == (
        422, {"complete_by": ["must be after today"]})
    assert client.post("/api/v1/agreements", headers=bjou, json=body).status_code == 403
    made = client.post("/api/v1/agreements", headers=learner, json=body)
    assert (made.status_code, made.json["status"], made.json["agreed_credits"]) == (
        201, "requested", 3)
    path = f"/api/v1/agreements/{made.json['id']}"

    assert client.get(path, headers=other).status_code == 404
    assert client.get(path, headers=hdvc).status_code == 403
    assert client.get("/api/v1/agreements", headers=other).json == {"agreements": [],
                                                                    "next": None}
    assert client.post(f"{path}/decision", headers=hdvc,
                       json={"verdict": "approve"}).status_code == 404
    assert client.post(f"{path}/decision", headers=bjou,
                       json={"verdict": "refuse"}).json["errors"] == {
        "reasons": ["must not be empty"]}
    approved = client.post(f"{path}/decision", headers=bjou, json={"verdict": "approve"})
    assert (approved.status_code, approved.json["status"],
            approved.json["credential"]["status"]) == (200, "approved", "signed")
    again = client.post(f"{path}/decision", headers=bjou, json={"verdict": "approve"})
    assert again.json["credential"]["id"] == approved.json["credential"]["id"]
    refused = client.post(f"{path}/decision", headers=bjou,
                          json={"verdict": "refuse", "reasons": ["changed our mind"]})
    assert (refused.status_code, refused.json["message"]) == (
        409, "the agreement is already approved")
    reads = client.get("/api/v1/learners/me/access", headers=learner).json["reads"]
    assert [(read["actor"], read["object_id"], read["purpose"]) for read in reads
            if read["what"] == "agreement"] == [
        ("institution:bjou", made.json["id"], "agreement-review")] * 2
    assert [read["purpose"] for read in reads if read["what"] == "account"] == [
        "identity-check"]

    bank.issue("hdvc", [outcome("WH110", "B")])
    applied = client.post("/api/v1/applications", headers=learner,
                          json={"agreement_id": made.json["id"]})
    assert (applied.status_code, applied.json["agreement_id"],
            applied.json["rule_set"]["version"]) == (201, made.json["id"], 1)
    foreign = client.post("/api/v1/applications", headers=other,
                          json={"agreement_id": made.json["id"]})
    assert foreign.status_code == 404
