"""A rule change to preview: BJOU's version 2 (Haidian Vocational College capped at 7 credits,
Basic Accounting an equivalent of Ideology and Law) approved, with three learners aiming at it:
Wang Fang (7 credits, English over the cap), an applicant whose accounting was decided, and one
whose own BJOU course no change touches. Version 3 raises the cap to 10 and drops the
equivalence."""

from __future__ import annotations

from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import issuer_record
from portal.runtime import Runtime
from tests.support.bank import (
    LEARNER_ID,
    OPERATOR_ACTOR,
    OTHER_ID,
    RULE_SET,
    Bank,
    bearer,
    city_bank,
    outcome,
    rule_set_document,
)

THIRD_ID = "440304198506151237"


def capped_rules(bank: Bank, *, version: int, cap: int, equivalence: bool) -> dict:
    """BJOU's rules with at most `cap` credits from Haidian Vocational College, its general
    transfer limited to mathematics and English, and (when asked) Basic Accounting as an
    equivalent of Ideology and Law."""
    document = rule_set_document(bank.did("bjou"), bank.did("courier"), bank.did("hdvc"),
                                 version=version)
    hdvc = bank.did("hdvc")
    for rule in document["rules"]:
        if rule["id"] == "hdvc-general":
            rule["source"] = {"providers": [hdvc], "unit_codes": ["MATH110", "ENG110"]}
    document["rules"].append({"id": "hdvc-cap", "kind": "provider_cap",
                              "source": {"providers": [hdvc]}, "max_credits": cap})
    if equivalence:
        document["rules"].append({"id": "hdvc-accounting", "kind": "equivalence",
                                  "precedence": 5, "target_unit": "GEN101",
                                  "source": {"providers": [hdvc], "unit_codes": ["ACC110"]}})
    return document


def new_version(bank: Bank) -> dict:
    """Version 3: the cap raised to 10 credits, the accounting equivalence removed."""
    return capped_rules(bank, version=3, cap=10, equivalence=False)


def aim(bank: Bank, headers: dict, version: int) -> None:
    """The learner chooses BJOU's programme under a version."""
    chosen = bank.client.put("/api/v1/learners/me/target", headers=headers,
                             json={"rule_set_id": RULE_SET, "version": version})
    assert chosen.status_code == 200, chosen.json


def decide(bank: Bank, headers: dict, version: int) -> str:
    """The learner applies; both reviews approve; the application's id."""
    applied = bank.client.post("/api/v1/applications", headers=headers,
                               json={"rule_set_id": RULE_SET, "version": version})
    assert applied.status_code == 201, applied.json
    path = f"/api/v1/applications/{applied.json['id']}"
    assert bank.client.post(f"{path}/first-review", headers=bearer(bank.tokens["bjou"]),
                            json={"verdict": "approve"}).status_code == 200
    assert bank.client.post(f"{path}/second-review", headers=bearer(bank.operator),
                            json={"verdict": "approve", "reasons": []}).status_code == 200
    return str(applied.json["id"])


def rule_change_bank(runtime: Runtime) -> Bank:
    """The city bank with version 2 approved and its three learners (see the module)."""
    city = city_bank(runtime)
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     capped_rules(city, version=2, cap=7, equivalence=True),
                     master_key=runtime.settings.master_key())
    approve_rule_set(runtime.engine, runtime.chain, RULE_SET, 2, actor=OPERATOR_ACTOR)
    aiming = city.open_account(LEARNER_ID)
    city.issue("hdvc", [outcome("WH110", "A", completed_on="2025-01-10"),
                        outcome("MATH110", "B", completed_on="2025-03-10"),
                        outcome("ENG110", "B", completed_on="2025-07-10")])
    aim(city, aiming, 2)
    applicant = city.open_account(OTHER_ID)
    city.issue("hdvc", [outcome("ACC110", "B", national_id=OTHER_ID)])
    aim(city, applicant, 2)
    decide(city, applicant, 2)
    untouched = city.open_account(THIRD_ID)
    city.issue("bjou", [outcome("LOG201", "A", national_id=THIRD_ID)])
    aim(city, untouched, 2)
    return city
