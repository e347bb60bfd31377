"""The chain view: anchors, their transactions and rule sets as plain records."""

from __future__ import annotations

from ledger.records import RuleSetRecord
from ledger.views import ChainView
from tests.support.chains import TestChain

DID = "did:web:creditbank.example:issuers:demo-university"


def test_anchors_and_their_transactions(embedded: TestChain) -> None:
    _issuer_id, (account,) = embedded.accredit(DID)
    roots = [bytes([number]) * 32 for number in (1, 2, 3)]
    receipts = [
        embedded.ledger.transact(account, "CredentialAnchor", "anchor", root) for root in roots
    ]
    view = ChainView(embedded.ledger, log_step=2)

    assert view.anchored_between(0, view.head()) == roots
    assert [
        view.anchoring_transaction(root, int(receipt["blockNumber"]))
        for root, receipt in zip(roots, receipts, strict=True)
    ] == ["0x" + bytes(receipt["transactionHash"]).hex() for receipt in receipts]
    assert view.anchoring_transaction(roots[0], int(receipts[1]["blockNumber"])) is None
    assert view.anchored_in("0x" + bytes(receipts[2]["transactionHash"]).hex()) == {roots[2]}


def test_rule_sets_and_their_publication(embedded: TestChain) -> None:
    issuer_id, (account,) = embedded.accredit(DID)
    key, content_hash = b"\x25" * 32, b"\x26" * 32
    view = ChainView(embedded.ledger)
    assert view.rule_set(key, 1) is None

    published = embedded.ledger.transact(account, "RuleRegistry", "publish", key, 1, content_hash)
    block = int(published["blockNumber"])
    assert view.rule_set(key, 1) == RuleSetRecord(
        rule_set_key=key,
        version=1,
        owner_id=issuer_id,
        content_hash=content_hash,
        published_block=block,
        approved_block=0,
    )
    assert view.rule_set_publication(key, 1, block) == (
        "0x" + bytes(published["transactionHash"]).hex()
    )
    assert view.rule_set_publication(key, 2, block) is None

    approved = embedded.ledger.transact(embedded.operator, "RuleRegistry", "approve", key, 1)
    on_chain = view.rule_set(key, 1)
    assert on_chain is not None
    assert on_chain.approved_block == int(approved["blockNumber"])
