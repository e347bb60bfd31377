"""Every credit-bank endpoint against every role: anonymous, two learners, the receiving
institution, another institution and the city centre's operator. A learner sees only their
own records (another's are 404), an institution only applications under its rule sets."""

from __future__ import annotations

from sqlalchemy import update

from bank.tables import learner_tokens
from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID, OTHER_ID, RULE_SET, bearer, city_bank, outcome
from tests.support.minors import born_ago, national_id

ROLES = ("anonymous", "learner", "other_learner", "receiving", "other_institution", "operator")


def test_every_endpoint_answers_each_role_as_authorised(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    client = bank.client
    learner = bank.open_account()
    bank.issue("bjou", [outcome("LOG201", "A")])
    headers = {
        "anonymous": {},
        "learner": learner,
        "other_learner": bank.open_account(OTHER_ID),
        "receiving": bearer(bank.tokens["bjou"]),
        "other_institution": bearer(bank.tokens["hdvc"]),
        "operator": bearer(bank.operator),
    }
    target = {"rule_set_id": RULE_SET, "version": 1}
    client.put("/api/v1/learners/me/target", json=target, headers=learner)
    application = client.post("/api/v1/applications", json={}, headers=learner).json["id"]
    junk = {"id": "urn:uuid:3f1c0e0a-2222-4d2b-9a51-2f0c8e1d4a77", "type": ["Nothing"]}
    deposit = client.post("/api/v1/learners/me/deposits", json={"credential": junk},
                          headers=learner).json["id"]
    transcript = client.post("/api/v1/learners/me/transcripts", json={}, headers=learner)
    assert transcript.status_code == 202
    review = {"verdict": "approve", "reasons": ["ok"]}
    learner_id = client.get("/api/v1/learners/me", headers=learner).json["account"]["id"]
    about_account = {"about": "account", "object_id": learner_id, "request": "Name misspelt"}
    correction = client.post("/api/v1/learners/me/corrections", json=about_account,
                             headers=learner).json["id"]
    consent = client.get(f"/api/v1/applications/{application}",
                         headers=learner).json["consent"]["id"]
    staff_only = {"anonymous": 401, "learner": 403, "other_learner": 403}
    app_path = f"/api/v1/applications/{application}"
    learners_only = {"anonymous": 401, "receiving": 403, "other_institution": 403,
                     "operator": 403}
    operator_only = {"anonymous": 401, "learner": 403, "other_learner": 403, "receiving": 403,
                     "other_institution": 403}
    child = {"national_id": national_id(born_ago(13)), "password": "a child's password"}
    matrix = [
        ("POST", "/api/v1/learners", child, {role: 403 for role in ROLES}),
        ("GET", "/api/v1/learners/me", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("PUT", "/api/v1/learners/me/target", target,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("GET", "/api/v1/learners/me/progress", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("GET", "/api/v1/learners/me/export?format=pdf", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("GET", "/api/v1/learners/me/access", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("GET", "/api/v1/learners/me/deposits", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("GET", f"/api/v1/learners/me/deposits/{deposit}", None,
         {**learners_only, "other_learner": 404, "learner": 200}),
        ("POST", "/api/v1/learners/me/deposits", {"credential": {"id": "urn:x:1"}},
         {**learners_only, "learner": 201, "other_learner": 201}),
        ("GET", f"/api/v1/learners/me/transcripts/{transcript.json['id']}", None,
         {**learners_only, "other_learner": 404, "learner": 200}),
        ("POST", "/api/v1/learners/me/transcripts", {},
         {**learners_only, "other_learner": 422, "learner": 202}),
        ("POST", "/api/v1/learners/bulk", {"national_ids": [LEARNER_ID]},
         {"anonymous": 401, "learner": 403, "other_learner": 403, "operator": 403,
          "receiving": 201, "other_institution": 422}),
        ("POST", "/api/v1/learners/me/activation-codes", {"activation_code": "not-a-code"},
         {**learners_only, "learner": 422, "other_learner": 422}),
        ("POST", "/api/v1/learners/identity-checks", {"national_id": "44010619850315001X"},
         {**operator_only, "operator": 201}),
        ("GET", "/api/v1/deposits", None, {**operator_only, "operator": 200}),
        ("GET", f"/api/v1/deposits/{deposit}", None, {**operator_only, "operator": 200}),
        ("POST", f"/api/v1/deposits/{deposit}/review", {"verdict": "accept"},
         {**operator_only, "operator": 200}),
        ("GET", "/api/v1/applications", None,
         {"anonymous": 401, **{role: 200 for role in ROLES[1:]}}),
        ("GET", app_path, None, {"anonymous": 401, "other_learner": 404,
                                 "other_institution": 403, "learner": 200, "receiving": 200,
                                 "operator": 403}),
        ("POST", "/api/v1/applications", target,
         {**learners_only, "other_learner": 422, "learner": 409}),
        ("POST", f"{app_path}/second-review", review, {**operator_only, "operator": 409}),
        ("POST", f"{app_path}/first-review", review,
         {"anonymous": 401, "learner": 403, "other_learner": 403, "operator": 403,
          "other_institution": 404, "receiving": 200}),
        ("POST", f"{app_path}/second-review", review, {**operator_only, "operator": 200}),
        ("POST", f"{app_path}/flag-review", {"outcome": "confirmed", "reasons": ["ok"]},
         {**operator_only, "operator": 409}),
        ("POST", f"{app_path}/appeal", {"grounds": "ENG110 matches"},
         {**learners_only, "other_learner": 404, "learner": 201}),
        ("POST", f"{app_path}/appeal-decision", {"outcome": "upheld", "reasons": ["ok"]},
         {**operator_only, "operator": 200}),
        ("GET", "/api/v1/learners/me/consents", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("POST", f"/api/v1/learners/me/consents/{consent}/withdrawal", None,
         {**learners_only, "other_learner": 404, "learner": 200}),
        ("GET", "/api/v1/learners/me/corrections", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("POST", "/api/v1/learners/me/corrections", about_account,
         {**learners_only, "other_learner": 422, "learner": 201}),
        ("GET", "/api/v1/corrections", None,
         {**staff_only, "receiving": 200, "other_institution": 200, "operator": 200}),
        ("GET", f"/api/v1/corrections/{correction}", None,
         {**staff_only, "receiving": 404, "other_institution": 404, "operator": 200}),
        ("POST", f"/api/v1/corrections/{correction}/answer",
         {"status": "corrected", "answer": "Fixed"},
         {**staff_only, "receiving": 404, "other_institution": 404, "operator": 200}),
        ("GET", "/api/v1/learners/me/closure", None,
         {**learners_only, "learner": 200, "other_learner": 200}),
        ("POST", "/api/v1/learners/me/closure", {"password": "not the password"},
         {**learners_only, "learner": 401, "other_learner": 401}),
        ("DELETE", "/api/v1/learners/me/closure", None,
         {**learners_only, "learner": 409, "other_learner": 409}),
    ]
    answers = [
        (method, path, {role: client.open(path, method=method, json=body,
                                          headers=headers[role]).status_code
                        for role in expected})
        for method, path, body, expected in matrix
    ]
    assert answers == [(method, path, expected) for method, path, _body, expected in matrix]

    listed = {role: [item["id"] for item in client.get(
        "/api/v1/applications", headers=headers[role]).json["applications"]]
        for role in ROLES[1:]}
    assert listed == {"learner": [application], "other_learner": [], "receiving": [application],
                      "other_institution": [], "operator": [application]}

    token = learner["Authorization"].removeprefix("Bearer ")
    with runtime.engine.begin() as connection:
        connection.execute(update(learner_tokens).values(expires_at=0))
    expired = client.get("/api/v1/learners/me", headers=bearer(token))
    assert (expired.status_code, expired.json["message"],
            expired.headers["WWW-Authenticate"]) == (
        401, "the token is not valid (or has expired)", 'Bearer realm="creditbank"')
    assert client.get("/api/v1/learners/me", headers=bearer("cbx_unknown")).status_code == 401
