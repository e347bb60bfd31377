"""The issuer API end to end: issue, anchor, verify; bad input, idempotency, scoping, revocation."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bank.accounts import new_operator_token
from issuers.anchoring import AnchoringWorker
from issuers.learners import credentials_of_learner
from issuers.registry import issuer_record
from issuers.tables import credentials
from ledger.views import ChainView
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.issuer import EXAMPLES, accredited, outcome
from tests.support.rules import rule_set_json
from tests.support.times import is_iso_utc
from verify import Code, Context, Status, verify_credential


@pytest.fixture
def bank(runtime: Runtime):
    """The portal's test client, an accredited issuer's headers, and an anchoring worker."""
    accreditation = accredited(runtime)
    app = create_app(runtime, {"ISSUE_MAX_OUTCOMES": 50})
    return (
        app.test_client(),
        {"Authorization": f"Bearer {accreditation.token}"},
        AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings),
    )


def verdict(runtime: Runtime, credential: dict) -> tuple[Status, list]:
    report = verify_credential(credential, Context(ChainView(runtime.ledger)))
    failed = [(f.name, str(f.code)) for f in report.fragments if f.status is not Status.VALID]
    return report.verdict, failed


def error(status: int, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": _NAMES[status], "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


_NAMES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
}


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_issue_anchor_deliver_verify(runtime: Runtime, bank, suite: str) -> None:
    client, headers, worker = bank
    body = {"outcomes": [outcome(), outcome("320102198811123456", grade="B")], "cryptosuite": suite}
    issued = client.post("/api/v1/credentials", json=body, headers=headers)
    assert issued.status_code == 201
    (batch_id,) = issued.json["batches"]
    assert [c["batch"] for c in issued.json["credentials"]] == [batch_id, batch_id]
    pending = client.get(f"/api/v1/batches/{batch_id}", headers=headers).json
    assert (pending["status"], pending["transaction_hash"], pending["size"]) == ("open", None, 2)
    assert (is_iso_utc(pending["opened_at"]), pending["anchored_at"]) == (True, None)

    worker.drain({batch_id})

    batch = client.get(f"/api/v1/batches/{batch_id}", headers=headers).json
    anchor = ChainView(runtime.ledger).anchor(bytes.fromhex(batch["root"][2:]))
    assert (batch["status"], batch["block"]) == ("anchored", anchor.block)
    assert all(is_iso_utc(batch[name]) for name in ("opened_at", "closed_at", "anchored_at"))
    for entry in issued.json["credentials"]:
        record = client.get(f"/api/v1/credentials/{entry['id']}", headers=headers).json
        assert (record["status"], record["learner"]) == ("anchored", entry["learner"])
        assert record["credential"]["proof"][0]["cryptosuite"] == suite
        assert record["credential"]["proof"][1]["transactionHash"] == batch["transaction_hash"]
        assert verdict(runtime, record["credential"]) == (Status.VALID, [])
        delivered = credentials_of_learner(runtime.engine, entry["learner"])
        assert delivered == [record["credential"]]


def test_csv_upload_issues_every_line(runtime: Runtime, bank) -> None:
    client, headers, worker = bank
    upload = {"file": ((EXAMPLES / "outcomes.csv").open("rb"), "outcomes.csv")}
    issued = client.post("/api/v1/credentials", data=upload, headers=headers)
    assert issued.status_code == 201
    assert len(issued.json["credentials"]) == 4
    worker.drain(set(issued.json["batches"]))
    for entry in issued.json["credentials"]:
        record = client.get(f"/api/v1/credentials/{entry['id']}", headers=headers).json
        assert verdict(runtime, record["credential"]) == (Status.VALID, [])


def test_bad_outcomes_are_refused_field_by_field_and_nothing_is_issued(bank) -> None:
    client, headers, _ = bank
    first = client.post("/api/v1/credentials", json={"outcomes": [outcome()]}, headers=headers)
    existing = first.json["credentials"][0]["id"]
    outcomes = [
        outcome("11010119900307451X", session="2026 spring"),
        outcome(unit="CS999"),
        outcome(completed_on="2025-02-30"),
        outcome(started_on="2025-07-01"),
        outcome(completed_on="2099-01-01"),
        outcome(completed_on="2023-01-01"),
        outcome(credits=4),
        outcome(credits=-1),
        outcome(),
        outcome(national_id="no!", grade=""),
        outcome(unit_version=7),
        outcome(valid_until="2025-06-30"),
        {"unit": "CS101", "colour": "red"},
    ]
    answer = client.post("/api/v1/credentials", json={"outcomes": outcomes}, headers=headers)
    assert (answer.status_code, answer.json) == (
        422,
        error(
            422,
            "12 of 13 outcomes are invalid; nothing was issued",
            {
                "outcomes": {
                    "1": {"unit": ["unknown unit 'CS999'"]},
                    "2": {"completed_on": ["Not a valid date."]},
                    "3": {"started_on": ["is after completed_on"]},
                    "4": {"completed_on": ["is in the future"]},
                    "5": {
                        "completed_on": [
                            "is outside the validity of unit CS101 v1 (2024-09-01 to 2030-09-01)"
                        ],
                        "started_on": ["is after completed_on"],
                    },
                    "6": {"credits": ["must be between 0 and 3.5, the unit's credit value"]},
                    "7": {"credits": ["must be between 0 and 3.5, the unit's credit value"]},
                    "8": {
                        "session": [f"the learner already has {existing} for this unit and session"]
                    },
                    "9": {"grade": ["Length must be between 1 and 32."]},
                    "10": {"unit_version": ["unit 'CS101' has no version 7"]},
                    "11": {"valid_until": ["must be after completed_on"]},
                    "12": {
                        "colour": ["Unknown field."],
                        "completed_on": ["Missing data for required field."],
                        "grade": ["Missing data for required field."],
                        "national_id": ["Missing data for required field."],
                        "session": ["Missing data for required field."],
                    },
                }
            },
        ),
    )
    listed = client.get("/api/v1/units", headers=headers)
    assert listed.status_code == 200
    again = client.post("/api/v1/credentials", json={"outcomes": outcomes[:1]}, headers=headers)
    assert again.status_code == 201


@pytest.mark.parametrize(
    "number", ["9" * 5000, str(2**53), str(-(2**53)), "1e400", "NaN"],
    ids=["5000 digits", "2^53", "-2^53", "1e400", "NaN"],
)
def test_numbers_json_cannot_carry_exactly_are_refused_by_field(bank, number: str) -> None:
    client, headers, _ = bank
    outcomes = json.dumps({"outcomes": [outcome(), outcome(credits=0), outcome(unit_version=1)]})
    body = outcomes.replace('"credits": 0', f'"credits": {number}').replace(
        '"unit_version": 1', f'"unit_version": {number}')
    answer = client.post("/api/v1/credentials", data=body, content_type="application/json",
                         headers=headers)
    rule = ["must be an integer within ±(2^53−1) or a finite number"]
    assert (answer.status_code, answer.json) == (422, error(
        422, "2 of 3 outcomes hold a number JSON cannot carry exactly; nothing was issued",
        {"outcomes": {"1": {"credits": rule}, "2": {"unit_version": rule}}}))
    again = client.post("/api/v1/credentials", json={"outcomes": [outcome()]}, headers=headers)
    assert again.status_code == 201


def test_a_bad_national_id_and_repeats_within_a_request(bank) -> None:
    client, headers, _ = bank
    outcomes = [outcome(national_id="no!"), outcome(), outcome(national_id=" 110101 199003074514 ")]
    answer = client.post("/api/v1/credentials", json={"outcomes": outcomes}, headers=headers)
    assert (answer.status_code, answer.json) == (
        422,
        error(
            422,
            "2 of 3 outcomes are invalid; nothing was issued",
            {
                "outcomes": {
                    "0": {"national_id": ["must be 4–64 letters, digits or '-'"]},
                    "2": {"session": ["repeats 1: same learner, unit and session"]},
                }
            },
        ),
    )


def test_csv_errors_are_reported_by_line(bank) -> None:
    client, headers, _ = bank
    text = (
        "national_id,unit,session,grade,completed_on,credits\n"
        "110101199003074514,CS101,2025 spring,A,2025-06-30,3.5\n"
        "110101199003074514,CS999,2025 spring,A,2025-06-30,3\n"
        "320102198811123456,CS101,2025 spring,A,2025-06-30,3.5,extra\n"
        "320102198811123456,CS101,2025 autumn,A,2025-06-31,\n"
    )
    upload = {"file": (io.BytesIO(text.encode()), "outcomes.csv")}
    answer = client.post("/api/v1/credentials", data=upload, headers=headers)
    assert (answer.status_code, answer.json) == (
        422,
        error(
            422,
            "3 of 4 lines are invalid; nothing was issued",
            {
                "file": {
                    "line 3": {"unit": ["unknown unit 'CS999'"]},
                    "line 4": {"row": ["has more fields than the header"]},
                    "line 5": {"completed_on": ["Not a valid date."]},
                }
            },
        ),
    )
    header = {"file": (io.BytesIO(b"national_id,unit,colour\n1,2,3\n"), "outcomes.csv")}
    answer = client.post("/api/v1/credentials", data=header, headers=headers)
    assert answer.json["errors"] == {
        "file": {
            "line 1": {
                "header": [
                    "unknown column 'colour'",
                    "missing column 'session'",
                    "missing column 'grade'",
                    "missing column 'completed_on'",
                ]
            }
        }
    }


def test_oversize_requests_are_413(runtime: Runtime) -> None:
    accreditation = accredited(runtime)
    client = create_app(
        runtime, {"ISSUE_MAX_OUTCOMES": 2, "MAX_CONTENT_LENGTH": 4096}
    ).test_client()
    headers = {"Authorization": f"Bearer {accreditation.token}"}
    three = {"outcomes": [outcome(session=str(n)) for n in range(3)]}
    answer = client.post("/api/v1/credentials", json=three, headers=headers)
    assert (answer.status_code, answer.json) == (
        413,
        error(
            413,
            "3 outcomes in one request; the limit is 2 (use `creditbank issue` for bulk files)",
            {"outcomes": ["at most 2 outcomes per request"]},
        ),
    )
    upload = {"file": (io.BytesIO(b"x" * 10_000), "outcomes.csv")}
    answer = client.post("/api/v1/credentials", data=upload, headers=headers)
    assert answer.status_code == 413
    assert answer.json["code"] == 413


def test_tokens_are_required_and_scoped_to_their_issuer(runtime: Runtime, bank) -> None:
    client, headers, _ = bank
    rival = accredited(runtime, "rival-college")
    rival_headers = {"Authorization": f"Bearer {rival.token}"}
    issued = client.post("/api/v1/credentials", json={"outcomes": [outcome()]}, headers=headers)
    credential_id = issued.json["credentials"][0]["id"]
    batch_id = issued.json["batches"][0]
    missing = error(401, "send a token as 'Authorization: Bearer <token>'")
    wrong = error(401, "the token is not valid (or has expired)")
    operator = {"Authorization": f"Bearer {new_operator_token(runtime.engine, 'li', actor='t')}"}
    other_role = error(403, "this is not for the operator role; it is for: institution")
    for path in ("/api/v1/units", f"/api/v1/credentials/{credential_id}"):
        anonymous = client.get(path)
        assert (anonymous.json, anonymous.headers["WWW-Authenticate"]) == (
            missing, 'Bearer realm="creditbank"')
        answer = client.get(path, headers={"Authorization": "Bearer nope"})
        assert (answer.status_code, answer.json) == (401, wrong)
        answer = client.get(path, headers=operator)
        assert (answer.status_code, answer.json) == (403, other_role)
    assert client.post("/api/v1/credentials", json={"outcomes": [outcome()]}).status_code == 401
    for path, message in (
        (f"/api/v1/credentials/{credential_id}", f"no credential {credential_id}"),
        (f"/api/v1/batches/{batch_id}", f"no batch {batch_id}"),
    ):
        answer = client.get(path, headers=rival_headers)
        assert (answer.status_code, answer.json) == (404, error(404, message))
    revoke = client.post(
        f"/api/v1/credentials/{credential_id}/revocation",
        json={"reason": "fraud"},
        headers=rival_headers,
    )
    assert (revoke.status_code, revoke.json) == (404, error(404, f"no credential {credential_id}"))
    assert client.get("/api/v1/units/CS999", headers=headers).json == error(404, "no unit 'CS999'")


def test_idempotency_key_replays_the_first_response(runtime: Runtime, bank) -> None:
    client, headers, _ = bank
    keyed = {**headers, "Idempotency-Key": "graduation-2025"}
    body = {"outcomes": [outcome()]}
    first = client.post("/api/v1/credentials", json=body, headers=keyed)
    again = client.post("/api/v1/credentials", json=body, headers=keyed)
    assert (first.status_code, again.status_code, again.json) == (201, 201, first.json)
    other = client.post(
        "/api/v1/credentials", json={"outcomes": [outcome(session="2025 autumn")]}, headers=keyed
    )
    assert (other.status_code, other.json) == (
        422,
        error(
            422,
            "Idempotency-Key 'graduation-2025' was already used with a different request",
            {"Idempotency-Key": ["was already used with a different request; use a new key"]},
        ),
    )
    reopened = create_app(runtime).test_client()
    after_restart = reopened.post("/api/v1/credentials", json=body, headers=keyed)
    assert (after_restart.status_code, after_restart.json) == (201, first.json)


def test_units_are_versioned(bank) -> None:
    client, headers, _ = bank
    units = json.loads((EXAMPLES / "units.json").read_text("utf-8"))["units"]
    same = client.post("/api/v1/units", json={"units": units[:1]}, headers=headers)
    assert [u["version"] for u in same.json["units"]] == [1]
    changed = client.post(
        "/api/v1/units", json={"units": [{**units[0], "hours": 50}]}, headers=headers
    )
    assert (changed.status_code, changed.json["units"][0]["version"]) == (201, 2)
    versions = client.get("/api/v1/units/CS101", headers=headers).json["units"]
    assert [(u["version"], u["hours"]) for u in versions] == [(1, 48), (2, 50)]
    bad = client.post(
        "/api/v1/units",
        json={"units": [{**units[0], "kind": "mooc", "credit_value": 0}]},
        headers=headers,
    )
    assert (bad.status_code, bad.json) == (
        422,
        error(
            422,
            "some units are invalid; none was added",
            {
                "units": {
                    "0": {
                        "credit_value": ["Must be greater than 0 and less than or equal to 1000."]
                    }
                }
            },
        ),
    )
    scope = client.post(
        "/api/v1/units", json={"units": [{**units[0], "kind": "mooc"}]}, headers=headers
    )
    assert scope.json["errors"] == {
        "units": {"0": {"kind": ["the issuer is accredited for course,certificate, not mooc"]}}
    }


def test_revoke_a_credential_then_a_batch(runtime: Runtime, bank) -> None:
    client, headers, worker = bank
    body = {"outcomes": [outcome(), outcome("320102198811123456")]}
    issued = client.post("/api/v1/credentials", json=body, headers=headers).json
    (batch_id,) = issued["batches"]
    first, second = (entry["id"] for entry in issued["credentials"])
    revoke = client.post(
        f"/api/v1/credentials/{first}/revocation",
        json={"reason": "issued-in-error", "note": "wrong grade"},
        headers=headers,
    )
    assert (revoke.status_code, revoke.json["status"]) == (202, "pending")
    worker.drain({batch_id})
    worker.revoke_pending()
    record = client.get(f"/api/v1/credentials/{first}", headers=headers).json
    assert record["status"] == "revoked"
    assert verdict(runtime, record["credential"]) == (
        Status.INVALID,
        [("status", str(Code.REVOKED_CREDENTIAL))],
    )
    untouched = client.get(f"/api/v1/credentials/{second}", headers=headers).json
    assert verdict(runtime, untouched["credential"]) == (Status.VALID, [])
    twice = client.post(
        f"/api/v1/credentials/{first}/revocation", json={"reason": "fraud"}, headers=headers
    )
    assert (twice.status_code, twice.json) == (409, error(409, f"{first} is already revoked"))

    client.post(f"/api/v1/batches/{batch_id}/revocation", json={"reason": "fraud"}, headers=headers)
    worker.revoke_pending()
    batch = client.get(f"/api/v1/batches/{batch_id}", headers=headers).json
    assert (batch["revocation"]["status"], batch["revocation"]["reason"]) == ("done", "fraud")
    untouched = client.get(f"/api/v1/credentials/{second}", headers=headers).json
    assert verdict(runtime, untouched["credential"]) == (
        Status.INVALID,
        [("status", str(Code.REVOKED_BATCH))],
    )


def test_issuer_did_document_and_openapi(runtime: Runtime, bank) -> None:
    client, _, _ = bank
    did = client.get("/issuers/demo-university/did.json")
    assert did.status_code == 200
    assert (
        did.json["id"]
        == f"did:web:{runtime.settings.did_host.replace(':', '%3A')}:issuers:demo-university"
    )
    assert len(did.json["verificationMethod"]) == 1
    assert client.get("/issuers/nobody/did.json").status_code == 404
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/credentials", "/api/v1/batches/{batch_id}", "/api/v1/rules"} <= set(
        spec["paths"]
    )


def test_a_rule_set_is_published_only_under_its_issuers_own_id(runtime: Runtime, bank) -> None:
    client, headers, _ = bank
    document = rule_set_json([{"id": "recent", "kind": "currency", "max_age_years": 5}],
                             owner_did=issuer_record(runtime.engine, "demo-university")["did"])
    foreign = ("seoul-open:BSC-CS", "other-university:BSC-CS", "demo-universityx:BSC-CS",
               "DEMO-UNIVERSITY:BSC-CS", "demo-university", "demo-university:", ":BSC-CS")

    refused = {rule_set_id: client.post("/api/v1/rules", headers=headers,
                                        json={**document, "rule_set_id": rule_set_id})
               for rule_set_id in foreign}
    too_late = client.post("/api/v1/rules", headers=headers,
                           json={**document, "rule_set_id": "demo-university:BSC-CS",
                                 "version": 2**31})
    own = client.post("/api/v1/rules", headers=headers,
                      json={**document, "rule_set_id": "demo-university:BSC-CS"})

    assert {rule_set_id: (answer.status_code, answer.json)
            for rule_set_id, answer in refused.items()} == dict.fromkeys(foreign, (422, error(
                422, "a rule set's id begins with its owner's issuer id",
                {"rule_set_id": ["must be demo-university:<programme>, under the publishing "
                                 "issuer's id"]})))
    assert (too_late.status_code, too_late.json) == (422, error(
        422, "the rule set's version is too large", {"version": ["must be at most 2147483647"]}))
    assert (own.status_code, own.json["rule_set_id"], own.json["version"]) == (
        201, "demo-university:BSC-CS", 1)


def test_concurrent_requests_of_one_issuer_are_all_issued_and_a_refused_one_stores_nothing(
    runtime: Runtime, bank
) -> None:
    """Each request claims its status places apart and signs while the others sign: all are
    acknowledged, every credential has its own place, and a refused request stores nothing."""
    _, headers, _ = bank
    app = create_app(runtime, {"ISSUE_MAX_OUTCOMES": 50})

    def post(outcomes: list[dict]) -> tuple[int, dict]:
        with app.test_client() as own:
            answer = own.post("/api/v1/credentials", json={"outcomes": outcomes}, headers=headers)
            return answer.status_code, answer.json

    requests = [
        [outcome(f"1101011990{request:04d}{number:04d}", session="2025 spring")
         for number in range(20)]
        for request in range(4)
    ]
    refused = [outcome("110101199003074514", session="2025 autumn"), outcome(unit="CS999")]
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(post, [*requests, refused]))

    assert [status for status, _ in answers] == [201, 201, 201, 201, 422]
    assert answers[4][1]["errors"] == {"outcomes": {"1": {"unit": ["unknown unit 'CS999'"]}}}
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(credentials.c.id, credentials.c.status_list,
                                         credentials.c.status_index)).all()
    assert sorted(row.id for row in rows) == sorted(
        entry["id"] for _, body in answers[:4] for entry in body["credentials"])
    assert len({(row.status_list, row.status_index) for row in rows}) == 80
