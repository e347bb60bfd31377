"""The learner's plan through the API (`/api/v1/learners/me/plan`): the same rules as the page,
the what-if audit beside it, and bad input answered 4xx naming the field."""

from __future__ import annotations

from portal.runtime import Runtime
from tests.support.bank import bearer, city_bank
from tests.support.citizen import issue_record
from tests.support.planner import DIPLOMA, planner_bank

PLAN = "/api/v1/learners/me/plan"


def test_a_learner_plans_units_and_sees_the_what_if(runtime: Runtime) -> None:
    bank = city_bank(runtime)
    planner_bank(bank)
    me = bank.open_account()
    issue_record(bank)
    client = bank.client
    empty = client.get(PLAN, headers=me)
    assert (empty.status_code, empty.json) == (200, {"units": [], "limit": 30, "progress": None})
    assert client.put("/api/v1/learners/me/target", headers=me,
                      json={"rule_set_id": DIPLOMA, "version": 1}).status_code == 200
    for ref in ("moocs:MOOC-DATA", "moocs:MOOC-LAW"):
        added = client.post(PLAN, headers=me, json={"unit": ref})
        assert added.status_code == 201
    assert [item["ref"] for item in added.json["units"]] == ["moocs:MOOC-DATA", "moocs:MOOC-LAW"]
    audit = added.json["progress"]["audit"]
    assert [(line["units"], line["credits"]) for line in audit["lines"] if line["planned"]] == [
        (["MOOC-DATA"], 2), (["MOOC-LAW"], 2)]
    assert audit["requirements"][0]["counted"] == 15
    removed = client.delete(f"{PLAN}?unit=moocs:MOOC-DATA", headers=me)
    assert (removed.status_code, [item["ref"] for item in removed.json["units"]]) == (
        200, ["moocs:MOOC-LAW"])
    assert client.get("/api/v1/learners/me/progress", headers=me).json["audit"][
        "requirements"][0]["counted"] == 11

    refusals = {
        "unknown member": client.post(PLAN, headers=me, json={"unit": "moocs:MOOC-PM",
                                                              "grade": "A"}),
        "not a reference": client.post(PLAN, headers=me, json={"unit": "MOOC-PM"}),
        "no such unit": client.post(PLAN, headers=me, json={"unit": "moocs:NOPE"}),
        "not planned": client.delete(f"{PLAN}?unit=moocs:MOOC-PM", headers=me),
        "no unit": client.delete(PLAN, headers=me),
        "anonymous": client.post(PLAN, json={"unit": "moocs:MOOC-PM"}),
        "stranger's token": client.get(PLAN, headers=bearer("cbl_unknown")),
    }
    assert {name: answer.status_code for name, answer in refusals.items()} == {
        "unknown member": 422, "not a reference": 422, "no such unit": 404, "not planned": 404,
        "no unit": 422, "anonymous": 401, "stranger's token": 401}
    named = {name: sorted(_fields(refusals[name].json)) for name in (
        "unknown member", "not a reference", "no such unit", "not planned", "no unit")}
    assert named == {"unknown member": ["grade"], "not a reference": ["unit"],
                     "no such unit": ["unit"], "not planned": ["unit"], "no unit": ["unit"]}


def _fields(body: dict) -> list[str]:
    """The field names an error body names (flattening the location level of a 422)."""
    errors = body["errors"]
    for location in ("json", "query"):
        if location in errors:
            return list(errors[location])
    return list(errors)
