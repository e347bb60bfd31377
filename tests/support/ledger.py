"""Helpers for the embedded node tests: a tiny Vyper contract, raw bytecode that keeps the EVM
busy, fresh nodes, and timed JSON-RPC over HTTP."""

from __future__ import annotations

import functools
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import vyper
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from py_ecc import optimized_bn128 as bn128

from ledger.execution import DEFAULT_CALL_LIMITS, CallLimits
from ledger.node import EmbeddedNode
from ledger.server import serve

JUMP_LOOP = bytes.fromhex("5b600056")
"""JUMPDEST PUSH1 0 JUMP: as creation code, loops until its gas or its time runs out."""
CALL_SELF = bytes.fromhex("60006000600060006000305af150")
"""CALL(gas, address(this), 0, 0, 0, 0, 0) POP: repeated, a tree of calls without one jump."""
BLAKE2F = bytes.fromhex("00" * 19 + "09")
BN254_PAIRING = bytes.fromhex("00" * 19 + "08")
IDENTITY = bytes.fromhex("00" * 19 + "04")

STORE_SOURCE = """
#pragma version ^0.4.0
#pragma evm-version shanghai

event Stored:
    sender: indexed(address)
    value: indexed(uint256)
    note: Bytes[32]

value: public(uint256)

@external
def store(v: uint256):
    assert v != 13, "unlucky number"
    self.value = v
    log Stored(sender=msg.sender, value=v, note=b"stored")
"""


@dataclass(frozen=True)
class Contract:
    """A compiled contract: ABI and creation bytecode."""

    abi: list
    bytecode: str


@functools.cache
def store_contract() -> Contract:
    """The `Store` test contract, compiled for shanghai."""
    output = vyper.compile_code(STORE_SOURCE, output_formats=["abi", "bytecode"])
    return Contract(abi=output["abi"], bytecode=output["bytecode"])


def operator_account() -> LocalAccount:
    """A deterministic operator account."""
    return Account.from_key("0x" + "4f" * 32)


def new_node(
    data_dir: Path, *, block_period: float = 0.05, call_limits: CallLimits = DEFAULT_CALL_LIMITS
) -> tuple[EmbeddedNode, str]:
    """A fresh, started node whose operator is `operator_account()`."""
    node, token = EmbeddedNode.create(
        data_dir,
        operator_address=operator_account().address,
        block_period=block_period,
        call_limits=call_limits,
    )
    node.start()
    return node, token


def creation_code(runtime: bytes) -> bytes:
    """Creation code that deploys `runtime` as the contract's code."""
    header_size = 12
    return (
        bytes.fromhex("61") + len(runtime).to_bytes(2, "big")  # PUSH2 size
        + bytes.fromhex("80")  # DUP1
        + bytes.fromhex("60") + header_size.to_bytes(1, "big")  # PUSH1 offset
        + bytes.fromhex("600039")  # PUSH1 0, CODECOPY
        + bytes.fromhex("6000f3")  # PUSH1 0, RETURN
        + runtime
    )  # fmt: skip


def deploy_runtime(node: EmbeddedNode, runtime: bytes) -> str:
    """Deploy raw runtime code as the operator, seal it, and return the contract's address."""
    operator = operator_account()
    transaction = {
        "data": creation_code(runtime),
        "gas": 1_000_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "nonce": node.nonce(bytes.fromhex(operator.address[2:]), "pending"),
        "chainId": node.chain_id,
    }
    tx_hash = node.send_raw_transaction(operator.sign_transaction(transaction).raw_transaction)
    node.seal_now()
    mined = node.mined_transaction(tx_hash)
    assert mined is not None and mined.contract is not None
    return to_checksum_address(mined.contract)


def blake2f_input(rounds: int) -> bytes:
    """Input of the BLAKE2 F precompile (EIP-152): `rounds` rounds over a zero block."""
    return rounds.to_bytes(4, "big") + bytes(64 + 128 + 16) + b"\x01"


def pairing_input(pairs: int) -> bytes:
    """Input of the BN254 pairing precompile (EIP-197): `pairs` times (G1, G2)."""
    x1, y1 = bn128.normalize(bn128.G1)
    x2, y2 = bn128.normalize(bn128.G2)
    words = (x1, y1, x2.coeffs[1], x2.coeffs[0], y2.coeffs[1], y2.coeffs[0])
    return b"".join(int(word).to_bytes(32, "big") for word in words) * pairs


def timed_rpc(url: str, body: object, timeout: float = 30.0) -> tuple[float, object]:
    """POST one JSON-RPC body; the seconds until the answer, and the decoded answer."""
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    return time.monotonic() - started, answer


@contextmanager
def served_node(data_dir: Path) -> Iterator[str]:
    """A fresh node served over HTTP on a free port: its URL; stopped and closed on exit."""
    node, _ = new_node(data_dir)
    server = serve(node, port=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        node.close()
