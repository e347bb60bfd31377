"""Plain values passed between the node and its JSON-RPC layer."""

from __future__ import annotations

from dataclasses import dataclass

from eth.abc import BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS, ZERO_ADDRESS
from eth_typing import Address, BlockNumber, Hash32

BlockId = BlockNumber | Hash32 | str
"""A block number, a 32-byte block hash, or a tag: latest, pending, earliest, safe, finalized."""


@dataclass(frozen=True)
class CallMessage:
    """A message for eth_call / eth_estimateGas (`to` empty for a contract creation)."""

    sender: Address = ZERO_ADDRESS
    to: Address = CREATE_CONTRACT_ADDRESS
    gas: int | None = None
    value: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class MinedTransaction:
    """A transaction in a canonical block, with what its receipt needs."""

    transaction: SignedTransactionAPI
    header: BlockHeaderAPI
    index: int
    sender: bytes
    gas_used: int
    first_log: int
    contract: bytes | None
    receipt: ReceiptAPI
