"""Rule sets an issuer owns: published by hash on RuleRegistry, approved by the operator."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine, insert, select, update

from issuers.errors import Conflict, InvalidInput, NotFound
from issuers.registry import issuer_account
from issuers.rules import RuleSet, RuleSetError, load_rule_set
from issuers.tables import rule_sets
from ledger.audit import record
from ledger.errors import TransactionReverted
from ledger.runtime import Runtime


def publish_rule_set(runtime: Runtime, issuer: dict, document: object) -> dict:
    """Validate a rule set the issuer owns, anchor its hash on chain and keep the document."""
    if not isinstance(document, dict):
        raise InvalidInput(
            "send the rule set as a JSON object", {"rule_set": ["must be an object"]}
        )
    try:
        rule_set = load_rule_set(document)
    except RuleSetError as error:
        raise InvalidInput("the rule set is invalid; nothing was published", error.errors) from None
    if rule_set.owner_did != issuer["did"]:
        raise InvalidInput(
            "a rule set is published by its owner",
            {"owner_did": [f"must be the publishing issuer's DID {issuer['did']}"]},
        )
    stored = _stored(runtime.engine, rule_set.rule_set_id, rule_set.version)
    if stored is not None:
        if bytes(stored["content_hash"]) != rule_set.content_hash():
            raise Conflict(
                f"version {rule_set.version} of {rule_set.rule_set_id} is already published "
                "with other content; publish the next version"
            )
        return rule_set_json(stored)
    transaction_hash, block = _publish_on_chain(runtime, issuer, rule_set)
    with runtime.engine.begin() as connection:
        connection.execute(
            insert(rule_sets).values(
                rule_set_id=rule_set.rule_set_id,
                version=rule_set.version,
                issuer_id=issuer["id"],
                content_hash=rule_set.content_hash(),
                document=rule_set.canonical_json().decode("utf-8"),
                transaction_hash=transaction_hash,
                block=block,
                published_at=time.time(),
            )
        )
        record(connection, actor=f"institution:{issuer['id']}", action="rules.publish",
               subject=f"{rule_set.rule_set_id} v{rule_set.version}",
               details={"content_hash": "0x" + rule_set.content_hash().hex()})
    stored = _stored(runtime.engine, rule_set.rule_set_id, rule_set.version)
    assert stored is not None
    return rule_set_json(stored)


def approve_rule_set(runtime: Runtime, rule_set_id: str, version: int, *, actor: str) -> dict:
    """The operator approves a published version (recorded on chain once)."""
    stored = _stored(runtime.engine, rule_set_id, version)
    if stored is None:
        raise NotFound(f"version {version} of rule set {rule_set_id!r} was never published here")
    key = load_rule_set(json.loads(stored["document"])).rule_set_key()
    _owner, _hash, _published, approved = runtime.ledger.read(
        "RuleRegistry", "ruleSet", key, version
    )
    if not approved:
        operator = runtime.settings.chain_home.operator()
        receipt = runtime.ledger.transact(operator, "RuleRegistry", "approve", key, version)
        approved = int(receipt["blockNumber"])
    with runtime.engine.begin() as connection:
        connection.execute(
            update(rule_sets)
            .where(rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version)
            .values(approved_block=approved)
        )
        record(connection, actor=actor, action="rules.approve",
               subject=f"{rule_set_id} v{version}", details={"block": approved})
    stored = _stored(runtime.engine, rule_set_id, version)
    assert stored is not None
    return rule_set_json(stored)


def rule_set_json(row: dict) -> dict:
    """A published rule-set version as the API shows it."""
    return {
        "rule_set_id": row["rule_set_id"],
        "version": row["version"],
        "content_hash": "0x" + bytes(row["content_hash"]).hex(),
        "transaction_hash": row["transaction_hash"],
        "block": row["block"],
        "approved": row["approved_block"] is not None,
    }


def _publish_on_chain(runtime: Runtime, issuer: dict, rule_set: RuleSet) -> tuple[str, int]:
    """Publish the hash, or recognise it already published (after a crash): (tx hash, block)."""
    key = rule_set.rule_set_key()
    _owner, content_hash, published, _approved = runtime.ledger.read(
        "RuleRegistry", "ruleSet", key, rule_set.version
    )
    if published and bytes(content_hash) == rule_set.content_hash():
        event = runtime.ledger.contract("RuleRegistry").events.RuleSetPublished
        logs = event.get_logs(
            from_block=published,
            to_block=published,
            argument_filters={"ruleSetId": key, "version": rule_set.version},
        )
        return "0x" + bytes(logs[0]["transactionHash"]).hex(), int(published)
    account = issuer_account(runtime.engine, runtime.settings.master_key(), issuer["id"])
    try:
        receipt = runtime.ledger.transact(
            account, "RuleRegistry", "publish", key, rule_set.version, rule_set.content_hash()
        )
    except TransactionReverted as error:
        raise Conflict(f"the ledger refused the rule set: {error.reason}") from None
    return "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"])


def _stored(engine: Engine, rule_set_id: str, version: int) -> dict | None:
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(rule_sets).where(
                    rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None
