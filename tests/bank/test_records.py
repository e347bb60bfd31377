"""A learner's record lists page by page from stored columns, exactly as its documents read."""

from __future__ import annotations

from alembic import command

from bank.records import credential_summary, held_credentials
from infra.schema import alembic_config
from portal.runtime import Runtime
from tests.support.bank import OTHER_ID, bearer, city_bank, outcome, xuetang_credential


def whole_record(bank, learner: dict, limit: int) -> tuple[list[dict], int]:
    """Every credential of the record, following `next` page by page; and how many pages."""
    listed, after, pages = [], None, 0
    while True:
        query = {"limit": limit, **({"after": after} if after else {})}
        page = bank.client.get("/api/v1/learners/me", headers=learner, query_string=query).json
        listed += page["credentials"]
        pages += 1
        after = page["next"]
        if after is None:
            return listed, pages


def test_pages_of_the_record_list_what_the_documents_say(runtime: Runtime) -> None:
    bank = city_bank(runtime, approve=False)
    learner = bank.open_account()
    bank.issue("hdvc", [outcome(code, "B") for code in ("WH110", "MATH110", "ENG110")])
    bank.issue("bjou", [outcome("LOG201", "A", credits=3.5)])
    other_did = bank.client.get("/api/v1/learners/me",
                                headers=bank.open_account(OTHER_ID)).json["account"]["did"]
    deposit = bank.client.post("/api/v1/learners/me/deposits", headers=learner, json={
        "credential": xuetang_credential(runtime, other_did), "evidence": "my old account"}).json
    bank.client.post(f"/api/v1/deposits/{deposit['id']}/review", headers=bearer(bank.operator),
                     json={"verdict": "accept"})
    account = bank.client.get("/api/v1/learners/me", headers=learner).json["account"]

    from_documents = [credential_summary(item)
                      for item in held_credentials(runtime.engine, account)]
    assert [item["source"] for item in from_documents] == ["issued"] * 4 + ["deposit"]
    assert [whole_record(bank, learner, limit) for limit in (1, 2, 4, 5, 50)] == [
        (from_documents, 5), (from_documents, 3), (from_documents, 2), (from_documents, 1),
        (from_documents, 1)]


def test_a_bad_cursor_or_page_size_is_refused_by_name(runtime: Runtime) -> None:
    bank = city_bank(runtime, approve=False)
    learner = bank.open_account()
    answers = [bank.client.get("/api/v1/learners/me", headers=learner, query_string=query)
               for query in ({"after": "not-a-cursor"}, {"limit": 0}, {"limit": 201})]
    assert [(answer.status_code, list(answer.json["errors"].get("query", answer.json["errors"])))
            for answer in answers] == [(422, ["after"]), (422, ["limit"]), (422, ["limit"])]


def test_the_summary_columns_are_filled_in_for_credentials_stored_before_them(
        runtime: Runtime) -> None:
    bank = city_bank(runtime, approve=False)
    learner = bank.open_account()
    bank.issue("hdvc", [outcome("WH110", "B"), outcome("MATH110", "A", credits=2.5)])
    before = bank.client.get("/api/v1/learners/me", headers=learner).json["credentials"]
    config = alembic_config(runtime.engine)
    command.downgrade(config, "0001")
    command.upgrade(config, "head")  # identity proofs do not survive below 0005: prove again
    unproven = bank.client.get("/api/v1/learners/me", headers=learner).json
    runtime.accounts.prove_by_city(unproven["account"]["id"], "https://city.example",
                                   holds_password=True)
    after = bank.client.get("/api/v1/learners/me", headers=learner).json["credentials"]
    assert (unproven["identity"]["real_name"], unproven["credentials"]) == (False, [])
    assert ({item["unit"]: item["credits"] for item in before}, after) == (
        {"WH110": 3, "MATH110": 2.5}, before)
