"""Rule sets an issuer owns: published by hash on RuleRegistry, approved by the operator."""

from __future__ import annotations

import json
import time

from sqlalchemy import Engine, insert, select, update

from infra.audit import record
from infra.coordination import account_sender
from infra.database import first_row
from infra.errors import Conflict, InvalidInput, NotFound
from issuers.registry import issuer_account
from issuers.tables import rule_sets
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.errors import LedgerError, TransactionReverted
from ledger.views import ChainView
from rules.rulesets import RuleSet, RuleSetError, load_rule_set

MAX_VERSION = 2**31 - 1


def publish_rule_set(
    engine: Engine, ledger: Ledger, issuer: dict, document: object, *, master_key: bytes
) -> dict:
    """Validate a rule set the issuer owns, anchor its hash on chain and keep the document."""
    rule_set = check_rule_set(issuer, document)
    stored = _stored(engine, rule_set.rule_set_id, rule_set.version)
    if stored is not None:
        if bytes(stored["content_hash"]) != rule_set.content_hash():
            raise Conflict(
                f"version {rule_set.version} of {rule_set.rule_set_id} is already published "
                "with other content; publish the next version"
            )
        return rule_set_json(stored)
    transaction_hash, block = _publish_on_chain(engine, ledger, master_key, issuer, rule_set)
    with engine.begin() as connection:
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
    stored = _stored(engine, rule_set.rule_set_id, rule_set.version)
    assert stored is not None
    return rule_set_json(stored)


def check_rule_set(issuer: dict, document: object) -> RuleSet:
    """The rule set in `document`, checked as the issuer may publish it; else `InvalidInput`."""
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
    prefix = f"{issuer['id']}:"
    if not rule_set.rule_set_id.startswith(prefix) or rule_set.rule_set_id == prefix:
        raise InvalidInput(
            "a rule set's id begins with its owner's issuer id",
            {"rule_set_id": [f"must be {prefix}<programme>, under the publishing issuer's id"]},
        )
    if rule_set.version > MAX_VERSION:
        raise InvalidInput(
            "the rule set's version is too large", {"version": [f"must be at most {MAX_VERSION}"]}
        )
    return rule_set


def approve_rule_set(
    engine: Engine, chain: Chain, rule_set_id: str, version: int, *, actor: str
) -> dict:
    """The operator approves a published version (recorded on chain once)."""
    stored = _stored(engine, rule_set_id, version)
    if stored is None:
        raise NotFound(f"version {version} of rule set {rule_set_id!r} was never published here")
    key = load_rule_set(json.loads(stored["document"])).rule_set_key()
    on_chain = ChainView(chain.ledger).rule_set(key, version)
    approved = on_chain.approved_block if on_chain is not None else 0
    if not approved:
        operator = chain.operator()
        receipt = chain.ledger.transact(operator, "RuleRegistry", "approve", key, version)
        approved = int(receipt["blockNumber"])
    with engine.begin() as connection:
        connection.execute(
            update(rule_sets)
            .where(rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version)
            .values(approved_block=approved)
        )
        record(connection, actor=actor, action="rules.approve",
               subject=f"{rule_set_id} v{version}", details={"block": approved})
    stored = _stored(engine, rule_set_id, version)
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


def _publish_on_chain(
    engine: Engine, ledger: Ledger, master_key: bytes, issuer: dict, rule_set: RuleSet
) -> tuple[str, int]:
    """Publish the hash, or recognise it already published (after a crash): (tx hash, block)."""
    key = rule_set.rule_set_key()
    view = ChainView(ledger)
    on_chain = view.rule_set(key, rule_set.version)
    if on_chain is not None and on_chain.content_hash == rule_set.content_hash():
        published = on_chain.published_block
        transaction_hash = view.rule_set_publication(key, rule_set.version, published)
        if transaction_hash is None:
            raise LedgerError(f"the node holds no RuleSetPublished event in block {published}")
        return transaction_hash, published
    account = issuer_account(engine, master_key, issuer["id"])
    try:
        with account_sender(engine, account.address):
            ledger.forget_nonce(account.address)
            receipt = ledger.transact(
                account, "RuleRegistry", "publish", key, rule_set.version,
                rule_set.content_hash()
            )
    except TransactionReverted as error:
        raise Conflict(f"the ledger refused the rule set: {error.reason}") from None
    return "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"])


def _stored(engine: Engine, rule_set_id: str, version: int) -> dict | None:
    if not 1 <= version <= MAX_VERSION:
        return None
    return first_row(
        engine,
        select(rule_sets).where(
            rule_sets.c.rule_set_id == rule_set_id, rule_sets.c.version == version
        ),
    )
