"""The pending pool: accepted transactions waiting, in arrival order, for the next seal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI
from eth_typing import Address


@dataclass(frozen=True)
class PendingTransaction:
    """A transaction accepted into the pool, with its recovered sender and worst-case cost."""

    transaction: SignedTransactionAPI
    sender: Address
    cost: int

    @property
    def hash(self) -> bytes:
        """The transaction hash."""
        return self.transaction.hash


class TransactionPool:
    """Pending transactions; each sender's nonces are consecutive from its state nonce."""

    def __init__(self, *, max_count: int, gas_budget: int) -> None:
        self.max_count = max_count
        self.gas_budget = gas_budget
        self._pending: dict[bytes, PendingTransaction] = {}
        self._next_nonce: dict[bytes, int] = {}
        self._reserved: dict[bytes, int] = {}
        self._gas = 0

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._pending

    @property
    def is_full(self) -> bool:
        """Whether the pool holds at least one block's worth (by count or by gas)."""
        return len(self._pending) >= self.max_count or self._gas >= self.gas_budget

    def get(self, tx_hash: bytes) -> PendingTransaction | None:
        """The pending transaction with that hash, or None."""
        return self._pending.get(tx_hash)

    def next_nonce(self, sender: bytes, state_nonce: int) -> int:
        """The nonce the sender's next transaction must carry."""
        return self._next_nonce.get(sender, state_nonce)

    def reserved(self, sender: bytes) -> int:
        """The most the sender's pending transactions can spend (gas * max fee + value)."""
        return self._reserved.get(sender, 0)

    def add(self, pending: PendingTransaction) -> None:
        """Queue a transaction the node has validated."""
        self._pending[pending.hash] = pending
        self._next_nonce[pending.sender] = pending.transaction.nonce + 1
        self._reserved[pending.sender] = self.reserved(pending.sender) + pending.cost
        self._gas += pending.transaction.gas

    def in_order(self) -> list[PendingTransaction]:
        """Every pending transaction in arrival order (so per sender in nonce order)."""
        return list(self._pending.values())

    def remove(self, tx_hashes: Iterable[bytes]) -> None:
        """Take sealed or dropped transactions out of the pool."""
        touched = set()
        for tx_hash in tx_hashes:
            pending = self._pending.pop(tx_hash, None)
            if pending is not None:
                touched.add(pending.sender)
                self._gas -= pending.transaction.gas
        for sender in touched:
            self._next_nonce.pop(sender, None)
            self._reserved.pop(sender, None)
        for pending in self._pending.values():
            if pending.sender in touched:
                self._next_nonce[pending.sender] = pending.transaction.nonce + 1
                self._reserved[pending.sender] = self.reserved(pending.sender) + pending.cost
