"""The one client: errors mapped to ours, receipts checked, failover, and the revocation
indexer."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_account import Account

from infra.database import open_engine
from infra.schema import upgrade
from ledger.client import Ledger
from ledger.errors import (
    LedgerUnavailable,
    RPCError,
    SenderNotPermitted,
    TransactionRejected,
    TransactionReverted,
    Unauthorized,
)
from ledger.indexer import Indexer, issuer_events, revocations, rows
from ledger.permissions import allow_accounts, allowed_accounts
from ledger.server import serve
from ledger.views import ChainView
from tests.support.chains import TestChain
from tests.support.nodes import TcpProxy, free_port

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


def test_indexer_follows_revocations_and_resumes(chain: TestChain, database_url: str) -> None:
    engine = open_engine(database_url)
    indexer = Indexer(chain.ledger, engine)
    upgrade(engine)
    issuer_id, (account,) = chain.accredit(DID)
    chain.ledger.transact(account, "IssuerRegistry", "registerKey", b"\x21" * 32)
    chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x22" * 32)
    chain.ledger.transact(account, "CredentialAnchor", "revokeRoot", b"\x22" * 32, 3)
    assert indexer.sync() == 1

    chain.ledger.transact(account, "CredentialAnchor", "anchor", b"\x23" * 32)
    chain.ledger.transact(
        account, "CredentialAnchor", "revokeLeafRecord", b"\x23" * 32, b"\x24" * 32, 6
    )
    chain.ledger.transact(chain.operator, "IssuerRegistry", "suspend", issuer_id, 2)
    chain.ledger.transact(chain.operator, "IssuerRegistry", "retireIssuerKey", issuer_id,
                          b"\x21" * 32, 0)

    resumed = Indexer(chain.ledger, engine)
    assert resumed.indexed_block() == indexer.indexed_block()
    assert resumed.sync() == 3
    assert resumed.sync() == 0
    assert [(row["event"], row["issuer_id"], row["public_key"], row["retired_block"] > 0
             if row["retired_block"] is not None else None)
            for row in sorted(rows(engine, issuer_events),
                              key=lambda row: (row["block"], row["log_index"]))] == [
        ("Suspended", issuer_id, None, None), ("KeyRetired", issuer_id, b"\x21" * 32, True)]
    assert sorted(
        (row["root"], row["digest"], row["issuer_id"], row["reason"])
        for row in rows(engine, revocations)
    ) == [
        (b"\x22" * 32, bytes(32), issuer_id, 3),
        (b"\x23" * 32, b"\x24" * 32, issuer_id, 6),
    ]


class PlainAnswers(BaseHTTPRequestHandler):
    """Answers every POST with the status its path names and a plain-text body (as Besu's
    authentication does)."""

    def do_POST(self) -> None:
        """Answer without JSON."""
        status = int(self.path.strip("/"))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"nope\n")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_allowlist_failures_are_our_errors() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PlainAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(Unauthorized):
            allow_accounts(f"{base}/401", "wrong-token", [Account.create().address])
        with pytest.raises(LedgerUnavailable):
            allowed_accounts(f"{base}/502", "token")
        with pytest.raises(RPCError):
            allowed_accounts(f"{base}/200", "token")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(LedgerUnavailable):
        allowed_accounts(f"http://127.0.0.1:{free_port()}", "token")
