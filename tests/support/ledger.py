"""Helpers for the embedded node tests: a tiny Vyper contract and fresh nodes."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import vyper
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.node import EmbeddedNode
from ledger.server import serve

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


def new_node(data_dir: Path, *, block_period: float = 0.05) -> tuple[EmbeddedNode, str]:
    """A fresh, started node whose operator is `operator_account()`."""
    node, token = EmbeddedNode.create(
        data_dir, operator_address=operator_account().address, block_period=block_period
    )
    node.start()
    return node, token


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
