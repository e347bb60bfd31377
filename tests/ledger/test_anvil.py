"""The anvil harness: a maintained third-party EVM node that answers, mines and keeps its state
(our contracts and their anchors) across a restart."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import TxReceipt

from ledger.views import ChainView
from tests.support.chains import anvil_chain
from tests.support.nodes import AnvilNode

pytestmark = pytest.mark.anvil

TRANSFER_WEI = 12345
DID = "did:web:creditbank.example:issuers:anvil-university"


def send_value(node: AnvilNode, recipient: str) -> TxReceipt:
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


def chain_state(node: AnvilNode, *addresses: str) -> dict[str, object]:
    """Latest block number and hash plus the balances of `addresses`."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    latest = w3.eth.get_block("latest")
    return {
        "block": latest["number"],
        "hash": latest["hash"],
        "balances": {
            address: w3.eth.get_balance(Web3.to_checksum_address(address)) for address in addresses
        },
    }


def test_node_answers_with_its_chain_id(anvil_node: AnvilNode) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil_node.url))
    assert w3.eth.chain_id == anvil_node.chain_id == 1337


def test_funded_account_transfer_is_mined(anvil_node: AnvilNode) -> None:
    sender = Account.from_key(anvil_node.funded_private_key).address
    recipient = Account.create().address

    receipt = send_value(anvil_node, recipient)

    assert {key: receipt[key] for key in ("status", "from", "to", "gasUsed")} == {
        "status": 1,
        "from": sender,
        "to": recipient,
        "gasUsed": 21000,
    }
    assert chain_state(anvil_node, recipient)["balances"] == {recipient: TRANSFER_WEI}


def test_a_restart_keeps_contracts_and_anchors(anvil_node: AnvilNode) -> None:
    chain = anvil_chain(anvil_node.url, anvil_node.funded_private_key)
    _, (account,) = chain.accredit(DID)
    root = Web3.keccak(text="batch kept across a restart")
    chain.ledger.transact(account, "CredentialAnchor", "anchor", root)
    anchored = ChainView(chain.ledger).anchor(root)
    sender = Account.from_key(anvil_node.funded_private_key).address
    before = chain_state(anvil_node, sender, account.address)
    stopped_pid = anvil_node.pid

    anvil_node.restart()

    with pytest.raises(ProcessLookupError):
        os.kill(stopped_pid, 0)
    assert anvil_node.pid != stopped_pid
    assert chain_state(anvil_node, sender, account.address) == before
    view = ChainView(chain.ledger)
    assert anchored is not None and view.anchor(root) == anchored
    assert chain.ledger.w3.eth.get_code(Web3.to_checksum_address(view.anchor_contract())) != b""
    later = Web3.keccak(text="batch anchored after the restart")
    chain.ledger.transact(account, "CredentialAnchor", "anchor", later)
    senders = [record.sender for record in map(view.anchor, (root, later)) if record is not None]
    assert senders == [account.address] * 2
