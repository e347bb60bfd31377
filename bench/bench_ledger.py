"""Benchmark the embedded ledger node; prints a markdown table.

    python bench/bench_ledger.py [--transactions 2000] [--blocks 100000]

(a) value transfers sealed per second, (b) contract-call transactions sealed per second for each
workload in WORKLOADS (append one built from a contract artifact to measure it), (c) eth_call
latency, (d) reopen time of a node holding many blocks. Transactions are signed before timing:
the figures cover admission (eth_sendRawTransaction) plus sealing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import vyper
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.node import EmbeddedNode
from ledger.provider import EmbeddedProvider

STORE_SOURCE = """
#pragma version ^0.4.0
#pragma evm-version shanghai

event Stored:
    key: indexed(bytes32)
    sender: indexed(address)

stored: public(HashMap[bytes32, uint256])

@external
def store(key: bytes32):
    assert self.stored[key] == 0, "already stored"
    self.stored[key] = block.number
    log Stored(key=key, sender=msg.sender)
"""


@dataclass(frozen=True)
class Workload:
    """A contract and the call each benchmark transaction makes (`arguments(i)` for the i-th)."""

    name: str
    abi: list
    bytecode: str
    function: str
    arguments: Callable[[int], list]
    gas: int = 200_000


def store_workload() -> Workload:
    """A tiny anchor-like contract: one storage write and one event per call."""
    output = vyper.compile_code(STORE_SOURCE, output_formats=["abi", "bytecode"])
    return Workload(
        name="store(bytes32)",
        abi=output["abi"],
        bytecode=output["bytecode"],
        function="store",
        arguments=lambda i: [i.to_bytes(32, "big")],
    )


WORKLOADS: list[Callable[[], Workload]] = [store_workload]


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


def deploy(node: EmbeddedNode, operator: LocalAccount, workload: Workload):
    """Deploy a workload's contract; returns the web3 contract."""
    w3 = Web3(EmbeddedProvider(node))
    factory = w3.eth.contract(abi=workload.abi, bytecode=workload.bytecode)
    tx = factory.constructor().build_transaction(
        {"from": operator.address, "nonce": w3.eth.get_transaction_count(operator.address)}
    )
    tx_hash = w3.eth.send_raw_transaction(operator.sign_transaction(tx).raw_transaction)
    node.seal_now()
    address = w3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    return w3.eth.contract(address=address, abi=workload.abi)


def signed_calls(
    contract, operator: LocalAccount, workload: Workload, count: int, first_nonce: int
) -> list[str]:
    """`count` signed calls of the workload's function."""
    function = contract.get_function_by_name(workload.function)
    raws = []
    for i in range(count):
        tx = function(*workload.arguments(i)).build_transaction(
            {
                "from": operator.address,
                "nonce": first_nonce + i,
                "gas": workload.gas,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "chainId": 2021,
            }
        )
        raws.append("0x" + operator.sign_transaction(tx).raw_transaction.hex())
    return raws


def call_latency(node: EmbeddedNode, contract, workload: Workload, count: int) -> list[float]:
    """Seconds per eth_call of a view on the workload's contract (through JSON-RPC dispatch)."""
    view = next(item["name"] for item in workload.abi if item.get("stateMutability") == "view")
    data = contract.encode_abi(view, args=workload.arguments(1))
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        node.request("eth_call", [{"to": contract.address, "data": data}, "latest"])
        samples.append(time.perf_counter() - started)
    return samples


def reopen_seconds(data_dir: Path, operator: LocalAccount, blocks: int) -> float:
    """Append `blocks` empty blocks straight through py-evm, close, and time the reopen."""
    node, _ = EmbeddedNode.create(data_dir, operator_address=operator.address)
    chain = node.chain
    parent = node.head()
    for number in range(blocks):
        header = chain.create_header_from_parent(
            parent,
            timestamp=parent.timestamp + 1,
            gas_limit=parent.gas_limit,
            coinbase=parent.coinbase,
        )
        block = chain.get_vm(header).get_block()
        chain.chaindb.persist_block(block)
        parent = block.header
        if number % 5_000 == 4_999:
            node.storage.commit()
    node.storage.commit()
    node.close()
    started = time.perf_counter()
    reopened = EmbeddedNode.open(data_dir)
    head = reopened.request("eth_blockNumber")
    elapsed = time.perf_counter() - started
    reopened.close()
    assert int(head, 16) == blocks
    return elapsed


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
            rate, blocks = sealed_per_second(node, raws)
            rows.append((f"value transfers sealed ({blocks} blocks)", f"{rate:,.0f} tx/s"))
            for make in WORKLOADS:
                workload = make()
                contract = deploy(node, operator, workload)
                nonce = node.nonce(bytes.fromhex(operator.address[2:]), "pending")
                raws = signed_calls(contract, operator, workload, options.transactions, nonce)
                rate, blocks = sealed_per_second(node, raws)
                rows.append(
                    (f"{workload.name} calls sealed ({blocks} blocks)", f"{rate:,.0f} tx/s")
                )
                samples = sorted(call_latency(node, contract, workload, options.calls))
                p50 = statistics.median(samples) * 1000
                p99 = samples[int(len(samples) * 0.99) - 1] * 1000
                rows.append((f"eth_call {workload.name} p50 / p99", f"{p50:.2f} / {p99:.2f} ms"))
        seconds = reopen_seconds(Path(scratch) / "b", operator, options.blocks)
        rows.append((f"reopen with {options.blocks:,} blocks", f"{seconds:.3f} s"))
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
