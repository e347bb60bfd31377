"""The learner's planner over a real bank (SQLite and PostgreSQL, the embedded chain): the plan's
rules, the what-if through the decision's audit, programmes compared, and the catalogue units
that fill each gap, found by auditing them."""

from __future__ import annotations

import pytest

from bank.applications import choose_target
from bank.planner import (
    MAX_CANDIDATES,
    add_to_plan,
    candidate_units,
    plan_json,
    plan_of,
    planner,
    remove_from_plan,
)
from bank.tables import MAX_PLANNED_UNITS
from infra.errors import Conflict, InvalidInput, NotFound
from issuers.catalogue import add_units
from issuers.registry import issuer_record
from portal.runtime import Runtime
from rules.rulesets import load_rule_set
from tests.support.bank import LEARNER_ID, RULE_SET, Bank, city_bank, unit
from tests.support.citizen import issue_record
from tests.support.planner import DIPLOMA, diploma_document, planner_bank
from verify import Context

ASSOCIATE = f"{RULE_SET}@1"
DIPLOMA_V1 = f"{DIPLOMA}@1"


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """The city bank, the MOOC platform and the diploma; Wang Fang's record, aiming at the
    diploma."""
    city = city_bank(runtime)
    planner_bank(city)
    city.open_account()
    issue_record(city)
    choose_target(runtime.engine, runtime.view, learner(city), DIPLOMA, 1)
    return city


def learner(bank: Bank) -> dict:
    """Wang Fang's account row."""
    accounts = bank.runtime.accounts
    did, _hash = accounts.identity(LEARNER_ID)
    found = accounts.by_did(did)
    assert found is not None
    return found


def plan_now(bank: Bank, *compare: str) -> dict:
    """The planner's answer for Wang Fang."""
    runtime = bank.runtime
    return planner(runtime.engine, runtime.view, learner(bank), Context(runtime.view),
                   compare=compare)


def requirement(report: dict, requirement_id: str) -> tuple[float, float, bool]:
    """(counted, required, met) of one requirement of an audit."""
    item = next(item for item in report["requirements"] if item["id"] == requirement_id)
    return item["counted"], item["required"], item["met"]


def test_a_plan_holds_catalogue_units_once_each_up_to_its_limit(bank: Bank) -> None:
    engine, me = bank.runtime.engine, learner(bank)
    add_to_plan(engine, me, "moocs:MOOC-DATA")
    add_to_plan(engine, me, "hdvc:WH110")
    again = add_to_plan(engine, me, "moocs:MOOC-DATA")
    assert again.refs == ["moocs:MOOC-DATA", "hdvc:WH110"]
    assert [(item.id, item.planned, item.credits, item.grade) for item in again.outcomes] == [
        ("planned:moocs:MOOC-DATA", True, 2, None), ("planned:hdvc:WH110", True, 3, None)]
    assert plan_json(again)["units"][0] == {
        "ref": "moocs:MOOC-DATA", "issuer": "moocs", "code": "MOOC-DATA",
        "title": "Data Analysis for Logistics", "kind": "mooc", "credits": 2,
        "credit_scheme": "CN-NCB", "version": 1}
    refusals = []
    for ref in ("moocs:NOPE", "nobody:MOOC-DATA", "no-colon", "", 7):
        with pytest.raises((NotFound, InvalidInput)) as raised:
            add_to_plan(engine, me, ref)
        refusals.append((raised.value.status, list(raised.value.errors)))
    assert refusals == [(404, ["unit"]), (404, ["unit"]), (422, ["unit"]), (422, ["unit"]),
                        (422, ["unit"])]
    remove_from_plan(engine, me, "hdvc:WH110")
    with pytest.raises(NotFound):
        remove_from_plan(engine, me, "hdvc:WH110")
    assert plan_of(engine, me).refs == ["moocs:MOOC-DATA"]


def test_a_full_plan_refuses_another_unit(bank: Bank) -> None:
    engine, me = bank.runtime.engine, learner(bank)
    with engine.begin() as connection:
        add_units(connection, issuer_record(engine, "moocs"),
                  [unit(f"MOOC-{index:02d}", f"MOOC {index}", "mooc", 1)
                   for index in range(MAX_PLANNED_UNITS)])
    for index in range(MAX_PLANNED_UNITS):
        add_to_plan(engine, me, f"moocs:MOOC-{index:02d}")
    with pytest.raises(Conflict) as raised:
        add_to_plan(engine, me, "moocs:MOOC-DATA")
    assert (raised.value.status, list(raised.value.errors)) == (409, ["unit"])
    assert len(add_to_plan(engine, me, "moocs:MOOC-00").refs) == MAX_PLANNED_UNITS


