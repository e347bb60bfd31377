"""Rule-set documents: loading, field errors, canonical form and the anchored hashes."""

import copy
import json
import random

import pytest
from eth_hash.auto import keccak

from credentials.canon import jcs
from rules.rulesets import (
    BlockCredit,
    Equivalence,
    PeriodCap,
    RuleSetError,
    UnitSet,
    load_rule_set,
)
from rules.sources import Source, UnitRef
from tests.support.rules import ACADEMY, COLLEGE, rule_set_json

EVERY_KIND = [
    {"id": "eq", "kind": "equivalence", "precedence": 10,
     "source": {"providers": [COLLEGE], "unit_codes": ["DS100"], "min_level": 6},
     "target_unit": "CS201"},
    {"id": "set", "kind": "many_to_one", "target_unit": "CS301",
     "sources": [{"code": "OS-1", "provider": COLLEGE}, {"code": "OS-2"}]},
    {"id": "cert", "kind": "certificate_credits", "source": {"unit_codes": ["KR-EIP"]},
     "credits": 20, "category": "major"},
    {"id": "exempt", "kind": "exemption", "source": {"unit_codes": ["LX"]},
     "units": ["SYS110", "SYS120"]},
    {"id": "transfer", "kind": "transfer", "source": {"kinds": ["course"]}, "category": "major",
     "max_credits": 4},
    {"id": "block", "kind": "block_credit", "source": {"kinds": ["degree"], "min_level": 5},
     "credits": {"general": 6, "elective": 12.5}},
    {"id": "threshold", "kind": "threshold", "source": {"kinds": ["mooc"]}, "scale": "percent",
     "min_score": 60, "min_attendance": 80},
    {"id": "currency", "kind": "currency", "max_age_years": 5, "not_before": "2019-03-01"},
    {"id": "year", "kind": "period_cap", "period": "year", "starts": ["03-01"],
     "max_credits": 42, "source": {"origin": "external"}},
    {"id": "provider", "kind": "provider_cap", "max_credits": 105},
    {"id": "count", "kind": "count_cap", "max_count": 3, "category": "general",
     "source": {"kinds": ["certificate"]}},
    {"id": "share", "kind": "proportion_cap", "max_share": 0.5},
    {"id": "overlap", "kind": "overlap",
     "units": [{"code": "PY101", "provider": ACADEMY}, {"code": "PY-1"}]},
    {"id": "titles", "kind": "title_match", "abbreviations": {"Intro": "Introduction"}},
    {"id": "table", "kind": "grade_table", "source": {"providers": [ACADEMY]}, "scale": "ects",
     "bands": [{"grade": "A", "percent": 40}, {"grade": "B", "percent": 60}]},
]


def document(**overrides: object) -> dict:
    return rule_set_json(copy.deepcopy(EVERY_KIND), **overrides)


