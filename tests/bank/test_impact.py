"""The impact of a rule change before it is published: who gains or loses credits, line by line,
among learners aiming at the programme and decided applications; kept with the version."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from bank.impact import kept_impact, kept_versions, preview_impact, publish_with_impact
from bank.tables import learners, rule_impacts
from infra.errors import Conflict, InvalidInput, NotFound
from issuers.registry import issuer_record
from ledger.views import ChainView
from portal.runtime import Runtime
from rules.rulesets import load_rule_set
from tests.support.bank import LEARNER_ID, OTHER_ID, RULE_SET, Bank
from tests.support.impact import THIRD_ID, new_version, rule_change_bank
from verify import Context


@pytest.fixture
def bank(runtime: Runtime) -> Bank:
    """Version 2 of BJOU's rules approved, with its three learners."""
    return rule_change_bank(runtime)


def preview(bank: Bank, document: dict, **options: int) -> dict:
    """The impact of publishing the document, as BJOU previews it."""
    runtime = bank.runtime
    return preview_impact(runtime.engine, ChainView(runtime.ledger), Context(runtime.view),
                          issuer_record(runtime.engine, "bjou"), document,
                          master_key=runtime.settings.master_key(), **options)


def test_a_raised_cap_gains_and_a_removed_equivalence_loses_line_by_line(bank: Bank) -> None:
    document = new_version(bank)
    summary = preview(bank, document)
    applicant = summary["learners"][0]
    application_id = applicant.pop("application")
    assert applicant == {
        "decision": {"version": 2, "verdict": "granted", "credits": 3},
        "before": {"credits": 3, "exempted": 0, "complete": False},
        "after": {"credits": 0, "exempted": 0, "complete": False},
        "change": -3,
        "requirements": {"met": [], "unmet": []},
        "lines": [{
            "units": ["ACC110"], "change": -3, "effect": "loses",
            "before": [{"decision": "transfer", "code": "equivalent-unit",
                        "rule_id": "hdvc-accounting", "category": "general", "credits": 3,
                        "exempted": 0, "target_units": ["GEN101"]}],
            "after": [{"decision": "refused", "code": "no-rule", "rule_id": None, "params": {}}],
        }],
        "unchanged": 0,
    }
    aiming = summary["learners"][1]
    pseudonym = aiming.pop("pseudonym")
    assert aiming == {
        "before": {"credits": 7, "exempted": 0, "complete": False},
        "after": {"credits": 10, "exempted": 0, "complete": False},
        "change": 3,
        "requirements": {"met": [], "unmet": []},
        "lines": [{
            "units": ["ENG110"], "change": 3, "effect": "gains",
            "before": [{"decision": "refused", "code": "cap-provider", "rule_id": "hdvc-cap",
                        "params": {"limit": 7, "counted": 7, "category": "general",
                                   "credits": 3, "counter": bank.did("hdvc")}}],
            "after": [{"decision": "transfer", "code": "transfer", "rule_id": "hdvc-general",
                       "category": "general", "credits": 3, "exempted": 0, "target_units": []}],
        }],
        "unchanged": 2,
    }
    assert len(summary["learners"]) == 2
    assert summary["totals"] == {
        "learners": 3, "audited": 3, "more": 0, "affected": 2, "gaining": 1, "losing": 1,
        "credits_gained": 3, "credits_lost": 3, "requirements_met": 0, "requirements_unmet": 0}
    rule_set = load_rule_set(document)
    assert (summary["rule_set_id"], summary["version"], summary["previous_version"],
            summary["content_hash"]) == (RULE_SET, 3, 2, "0x" + rule_set.content_hash().hex())
    with bank.runtime.engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(rule_impacts)).scalar()
    assert kept == 0
    assert application_id in {item["id"] for item in bank.client.get(
        "/api/v1/applications", headers=bank.log_in(OTHER_ID)).json["applications"]}
    again = preview(bank, document)
    assert again["learners"][1]["pseudonym"] == pseudonym


def test_pseudonyms_carry_no_personal_data_and_the_work_is_bounded(bank: Bank) -> None:
    summary = preview(bank, new_version(bank), limit=1)
    assert (summary["totals"]["audited"], summary["totals"]["more"],
            summary["totals"]["learners"]) == (1, 2, 3)
    full = preview(bank, new_version(bank))
    text = json.dumps(full)
    with bank.runtime.engine.connect() as connection:
        rows = connection.execute(select(learners)).mappings().all()
        held = connection.execute(select(func.count()).select_from(learners)).scalar()
    personal = [LEARNER_ID, OTHER_ID, THIRD_ID, "urn:uuid:"]
    personal += [value for row in rows for value in (row["id"], row["did"], row["display_name"])
                 if value]
    assert (held, [value for value in personal if value in text]) == (3, [])
    (aiming,) = [item for item in full["learners"] if "pseudonym" in item]
    assert (len(aiming["pseudonym"]), set(aiming["pseudonym"]) <= set("0123456789abcdef")) == (
        10, True)


def test_the_summary_is_kept_with_the_published_version_once(bank: Bank) -> None:
    runtime = bank.runtime
    document = new_version(bank)
    bjou = issuer_record(runtime.engine, "bjou")
    changed = copy.deepcopy(document)
    changed["rules"][-1]["max_credits"] = 11
    previewed = preview(bank, document)["content_hash"]

    def publish(body: dict) -> dict:
        return publish_with_impact(runtime.engine, runtime.ledger, Context(runtime.view), bjou,
                                   body, master_key=runtime.settings.master_key(),
                                   previewed=previewed)

    with pytest.raises(Conflict) as stale:
        publish(changed)
    assert (stale.value.message, list(stale.value.errors)) == (
        "the rule set changed since its impact was previewed; preview it again", ["content_hash"])
    with pytest.raises(InvalidInput):
        publish({**document, "owner_did": bank.did("hdvc")})
    published = publish(document)
    kept = published.pop("impact")
    assert (published["version"], published["approved"], kept["totals"]["affected"]) == (
        3, False, 2)
    retried = publish(document)
    assert retried["impact"] == kept
    assert kept_impact(runtime.engine, "bjou", RULE_SET, 3) == kept
    assert kept_versions(runtime.engine, "bjou") == {(RULE_SET, 3)}
    with pytest.raises(NotFound):
        kept_impact(runtime.engine, "hdvc", RULE_SET, 3)
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(rule_impacts)).mappings().all()
    assert [(row["version"], row["previous_version"], bytes(row["content_hash"]))
            for row in rows] == [(3, 2, load_rule_set(document).content_hash())]
