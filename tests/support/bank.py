"""A small city credit bank for the bank tests, on a runtime.

Beijing Open University (bjou) receives learners into its Associate in Logistics Management
(80 credits: major >= 45, general >= 15) under rule set `bjou:LOG-ASSOC`. Haidian Vocational
College (hdvc) and the National Courier Training Centre (courier) issue credentials through
the issuer service; XuetangX (xuetang) signs and anchors MOOC credentials with its own software.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient

from bank.accounts import new_operator_token
from credentials.dids import verification_method_id
from credentials.keys import SigningKey
from credentials.model import (
    Achievement,
    IssuerProfile,
    LearnerRef,
    Level,
    Result,
    achievement_credential,
)
from credentials.proofs import sign
from issuers.anchoring import AnchoringWorker
from issuers.batch import Batch
from issuers.catalogue import add_units
from issuers.issuance import Issuance, outcomes_from_json
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import Scope, accredit, issuer_account, issuer_record
from portal.app import create_app
from portal.runtime import Runtime

LEARNER_ID = "110101199003074514"
OTHER_ID = "320102198811123456"
PASSWORD = "correct horse battery"
RULE_SET = "bjou:LOG-ASSOC"
OPERATOR_ACTOR = "cli:operator"
SCOPE = Scope(kinds=("course", "certificate", "mooc"), levels=tuple(range(1, 9)))
XUETANG_SEED = bytes(range(32))


def unit(code: str, title: str, kind: str, credits: float, level: int = 5) -> dict:
    """A catalogue unit on Chinese national credit-bank credits."""
    return {
        "code": code, "title": title, "description": f"{title}.", "kind": kind,
        "level": {"framework": "CQF", "level": level, "eqf_level": level},
        "credit_value": credits, "credit_scheme": "CN-NCB", "valid_from": "2024-09-01",
    }


CATALOGUES = {
    "bjou": [unit("LOG201", "Supply Chain Management", "course", 4)],
    "hdvc": [
        unit("WH110", "Warehouse Operations", "course", 3, level=4),
        unit("MATH110", "Applied Mathematics", "course", 4, level=4),
        unit("ENG110", "College English", "course", 3, level=4),
        unit("ACC110", "Basic Accounting", "course", 3, level=4),
    ],
    "courier": [unit("CERT-COURIER", "Courier Operator (Level 4)", "certificate", 8, level=4)],
}


def outcome(unit_code: str, grade: str, *, national_id: str = LEARNER_ID,
            completed_on: str = "2025-07-10", **fields: object) -> dict:
    """One learner's outcome for the issuer service."""
    return {"national_id": national_id, "unit": unit_code, "session": "2025 spring",
            "grade": grade, "completed_on": completed_on, **fields}


def rule_set_document(owner_did: str, courier_did: str, hdvc_did: str, *,
                      version: int = 1) -> dict:
    """BJOU's conversion rules for its Associate in Logistics Management."""
    return {
        "rule_set_id": RULE_SET,
        "owner_did": owner_did,
        "version": version,
        "valid_from": "2025-01-01",
        "programme": {
            "code": "LOG-ASSOC",
            "title": "Associate in Logistics Management",
            "credit_scheme": "CN-NCB",
            "total_credits": 80,
            "categories": {"major": 45, "general": 15},
            "units": [
                {"code": "LOG101", "title": "Express Delivery Operations", "credits": 3,
                 "category": "major"},
                {"code": "LOG102", "title": "Parcel Sorting", "credits": 3, "category": "major"},
                {"code": "LOG103", "title": "Delivery Safety", "credits": 2, "category": "major"},
                {"code": "LOG201", "title": "Supply Chain Management", "credits": 4,
                 "category": "major"},
                {"code": "GEN101", "title": "Ideology and Law", "credits": 3,
                 "category": "general"},
            ],
        },
        "rules": [
            {"id": "courier-exemption", "kind": "exemption",
             "source": {"providers": [courier_did], "unit_codes": ["CERT-COURIER"]},
             "units": ["LOG101", "LOG102", "LOG103"]},
            {"id": "hdvc-warehouse", "kind": "transfer", "precedence": 10,
             "source": {"providers": [hdvc_did], "unit_codes": ["WH110"]}, "category": "major"},
            {"id": "hdvc-general", "kind": "transfer", "precedence": 50,
             "source": {"providers": [hdvc_did], "kinds": ["course"]}, "category": "general"},
            {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
             "scale": "percent", "min_score": 60},
            {"id": "mooc-general", "kind": "transfer", "precedence": 60,
             "source": {"kinds": ["mooc"]}, "category": "general"},
        ],
    }