def shuffled(value: object, generator: random.Random) -> object:
    """The same JSON with every object's keys in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        generator.shuffle(keys)
        return {key: shuffled(value[key], generator) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, generator) for item in value]
    return value


def test_every_rule_kind_loads_into_its_typed_variant() -> None:
    rules = load_rule_set(document()).rules
    assert [rule.kind for rule in rules] == [item["kind"] for item in EVERY_KIND]
    assert rules[0] == Equivalence(id="eq", precedence=10, target_unit="CS201", source=Source(
        providers=frozenset({COLLEGE}), unit_codes=frozenset({"DS100"}), min_level=6))
    assert rules[1] == UnitSet(id="set", target_unit="CS301", sources=(
        UnitRef("OS-1", COLLEGE), UnitRef("OS-2")))
    assert isinstance(rules[5], BlockCredit) and isinstance(rules[8], PeriodCap)


def test_the_document_round_trips() -> None:
    rule_set = load_rule_set(document())
    assert load_rule_set(rule_set.to_json()) == rule_set
    assert load_rule_set(json.loads(json.dumps(rule_set.to_json()))).to_json() \
        == rule_set.to_json()


def test_the_content_hash_ignores_key_order_and_number_spelling() -> None:
    rule_set = load_rule_set(document())
    assert rule_set.content_hash() == keccak(jcs(rule_set.to_json()))
    assert rule_set.canonical_json() == jcs(rule_set.to_json())
    generator = random.Random(7)
    for _ in range(3):
        assert load_rule_set(shuffled(document(), generator)).content_hash() \
            == rule_set.content_hash()
    respelled = document()
    respelled["programme"]["total_credits"] = 140.0
    assert load_rule_set(respelled).content_hash() == rule_set.content_hash()


def test_the_content_hash_changes_with_version_and_content() -> None:
    base = load_rule_set(document()).content_hash()
    changed = document()
    changed["rules"][9]["max_credits"] = 104
    assert len({base, load_rule_set(document(version=2)).content_hash(),
                load_rule_set(changed).content_hash()}) == 3


def test_the_on_chain_rule_set_key() -> None:
    assert load_rule_set(document()).rule_set_key() == keccak(b"seoul-open:BSC-CS")


@pytest.mark.parametrize(("change", "errors"), [
    ({"version": 0, "owner_did": "seoul-open"},
     {"version": ["must be at least 1"], "owner_did": ["must be a DID"]}),
    ({"valid_from": "2020-02-30", "valid_until": None, "extra": 1},
     {"valid_from": ["must be a date like 2025-03-01"], "extra": ["is not a known field"]}),
    ({"valid_until": "2019-01-01"}, {"valid_until": ["must not be before valid_from"]}),
    ({"rules": []}, {"rules": ["must hold at least 1 items"]}),
    ({"programme": None}, {"programme": ["is required"]}),
])
def test_document_errors_name_the_field(change: dict, errors: dict) -> None:
    data = document()
    data.update(change)
    data = {key: value for key, value in data.items() if value is not None}
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(data)
    assert caught.value.errors == errors


@pytest.mark.parametrize(("index", "change", "errors"), [
    (0, {"kind": "magic"}, {"rules[0].kind": [
        "must be one of equivalence, many_to_one, certificate_credits, exemption, transfer, "
        "block_credit, threshold, currency, period_cap, provider_cap, count_cap, "
        "proportion_cap, overlap, title_match, grade_table"]}),
    (0, {"target_unit": "CS999", "source": {"kinds": ["hobby"]}}, {
        "rules[0]": ["unit 'CS999' is not a unit of the programme"],
        "rules[0].source.kinds": ["'hobby' is not one of course, module, certificate, mooc, "
                                  "training, degree, transcript"],
        "rules[0].source.unit_codes": ["an equivalence names its source units"]}),
    (1, {"sources": [{"code": "OS-1", "provider": "college"}]}, {
        "rules[1].sources": ["must hold at least 2 items"],
        "rules[1].sources[0].provider": ["must be a DID"]}),
    (2, {"credits": -1, "category": "hobbies"}, {
        "rules[2].credits": ["must be a positive number"],
        "rules[2]": ["category 'hobbies' is not a programme category"]}),
    (5, {"credits": {"general": "six"}}, {"rules[5].credits.general": ["must be a number"]}),
    (6, {"scale": None, "min_attendance": 101}, {
        "rules[6].min_attendance": ["must be at most 100"],
        "rules[6].scale": ["is required with min_score or min_grade"]}),
    (6, {"scale": "stars"}, {
        "rules[6].scale": ["'stars' is not one of percent, gpa, points, letter, letter-kr, ects, "
                           "pass-fail"]}),
    (6, {"min_score": 120}, {"rules[6].min_score": ["is not a score on the percent scale"]}),
    (6, {"scale": "letter", "min_score": None, "min_grade": "A0"}, {
        "rules[6].min_grade": ["is not a grade on the letter scale"]}),
    (7, {"max_age_years": None, "not_before": None}, {
        "rules[7]": ["a currency rule needs max_age_years or not_before"]}),
    (8, {"period": "semester", "starts": ["02-30"]}, {
        "rules[8].starts": ["must be a month and day like 03-01",
                            "semesters need at least two starts, like 03-01 and 09-01"]}),
    (10, {"max_count": 1.5, "precedence": -1}, {
        "rules[10].max_count": ["must be an integer"],
        "rules[10].precedence": ["must be at least 0"]}),
    (11, {"max_share": 1.5}, {"rules[11].max_share": ["must be at most 1"]}),
    (14, {"bands": [{"grade": "A", "percent": 40}, {"grade": "A", "percent": 40}]}, {
        "rules[14].bands": ["percentages must add up to 100", "must not repeat a grade"]}),
    (1, {"id": "eq"}, {"rules": ["rule ids must be unique"]}),
])
def test_rule_errors_name_the_field(index: int, change: dict, errors: dict) -> None:
    data = document()
    data["rules"][index].update(change)
    data["rules"][index] = {key: value for key, value in data["rules"][index].items()
                            if value is not None}
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(data)
    assert caught.value.errors == errors


def test_programme_errors_name_the_field() -> None:
    data = document()
    programme = data["programme"]
    programme["categories"] = {"major": 100, "general": 50}
    programme["units"][0]["category"] = "elective"
    programme["mandatory"] = [{"id": "core", "units": ["CS999"]}]
    programme["credit_rates"] = {"ECTS": "half"}
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(data)
    assert caught.value.errors == {
        "programme.units[0].category": ["'elective' is not a category"],
        "programme.mandatory[0].units": ["'CS999' is not a unit of the programme"],
        "programme.credit_rates.ECTS": ["must be a number"],
        "programme.categories": ["category minimums add up to more than total_credits"],
        "rules[5]": ["category 'elective' is not a programme category"],
    }
    assert str(caught.value).startswith("invalid rule set: programme.categories: category")
