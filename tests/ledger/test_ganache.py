"""The ganache harness: a real third-party EVM node that answers, mines and persists."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import TxReceipt

from tests.support.nodes import GanacheNode

pytestmark = pytest.mark.ganache

TRANSFER_WEI = 12345


def send_value(node: GanacheNode, recipient: str) -> TxReceipt:
    """Sign a plain value transfer from the node's funded account and wait for its receipt."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    sender = Account.from_key(node.funded_private_key)
    signed = sender.sign_transaction(
        {
            "type": 2,
            "chainId": node.chain_id,
            "nonce": w3.eth.get_transaction_count(sender.address),
            "to": recipient,
            "value": TRANSFER_WEI,
            "gas": 21000,
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    transaction_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(transaction_hash, timeout=10)


def chain_state(node: GanacheNode, *addresses: str) -> dict[str, object]:
    """Latest block number and hash plus the balances of `addresses`."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    latest = w3.eth.get_block("latest")
    return {
        "block": latest["number"],
        "hash": latest["hash"],
        "balances": {address: w3.eth.get_balance(address) for address in addresses},
    }


def test_node_answers_with_its_chain_id(ganache_node: GanacheNode) -> None:
    w3 = Web3(Web3.HTTPProvider(ganache_node.url))
    assert w3.eth.chain_id == ganache_node.chain_id == 1337


def test_funded_account_transfer_is_mined(ganache_node: GanacheNode) -> None:
    sender = Account.from_key(ganache_node.funded_private_key).address
    recipient = Account.create().address

    receipt = send_value(ganache_node, recipient)

    assert {key: receipt[key] for key in ("status", "from", "to", "gasUsed")} == {
        "status": 1,
        "from": sender,
        "to": recipient,
        "gasUsed": 21000,
    }
    assert chain_state(ganache_node, recipient)["balances"] == {recipient: TRANSFER_WEI}


def test_state_persists_across_a_kill_and_restart(ganache_node: GanacheNode) -> None:
    sender = Account.from_key(ganache_node.funded_private_key).address
    recipient = Account.create().address
    send_value(ganache_node, recipient)
    before = chain_state(ganache_node, sender, recipient)
    killed_pid = ganache_node.pid

    ganache_node.restart()

    with pytest.raises(ProcessLookupError):
        os.kill(killed_pid, 0)
    assert ganache_node.pid != killed_pid
    assert chain_state(ganache_node, sender, recipient) == before
    assert before["block"] >= 1
