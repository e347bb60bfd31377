"""A MOOC platform's catalogue and a second programme, for the learner's planner.

China MOOC Platform (slug `moocs`) lists three MOOCs. BJOU's Diploma in Logistics Operations
(`bjou:LOG-DIP`, 30 credits: major >= 12, general >= 6, LOG201 mandatory) transfers MOOCs into
general credits without a grade threshold, where the Associate programme asks for 60%.
"""

from __future__ import annotations

from issuers.catalogue import add_units
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import accredit, issuer_record
from tests.support.bank import OPERATOR_ACTOR, SCOPE, Bank, unit

DIPLOMA = "bjou:LOG-DIP"
MOOCS = [
    unit("MOOC-DATA", "Data Analysis for Logistics", "mooc", 2, level=4),
    unit("MOOC-LAW", "Law for Everyone", "mooc", 2, level=4),
    unit("MOOC-PM", "Project Management", "mooc", 3, level=4),
]


def diploma_document(owner_did: str, hdvc_did: str) -> dict:
    """BJOU's rules for its Diploma in Logistics Operations."""
    return {
        "rule_set_id": DIPLOMA,
        "owner_did": owner_did,
        "version": 1,
        "valid_from": "2025-01-01",
        "programme": {
            "code": "LOG-DIP",
            "title": "Diploma in Logistics Operations",
            "credit_scheme": "CN-NCB",
            "total_credits": 30,
            "categories": {"major": 12, "general": 6},
            "units": [
                {"code": "LOG201", "title": "Supply Chain Management", "credits": 4,
                 "category": "major"},
                {"code": "LOG210", "title": "Fleet Planning", "credits": 4, "category": "major"},
            ],
            "mandatory": [{"id": "core", "units": ["LOG201", "LOG210"]}],
        },
        "rules": [
            {"id": "hdvc-major", "kind": "transfer", "precedence": 10,
             "source": {"providers": [hdvc_did], "unit_codes": ["WH110"]}, "category": "major"},
            {"id": "hdvc-general", "kind": "transfer", "precedence": 50,
             "source": {"providers": [hdvc_did], "kinds": ["course"]}, "category": "general"},
            {"id": "mooc-general", "kind": "transfer", "precedence": 60,
             "source": {"kinds": ["mooc"]}, "category": "general"},
        ],
    }


def planner_bank(bank: Bank) -> None:
    """Accredit the MOOC platform with its catalogue, add BJOU's Fleet Planning unit, and
    publish and approve the diploma's rules."""
    runtime = bank.runtime
    accredit(runtime.engine, runtime.chain, settings=runtime.settings,
             name="China MOOC Platform", slug="moocs", scope=SCOPE, actor=OPERATOR_ACTOR)
    with runtime.engine.begin() as connection:
        add_units(connection, issuer_record(runtime.engine, "moocs"), MOOCS)
        add_units(connection, issuer_record(runtime.engine, "bjou"),
                  [unit("LOG210", "Fleet Planning", "course", 4)])
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     diploma_document(bank.did("bjou"), bank.did("hdvc")),
                     master_key=runtime.settings.master_key())
    approve_rule_set(runtime.engine, runtime.chain, DIPLOMA, 1, actor=OPERATOR_ACTOR)
