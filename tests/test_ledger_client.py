"""The one client: errors mapped to ours, receipts checked, failover, and the event indexer."""

from __future__ import annotations

import threading

import pytest
from chains import TestChain
from eth_account import Account
from nodes import TcpProxy, free_port

from ledger.client import Ledger
from ledger.errors import (
    LedgerUnavailable,
    SenderNotPermitted,
    TransactionRejected,
    TransactionReverted,
)
from ledger.indexer import (
    Indexer,
    anchors,
    issuer_accounts,
    issuers,
    revocations,
    rows,
    rule_sets,
    signing_keys,
)
from ledger.schema import upgrade
from ledger.server import serve
from ledger.sql import open_engine
from ledger.views import ChainView

DID = "did:web:creditbank.example:issuers:demo-university"


def test_a_view_call_revert_is_our_error(chain: TestChain) -> None:
    with pytest.raises(TransactionReverted) as caught:
        chain.ledger.transact(chain.operator, "IssuerRegistry", "acceptOperator")
    assert caught.value.reason == "caller is not the pending operator"


def test_a_mined_revert_is_an_error_with_its_reason(chain: TestChain) -> None:
    stranger = chain.account()
    tx_hash = chain.ledger.send(stranger, "IssuerRegistry", "suspend", bytes(32), 1, gas=200_000)
    with pytest.raises(TransactionReverted) as caught:
        chain.ledger.wait(tx_hash)
    assert (caught.value.reason, caught.value.tx_hash) == ("caller is not the operator", tx_hash)
    assert chain.ledger.receipt(tx_hash)["status"] == 0


def test_unknown_transaction_has_no_receipt(chain: TestChain) -> None:
    assert chain.ledger.receipt("0x" + "ab" * 32) is None


def test_sender_outside_the_allowlist_is_refused(embedded: TestChain) -> None:
    outsider = Account.create()
    with pytest.raises(SenderNotPermitted):
        embedded.ledger.transfer(outsider, embedded.operator.address, 0)
    assert embedded.ledger.w3.eth.get_transaction_count(outsider.address, "pending") == 0


def test_a_stale_nonce_is_rejected_then_resynchronised(chain: TestChain) -> None:
    account = chain.account()
    first = Ledger(chain.ledger.w3.provider, chain.deployment)
    second = Ledger(chain.ledger.w3.provider, chain.deployment)
    first.transfer(account, chain.operator.address, 1)
    second.transfer(account, chain.operator.address, 1)
    receipt = first.transfer(account, chain.operator.address, 1)
    assert (receipt["status"], chain.ledger.w3.eth.get_transaction_count(account.address)) == (1, 3)


def test_an_unfunded_transaction_is_rejected(chain: TestChain) -> None:
    poor = Account.create()
    if chain.node is not None:
        chain.node.allow([poor.address])
    with pytest.raises(TransactionRejected):
        chain.ledger.send_raw(poor, to=chain.operator.address, value=10**18, gas=21_000)


def test_client_fails_over_when_an_endpoint_dies_mid_run(embedded: TestChain) -> None:
    assert embedded.node is not None
    server = serve(embedded.node, port=free_port())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    first, second = TcpProxy(server.server_port), TcpProxy(server.server_port)
    dead = f"http://127.0.0.1:{free_port()}"
    try:
        ledger = Ledger.connect([dead, first.url, second.url], embedded.deployment, timeout=2)
        issuer = embedded.account()
        ledger.transact(
            embedded.operator, "IssuerRegistry", "accredit", DID, [issuer.address], 1, 2, 0, 0
        )
        assert ledger.w3.provider.current_url == first.url
        roots = [bytes([i]) * 32 for i in range(1, 7)]
        for index, root in enumerate(roots):
            if index == 3:
                first.kill()
            ledger.transact(issuer, "CredentialAnchor", "anchor", root)
        assert ledger.w3.provider.current_url == second.url
        view = ChainView(ledger)
        assert [view.anchor(root).sender for root in roots] == [issuer.address] * len(roots)
        second.kill()
        with pytest.raises(LedgerUnavailable):
            ledger.block_number()
    finally:
        server.shutdown()
        server.server_close()


def test_indexer_follows_events_and_resumes(chain: TestChain, database_url: str) -> None:
    engine = open_engine(database_url)
    indexer = Indexer(chain.ledger, engine)
    upgrade(engine)
    issuer_id, (account,) = chain.accredit(DID)
    chain.ledger.transact(account, "IssuerRegistry", "registerKey", b"\x21" * 32)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x22" * 32)
    first = indexer.sync()
    assert first == 4
    assert [row["did"] for row in rows(engine, issuers)] == [DID]

    chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", b"\x22" * 32, 3)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x23" * 32)
    chain.ledger.transact(
        account, "CredentialAnchor", "revokeLeafRecord", b"\x23" * 32, b"\x24" * 32, 6
    )
    chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 2)
    rule_set = b"\x25" * 32
    chain.ledger.transact(account, "RuleRegistry", "publish", rule_set, 1, b"\x26" * 32)
    chain.ledger.transact(chain.operator, "RuleRegistry", "approve", rule_set, 1)
    chain.ledger.transact(account, "IssuerRegistry", "retireKey", b"\x21" * 32, 0)

    resumed = Indexer(chain.ledger, engine)
    assert resumed.indexed_block() == indexer.indexed_block()
    assert resumed.sync() == 7
    assert resumed.sync() == 0

    assert sorted(row["root"] for row in rows(engine, anchors)) == [b"\x22" * 32, b"\x23" * 32]
    assert sorted(
        (row["root"], row["digest"], row["reason"]) for row in rows(engine, revocations)
    ) == [
        (b"\x22" * 32, bytes(32), 3),
        (b"\x23" * 32, b"\x24" * 32, 6),
    ]
    (issuer,) = rows(engine, issuers)
    assert (issuer["issuer_id"], issuer["suspended"]) == (issuer_id, True)
    assert rows(engine, issuer_accounts) == [
        {"account": account.address, "issuer_id": issuer_id, "active": True}
    ]
    (key,) = rows(engine, signing_keys)
    assert key["retired_block"] > key["registered_block"] > 0
    (rule,) = rows(engine, rule_sets)
    assert (rule["version"], rule["content_hash"], rule["approved_block"] > 0) == (
        1,
        b"\x26" * 32,
        True,
    )
