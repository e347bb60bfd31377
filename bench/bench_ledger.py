"""Benchmark the embedded ledger node; prints a markdown table.

    python bench/bench_ledger.py [--transactions 2000] [--blocks 100000]

(a) value transfers sealed per second (the baseline), (b) `CredentialAnchor.anchor(root)`
transactions sealed per second by an accredited issuer, and gas per anchor, (c) eth_call latency,
(d) reopen time of a node holding many blocks. Transactions are signed before timing:
the figures cover admission (eth_sendRawTransaction) plus sealing.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from contracts import artifact
from ledger.node import EmbeddedNode
from ledger.provider import EmbeddedProvider


def signed_transfers(account: LocalAccount, count: int, first_nonce: int) -> list[str]:
    """`count` signed zero-fee transfers as 0x-hex."""
    return [
        "0x"
        + account.sign_transaction(
            {
                "to": "0x" + "22" * 20,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "nonce": first_nonce + i,
                "chainId": 2021,
            }
        ).raw_transaction.hex()
        for i in range(count)
    ]


def sealed_per_second(node: EmbeddedNode, raw_transactions: list[str]) -> tuple[float, int]:
    """Admit then seal every transaction; returns transactions per second and blocks sealed."""
    started = time.perf_counter()
    for raw in raw_transactions:
        node.request("eth_sendRawTransaction", [raw])
    blocks = node.seal_now()
    return len(raw_transactions) / (time.perf_counter() - started), blocks


def deploy(node: EmbeddedNode, operator: LocalAccount, name: str, *args: object):
    """Deploy one of our contracts by name; returns the web3 contract."""
    compiled = artifact(name)
    w3 = Web3(EmbeddedProvider(node))
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx = factory.constructor(*args).build_transaction(
        {"from": operator.address, "nonce": w3.eth.get_transaction_count(operator.address)}
    )
    tx_hash = w3.eth.send_raw_transaction(operator.sign_transaction(tx).raw_transaction)
    node.seal_now()
    address = w3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    return w3.eth.contract(address=address, abi=compiled.abi)


def anchor_contract(node: EmbeddedNode, operator: LocalAccount):
    """The real registry and anchor contracts, with the operator's account accredited to anchor."""
    registry = deploy(node, operator, "IssuerRegistry")
    anchor = deploy(node, operator, "CredentialAnchor", registry.address)
    for call in (
        registry.functions.bindAnchor(anchor.address),
        registry.functions.accredit("did:web:bench.example", [operator.address], 1, 1, 0, 0),
    ):
        transaction = call.build_transaction(
            {
                "from": operator.address,
                "nonce": node.nonce(bytes.fromhex(operator.address[2:]), "pending"),
                "gas": 500_000,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "chainId": 2021,
            }
        )
        raw = "0x" + operator.sign_transaction(transaction).raw_transaction.hex()
        node.request("eth_sendRawTransaction", [raw])
        node.seal_now()
    return anchor


def signed_anchors(contract, operator: LocalAccount, count: int, first_nonce: int) -> list[str]:
    """`count` signed `anchor(root)` transactions with distinct roots."""
    raws = []
    for i in range(count):
        tx = contract.functions.anchor(Web3.keccak(i.to_bytes(32, "big"))).build_transaction(
            {
                "from": operator.address,
                "nonce": first_nonce + i,
                "gas": 200_000,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "chainId": 2021,
            }
        )
        raws.append("0x" + operator.sign_transaction(tx).raw_transaction.hex())
    return raws


def call_latency(node: EmbeddedNode, contract, count: int) -> list[float]:
    """Seconds per eth_call of `anchorOf` (through the JSON-RPC dispatch)."""
    data = contract.encode_abi("anchorOf", args=[Web3.keccak((1).to_bytes(32, "big"))])
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        node.request("eth_call", [{"to": contract.address, "data": data}, "latest"])
        samples.append(time.perf_counter() - started)
    return samples


def append_empty_blocks(node: EmbeddedNode, blocks: int) -> None:
    """Append `blocks` empty blocks, one second apart, straight through py-evm (progress on
    stderr)."""
    parent = node.head()
    for number in range(blocks):
        header = node.chain.create_header_from_parent(
            parent,
            timestamp=parent.timestamp + 1,
            gas_limit=parent.gas_limit,
            coinbase=parent.coinbase,
        )
        block = node.chain.get_vm(header).get_block()
        node.chain.chaindb.persist_block(block)
        parent = block.header
        if number % 5_000 == 4_999:
            node.storage.commit()
            print(f"  {number + 1:,} of {blocks:,} blocks", file=sys.stderr)
    node.storage.commit()


def reopen_seconds(data_dir: Path, operator: LocalAccount, blocks: int) -> float:
    """Append `blocks` empty blocks, close, and time the reopen."""
    node, _ = EmbeddedNode.create(data_dir, operator_address=operator.address)
    append_empty_blocks(node, blocks)
    node.close()
    started = time.perf_counter()
    reopened = EmbeddedNode.open(data_dir)
    head = reopened.request("eth_blockNumber")
    elapsed = time.perf_counter() - started
    reopened.close()
    assert int(head, 16) == blocks
    return elapsed


def restart_seconds(data_dir: Path) -> float:
    """Seconds from spawning `creditbank node` to its first JSON-RPC answer (imports included)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "node", "--data", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                request = urllib.request.Request(url, data=body.encode(), method="POST")
                request.add_header("Content-Type", "application/json")
                with urllib.request.urlopen(request, timeout=1) as response:
                    response.read()
                return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--blocks", type=int, default=100_000)
    options = parser.parse_args()
    operator = Account.create()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        node, _ = EmbeddedNode.create(Path(scratch) / "a", operator_address=operator.address)
        with node:
            raws = signed_transfers(operator, options.transactions, 0)
            baseline, blocks = sealed_per_second(node, raws)
            rows.append(
                (
                    f"value transfers sealed ({blocks} blocks), baseline",
                    f"{baseline:,.0f} tx/s",
                    "1.00",
                )
            )
            contract = anchor_contract(node, operator)
            nonce = node.nonce(bytes.fromhex(operator.address[2:]), "pending")
            raws = signed_anchors(contract, operator, options.transactions, nonce)
            rate, blocks = sealed_per_second(node, raws)
            rows.append(
                (
                    f"anchor(root) sealed ({blocks} blocks)",
                    f"{rate:,.0f} tx/s",
                    f"{rate / baseline:.2f}",
                )
            )
            receipt = node.request(
                "eth_getTransactionReceipt", ["0x" + Web3.keccak(hexstr=raws[-1]).hex()]
            )
            rows.append(("gas per anchor", f"{int(receipt['gasUsed'], 16):,}", ""))
            samples = sorted(call_latency(node, contract, options.calls))
            p50 = statistics.median(samples) * 1000
            p99 = samples[int(len(samples) * 0.99) - 1] * 1000
            rows.append(("eth_call anchorOf p50 / p99", f"{p50:.2f} / {p99:.2f} ms", ""))
        seconds = reopen_seconds(Path(scratch) / "b", operator, options.blocks)
        rows.append((f"reopen with {options.blocks:,} blocks (in process)", f"{seconds:.3f} s", ""))
        seconds = restart_seconds(Path(scratch) / "b")
        rows.append(
            (f"`creditbank node` restart with {options.blocks:,} blocks", f"{seconds:.2f} s", "")
        )
    print("| measurement | result | ratio to baseline |\n|---|---|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