@dataclass
class Bank:
    """The portal over a runtime, the institutions' tokens and an operator token."""

    runtime: Runtime
    client: FlaskClient
    worker: AnchoringWorker
    tokens: dict[str, str]
    operator: str

    def did(self, issuer_id: str) -> str:
        """An institution's DID."""
        return issuer_record(self.runtime.engine, issuer_id)["did"]

    def issue(self, issuer_id: str, outcomes: list[dict]) -> list[str]:
        """Issue outcomes through the issuer service and anchor them; the credential ids."""
        issuance = Issuance.of(self.runtime.engine, settings=self.runtime.settings)
        with self.runtime.engine.begin() as connection:
            issued = issuance.issue(connection, issuer_record(self.runtime.engine, issuer_id),
                                    outcomes_from_json(outcomes), cryptosuite="eddsa-rdfc-2022")
        self.worker.drain({batch for _, _, batch in issued.credentials})
        return [credential_id for credential_id, _, _ in issued.credentials]

    def open_account(self, national_id: str = LEARNER_ID, *, proven: bool = True) -> dict:
        """Open a learner's account and log in: the Authorization header. Proven, the learner's
        identity was first checked in person at the centre, and they open the account with the
        activation code it gave; not proven, with the national id alone."""
        code = None
        if proven:
            checked = self.client.post("/api/v1/learners/identity-checks",
                                       headers=bearer(self.operator),
                                       json={"national_id": national_id})
            assert checked.status_code == 201, checked.json
            code = checked.json["activation_code"]
        opened = self.client.post("/api/v1/learners", json={
            "national_id": national_id, "password": PASSWORD, "activation_code": code})
        assert opened.status_code == 201, opened.json
        return self.log_in(national_id)

    def log_in(self, national_id: str) -> dict:
        """Log a learner in: the Authorization header."""
        token = self.client.post("/api/v1/learners/token", json={
            "national_id": national_id, "password": PASSWORD})
        assert token.status_code == 201, token.json
        return bearer(token.json["token"])


def bearer(token: str) -> dict:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def city_bank(runtime: Runtime, *, approve: bool = True) -> Bank:
    """Accredit the institutions with their catalogues, publish (and approve) BJOU's rules."""
    tokens = {}
    for slug, name in (("bjou", "Beijing Open University"),
                       ("hdvc", "Haidian Vocational College"),
                       ("courier", "National Courier Training Centre")):
        tokens[slug] = accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                                name=name, slug=slug, scope=SCOPE, actor=OPERATOR_ACTOR).token
        with runtime.engine.begin() as connection:
            add_units(connection, issuer_record(runtime.engine, slug), CATALOGUES[slug])
    app = create_app(runtime)
    worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings)
    bank = Bank(runtime, app.test_client(), worker, tokens,
                new_operator_token(runtime.engine, "city-centre", actor=OPERATOR_ACTOR))
    document = rule_set_document(bank.did("bjou"), bank.did("courier"), bank.did("hdvc"))
    publish_rule_set(runtime.engine, runtime.ledger, issuer_record(runtime.engine, "bjou"),
                     document, master_key=runtime.settings.master_key())
    if approve:
        approve_rule_set(runtime.engine, runtime.chain, RULE_SET, 1, actor=OPERATOR_ACTOR)
    return bank


def xuetang_credential(runtime: Runtime, learner_did: str, *, score: str = "85") -> dict:
    """A MOOC credential XuetangX signed and anchored with its own software (not through the
    issuer service), for the learner to deposit."""
    xuetang = accredit(runtime.engine, runtime.chain, settings=runtime.settings,
                       name="XuetangX", slug="xuetang", scope=SCOPE, signing_seed=XUETANG_SEED,
                       actor=OPERATOR_ACTOR)
    profile = IssuerProfile(did=xuetang.did, name="XuetangX")
    unsigned = achievement_credential(
        credential_id="urn:uuid:5b0e7c1e-6d3c-4f5e-9a51-2f0c8e1d4a77",
        issuer=profile,
        learner=LearnerRef(did=learner_did),
        achievement=Achievement(unit_code="MOOC-LOGI", title="Introduction to Logistics",
                                description="A MOOC on logistics systems.", kind="mooc",
                                credit_value=2, credit_scheme="CN-NCB",
                                level=Level("CQF", 4, 4)),
        result=Result(grade=score, scale="percent"),
        credits_earned=2,
        valid_from="2025-05-30T00:00:00Z",
        activity_end="2025-05-30",
    )
    key = SigningKey.from_seed(XUETANG_SEED)
    signed = sign(unsigned, key, verification_method=verification_method_id(profile.did,
                                                                            key.public_key))
    batch = Batch.of([signed])
    account = issuer_account(runtime.engine, runtime.settings.master_key(), "xuetang")
    receipt = runtime.ledger.transact(account, "CredentialAnchor", "anchor", batch.root)
    (anchored,) = batch.anchored(
        chain_id=runtime.ledger.chain_id,
        contract=runtime.ledger.deployment.credential_anchor,
        transaction_hash="0x" + bytes(receipt["transactionHash"]).hex(),
    )
    return anchored
