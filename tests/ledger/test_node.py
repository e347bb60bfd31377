"""The embedded node in-process: pool rules, sealing, allowlist, persistence."""

from __future__ import annotations

import itertools
import time

import pytest
from eth_account import Account
from web3 import Web3

from ledger.errors import SenderNotPermitted, TransactionRejected, Unauthorized
from ledger.node import BLOCK_GAS_LIMIT, EmbeddedNode
from ledger.provider import EmbeddedProvider
from tests.support.ledger import new_node, operator_account, store_contract

SINK = "0x" + "22" * 20


def transfer(account, nonce: int, *, value: int = 1, **overrides) -> bytes:
    """A signed EIP-1559 value transfer to SINK."""
    fields = {
        "to": SINK,
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "nonce": nonce,
        "chainId": 2021,
        **overrides,
    }
    return account.sign_transaction(fields).raw_transaction


def send(node: EmbeddedNode, raw: bytes) -> str:
    return node.request("eth_sendRawTransaction", ["0x" + raw.hex()])


@pytest.fixture
def node(tmp_path):
    node, _ = new_node(tmp_path / "chain")
    yield node
    node.close()


def test_transactions_are_pooled_then_sealed(tmp_path) -> None:
    node, _ = EmbeddedNode.create(tmp_path, operator_address=operator_account().address)
    with node:
        tx_hash = send(node, transfer(operator_account(), 0, value=5))
        pending = node.request("eth_getTransactionByHash", [tx_hash])
        before = (
            node.request("eth_getTransactionReceipt", [tx_hash]),
            pending["blockNumber"],
            node.request("eth_getTransactionCount", [operator_account().address, "pending"]),
            node.request("eth_getTransactionCount", [operator_account().address, "latest"]),
        )
        assert node.seal_now() == 1
        receipt = node.request("eth_getTransactionReceipt", [tx_hash])
        after = (receipt["status"], receipt["blockNumber"], node.request("eth_getBalance", [SINK]))
    assert (before, after) == ((None, None, "0x1", "0x0"), ("0x1", "0x1", "0x5"))


@pytest.mark.parametrize(
    ("overrides", "nonce", "message"),
    [
        ({"chainId": 1}, 0, "invalid chain id: 1 (this chain is 2021)"),
        ({"gas": 20_000}, 0, "intrinsic gas too low"),
        ({"gas": BLOCK_GAS_LIMIT + 1}, 0, "exceeds block gas limit"),
        ({"value": 10**31}, 1, "insufficient funds for gas * price + value"),
        ({}, 5, "nonce too high: next nonce 1"),
        ({}, 0, "nonce 0 already used by a pending transaction"),
    ],
)
def test_pool_rejects_invalid_transactions(node, overrides, nonce, message) -> None:
    operator = operator_account()
    send(node, transfer(operator, 0))
    with pytest.raises(TransactionRejected) as caught:
        send(node, transfer(operator, nonce, **{"value": 2, **overrides}))
    assert (caught.value.code, caught.value.message, len(node.pool)) == (-32000, message, 1)


def test_pool_rejects_a_used_nonce_and_undecodable_bytes(node) -> None:
    operator = operator_account()
    send(node, transfer(operator, 0))
    node.seal_now()
    errors = []
    for raw in (transfer(operator, 0, value=3), b"\x02\xff\x00"):
        with pytest.raises(TransactionRejected) as caught:
            send(node, raw)
        errors.append(caught.value.message.split(":")[0])
    assert errors == ["nonce too low", "invalid transaction encoding"]


def test_sender_not_on_allowlist_is_refused_and_nothing_changes(node) -> None:
    stranger = Account.create()
    head = node.head()
    with pytest.raises(SenderNotPermitted) as caught:
        send(node, transfer(stranger, 0, value=0))
    node.seal_now()
    assert (caught.value.code, caught.value.message, len(node.pool), node.head()) == (
        -32007,
        "sender account not authorized to send transactions",
        0,
        head,
    )