def test_planned_moocs_raise_the_diploma_and_are_flagged_planned(bank: Bank) -> None:
    before = plan_now(bank)
    engine, me = bank.runtime.engine, learner(bank)
    add_to_plan(engine, me, "moocs:MOOC-DATA")
    add_to_plan(engine, me, "moocs:MOOC-LAW")
    after = plan_now(bank)
    assert before["audit"] == before["earned"]
    assert after["earned"] == before["earned"]
    assert [requirement(after["earned"], name) for name in ("total", "category:general")] == [
        (11, 30, False), (4, 6, False)]
    assert [requirement(after["audit"], name) for name in ("total", "category:general")] == [
        (15, 30, False), (8, 6, True)]
    planned = [(line["units"], line["category"], line["credits"])
               for line in after["audit"]["lines"] if line["planned"]]
    assert planned == [(["MOOC-DATA"], "general", 2), (["MOOC-LAW"], "general", 2)]
    assert all(not line["planned"] for line in after["earned"]["lines"])


def test_the_gaps_list_the_units_the_audit_says_fill_them(bank: Bank) -> None:
    engine, me = bank.runtime.engine, learner(bank)
    add_to_plan(engine, me, "moocs:MOOC-DATA")
    add_to_plan(engine, me, "moocs:MOOC-LAW")
    gaps = plan_now(bank)["gaps"]
    found = {gap["requirement"]: [(item["ref"], item["gain"], item["units"], item["fills"])
                                  for item in gap["fillers"]] for gap in gaps}
    assert found == {
        "total": [("bjou:LOG210", 4, [], False), ("hdvc:ACC110", 3, [], False),
                  ("hdvc:ENG110", 3, [], False), ("moocs:MOOC-PM", 3, [], False)],
        "category:major": [("bjou:LOG210", 4, [], False)],
        "core": [("bjou:LOG210", 4, ["LOG210"], True)],
    }
    assert [(gap["shortfall"], gap["missing_units"]) for gap in gaps] == [
        (15, []), (5, []), (4, ["LOG210"])]
    assert gaps[0]["fillers"][0]["unit"]["title"] == "Fleet Planning"


def test_candidates_come_most_specific_first_and_are_bounded(bank: Bank) -> None:
    engine = bank.runtime.engine
    rules = load_rule_set(diploma_document(bank.did("bjou"), bank.did("hdvc")))
    with engine.connect() as connection:
        every = candidate_units(connection, rules, exclude={"moocs:MOOC-LAW"})
        first = candidate_units(connection, rules, exclude=set(), limit=3)
    assert list(every) == ["bjou:LOG201", "bjou:LOG210", "hdvc:WH110", "hdvc:ACC110",
                           "hdvc:ENG110", "hdvc:MATH110", "moocs:MOOC-DATA", "moocs:MOOC-PM"]
    assert list(first) == ["bjou:LOG201", "bjou:LOG210", "hdvc:WH110"]
    assert MAX_CANDIDATES == 200


def test_programmes_compare_side_by_side_the_chosen_one_first(bank: Bank) -> None:
    engine, me = bank.runtime.engine, learner(bank)
    add_to_plan(engine, me, "moocs:MOOC-DATA")
    add_to_plan(engine, me, "moocs:MOOC-LAW")
    compared = plan_now(bank, ASSOCIATE, DIPLOMA_V1, ASSOCIATE)["compared"]
    assert [(row["rule_set_id"], row["credits_now"], row["credits_planned"], row["missing"],
             row["complete"]) for row in compared] == [
        (DIPLOMA, 11, 15, 15, False), (RULE_SET, 11, 11, 61, False)]
    for wrong in ([ASSOCIATE, DIPLOMA_V1, "bjou:LOG-ASSOC@2", "hdvc:X@1"], ["bjou:NOPE@1"],
                  ["no-version"], [f"{RULE_SET}@99999999999"]):
        with pytest.raises(InvalidInput) as raised:
            plan_now(bank, *wrong)
        assert list(raised.value.errors) == ["compare"]