def test_allowlist_needs_the_admin_token_and_persists(tmp_path) -> None:
    stranger = Account.create()
    node, token = new_node(tmp_path)
    with node:
        with pytest.raises(Unauthorized):
            node.request("perm_addAccountsToAllowlist", [[stranger.address]])
        with pytest.raises(Unauthorized):
            node.request("perm_getAccountsAllowlist", [], admin_token="wrong")
        added = node.request("perm_addAccountsToAllowlist", [[stranger.address]], admin_token=token)
        send(node, transfer(stranger, 0, value=0))
    with EmbeddedNode.open(tmp_path) as reopened:
        listed = reopened.request("perm_getAccountsAllowlist", [], admin_token=token)
        removed = reopened.request(
            "perm_removeAccountsFromAllowlist", [[stranger.address]], admin_token=token
        )
        allowed_after = reopened.allowed(stranger.address)
        nonce = reopened.nonce(bytes.fromhex(stranger.address[2:]), "latest")
    assert (added, sorted(listed), removed, allowed_after, nonce) == (
        "Success",
        sorted([operator_account().address, stranger.address]),
        "Success",
        False,
        1,
    )


def test_a_transaction_whose_sender_is_removed_is_dropped_at_seal(node) -> None:
    member = Account.create()
    node.allow([member.address])
    tx_hash = send(node, transfer(member, 0, value=0))
    node.disallow([member.address])
    node.seal_now()
    assert (
        node.request("eth_getTransactionReceipt", [tx_hash]),
        node.request("eth_getTransactionByHash", [tx_hash]),
        node.request("eth_getTransactionCount", [member.address, "pending"]),
        node.head().block_number,
    ) == (None, None, "0x0", 0)


def test_many_transactions_are_sealed_in_few_blocks(tmp_path) -> None:
    operator = operator_account()
    node, _ = new_node(tmp_path, block_period=0.2)
    with node:
        hashes = [send(node, transfer(operator, nonce)) for nonce in range(300)]
        deadline = time.monotonic() + 10
        while len(node.pool) and time.monotonic() < deadline:
            time.sleep(0.05)
        blocks = {node.request("eth_getTransactionReceipt", [h])["blockNumber"] for h in hashes}
        balance = node.request("eth_getBalance", [SINK])
    assert (len(blocks) <= 4, balance) == (True, hex(300))


def test_block_timestamps_rise_and_track_the_clock(node) -> None:
    operator = operator_account()
    clock = []
    for nonce in range(4):
        if nonce == 3:
            time.sleep(1.1)
        clock.append(int(time.time()))
        send(node, transfer(operator, nonce))
        node.seal_now()
    stamps = [node.header(number).timestamp for number in range(1, 5)]
    rising = all(b > a for a, b in itertools.pairwise(stamps))
    follows_clock = all(now <= stamp <= now + 3 for now, stamp in zip(clock, stamps, strict=True))
    assert (rising, follows_clock) == (True, True)


def test_reopen_resumes_at_head_with_state_receipts_and_logs(tmp_path) -> None:
    operator = operator_account()
    node, _ = new_node(tmp_path)
    with node:
        w3 = Web3(EmbeddedProvider(node))
        contract = store_contract()
        factory = w3.eth.contract(abi=contract.abi, bytecode=contract.bytecode)
        deploy = factory.constructor().build_transaction({"from": operator.address, "nonce": 0})
        deploy_hash = w3.eth.send_raw_transaction(operator.sign_transaction(deploy).raw_transaction)
        address = w3.eth.wait_for_transaction_receipt(deploy_hash, poll_latency=0.02)[
            "contractAddress"
        ]
        store = w3.eth.contract(address=address, abi=contract.abi)
        call = store.functions.store(42).build_transaction({"from": operator.address, "nonce": 1})
        call_hash = w3.eth.send_raw_transaction(operator.sign_transaction(call).raw_transaction)
        w3.eth.wait_for_transaction_receipt(call_hash, poll_latency=0.02)
        before = (
            node.request("eth_blockNumber"),
            node.request("eth_getBalance", [operator.address]),
            node.request("eth_getTransactionReceipt", ["0x" + call_hash.hex()]),
            node.request("eth_getLogs", [{"fromBlock": "0x0", "address": address}]),
        )
    with EmbeddedNode.open(tmp_path) as reopened:
        w3 = Web3(EmbeddedProvider(reopened))
        after = (
            reopened.request("eth_blockNumber"),
            reopened.request("eth_getBalance", [operator.address]),
            reopened.request("eth_getTransactionReceipt", ["0x" + call_hash.hex()]),
            reopened.request("eth_getLogs", [{"fromBlock": "0x0", "address": address}]),
        )
        stored = w3.eth.contract(address=address, abi=contract.abi).functions.value().call()
    assert (after, stored, len(before[3])) == (before, 42, 1)
