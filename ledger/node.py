"""The embedded permissioned EVM node: a py-evm chain in SQLite, a pending pool and a sealer.

Transactions enter the pool through `send_raw_transaction` (checked against the allowlist and
the head state); the sealer thread seals the pool every `block_period` seconds, or at once when
the pool holds a block's worth. Each sealed block is one SQLite transaction. Headers, calls and
estimates are read from what is committed, without the node's lock (`ledger.execution`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.chains.base import MiningChain
from eth.db.chain import ChainDB
from eth.exceptions import HeaderNotFound
from eth.typing import AccountState, HeaderParams
from eth.vm.chain_context import ChainContext
from eth.vm.forks.cancun import CancunVM
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError, to_canonical_address, to_checksum_address

from infra.closing import Closing
from infra.secrets import private_dir
from ledger import formats, rpc
from ledger.db import CHAIN_FILE, BlockRows, Storage
from ledger.errors import (
    ChainNotFound,
    LedgerError,
    RPCError,
    SenderNotPermitted,
    TransactionRejected,
    Unauthorized,
)
from ledger.execution import DEFAULT_CALL_LIMITS, CallLimits, CallRunner
from ledger.messages import BlockId, CallMessage, MinedTransaction
from ledger.pool import PendingTransaction, TransactionPool

log = logging.getLogger(__name__)

DEFAULT_CHAIN_ID = 2021
DEFAULT_BLOCK_PERIOD = 1.0
BLOCK_GAS_LIMIT = 60_000_000
OPERATOR_BALANCE = 10**30
MAX_BLOCK_TRANSACTIONS = 2_000
BLOB_TRANSACTION_TYPE = 3


def chain_class(chain_id: int) -> type[MiningChain]:
    """The py-evm chain class: Cancun from genesis, post-merge (no seal), this chain id."""
    return MiningChain.configure(
        __name__="CreditbankChain", vm_configuration=((0, CancunVM),), chain_id=chain_id
    )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EmbeddedNode(Closing):
    """A single-sealer permissioned EVM node persisted in `DATA/chain.sqlite`."""

    def __init__(
        self,
        storage: Storage,
        *,
        block_period: float = DEFAULT_BLOCK_PERIOD,
        max_block_transactions: int = MAX_BLOCK_TRANSACTIONS,
        call_limits: CallLimits = DEFAULT_CALL_LIMITS,
    ) -> None:
        chain_id = storage.meta("chain_id")
        operator = storage.meta("operator")
        if chain_id is None or operator is None:
            storage.close()
            raise ChainNotFound(f"no chain in {storage.path}")
        self.storage = storage
        self.chain_id = int(chain_id)
        self.operator = to_canonical_address(operator)
        self.block_period = block_period
        self.chain = chain_class(self.chain_id)(storage.kv)
        self.vm_class = CancunVM
        self._context = ChainContext(self.chain_id)
        self._builder = CancunVM.get_transaction_builder()
        self._receipt_builder = CancunVM.get_receipt_builder()
        self._admin_digest = storage.meta("admin_token_sha256") or ""
        self._allowed = set(storage.allowlist())
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sealer: threading.Thread | None = None
        self._closed = False
        self._head = self.chain.get_canonical_head()
        self._head_state: StateAPI | None = None
        self._committed = ChainDB(storage.committed)
        self.calls = CallRunner(self._committed, self._context, call_limits)
        self.pool = TransactionPool(
            max_count=max_block_transactions, gas_budget=self._head.gas_limit // 2
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        operator_address: str,
        chain_id: int = DEFAULT_CHAIN_ID,
        block_period: float = DEFAULT_BLOCK_PERIOD,
        call_limits: CallLimits = DEFAULT_CALL_LIMITS,
    ) -> tuple[EmbeddedNode, str]:
        """Create a new chain in `data_dir`; returns the node and its admin token (shown once)."""
        data_dir = Path(data_dir)
        path = data_dir / CHAIN_FILE
        if path.exists():
            raise LedgerError(f"a chain already exists in {data_dir}")
        private_dir(data_dir)
        operator = to_canonical_address(operator_address)
        token = secrets.token_urlsafe(32)
        storage = Storage(path)
        storage.set_allowed([operator], True)
        genesis_params: dict[str, HeaderParams] = {
            "difficulty": 0,
            "gas_limit": BLOCK_GAS_LIMIT,
            "timestamp": int(time.time()),
            "coinbase": operator,
            "base_fee_per_gas": 0,
            "nonce": b"\x00" * 8,
            "extra_data": b"creditbank",
        }
        genesis_state: AccountState = {
            operator: {"balance": OPERATOR_BALANCE, "nonce": 0, "code": b"", "storage": {}}
        }
        chain_class(chain_id).from_genesis(storage.kv, genesis_params, genesis_state)
        storage.commit(
            meta={
                "chain_id": str(chain_id),
                "operator": to_checksum_address(operator),
                "admin_token_sha256": _token_digest(token),
            }
        )
        return cls(storage, block_period=block_period, call_limits=call_limits), token

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        block_period: float = DEFAULT_BLOCK_PERIOD,
        call_limits: CallLimits = DEFAULT_CALL_LIMITS,
    ) -> EmbeddedNode:
        """Open the chain in `data_dir` at its stored head (nothing is replayed)."""
        path = Path(data_dir) / CHAIN_FILE
        if not path.exists():
            raise ChainNotFound(f"no chain in {data_dir}")
        return cls(Storage(path), block_period=block_period, call_limits=call_limits)

    def start(self) -> None:
        """Start the sealer thread."""
        with self._lock:
            if self._sealer is not None:
                return
            self._sealer = threading.Thread(target=self._seal_loop, name="sealer", daemon=True)
            self._sealer.start()

    def close(self) -> None:
        """Seal what is pending, stop the sealer and close the database."""
        self._stop.set()
        self._wake.set()
        if self._sealer is not None:
            self._sealer.join()
        with self._lock:
            if self._closed:
                return
            self.seal_now()
            self._closed = True
            self.storage.close()


    # -- JSON-RPC ----------------------------------------------------------------------------

    def request(
        self, method: str, params: Sequence[object] = (), *, admin_token: str | None = None
    ) -> object:
        """Call one JSON-RPC method; returns its JSON result or raises `RPCError`."""
        return rpc.dispatch(self, method, list(params), admin_token)

    def handle(self, body: bytes, *, admin_token: str | None = None) -> bytes:
        """Answer a raw JSON-RPC 2.0 body (single or batch); b'' when only notifications.

        The body's calls and estimates share one time limit."""
        with self.calls.shared_budget():
            return rpc.handle(self, body, admin_token)

    def check_admin(self, token: str | None) -> None:
        """Raise `Unauthorized` unless `token` is this node's admin token."""
        if token is None or not hmac.compare_digest(_token_digest(token), self._admin_digest):
            raise Unauthorized("admin token required (from a loopback client)")

    # -- permissioning -----------------------------------------------------------------------

    def allow(self, addresses: Iterable[str]) -> None:
        """Add accounts to the allowlist (persisted at once)."""
        accounts = [to_canonical_address(a) for a in addresses]
        with self._lock:
            self.storage.set_allowed(accounts, True)
            self._allowed.update(accounts)

    def disallow(self, addresses: Iterable[str]) -> None:
        """Remove accounts from the allowlist; their pending transactions are dropped at seal."""
        accounts = [to_canonical_address(a) for a in addresses]
        with self._lock:
            self.storage.set_allowed(accounts, False)
            self._allowed.difference_update(accounts)

    def allowed(self, address: str) -> bool:
        """Whether `address` may send transactions."""
        return to_canonical_address(address) in self._allowed

    def allowlist(self) -> list[str]:
        """Every allowlisted account (checksummed, sorted)."""
        with self._lock:
            return [to_checksum_address(a) for a in sorted(self._allowed)]

    # -- reads -------------------------------------------------------------------------------

    def head(self) -> BlockHeaderAPI:
        """The header of the latest sealed block."""
        return self._head

    def header(self, block_id: BlockId) -> BlockHeaderAPI | None:
        """The canonical header for a number, hash or tag, or None if there is none (read from
        the committed chain, without the node's lock)."""
        head = self._head
        if isinstance(block_id, str):
            if block_id == "earliest":
                return self._committed.get_canonical_block_header_by_number(BlockNumber(0))
            return head
        try:
            if isinstance(block_id, bytes):
                header = self._committed.get_block_header_by_hash(block_id)
                canonical = self._committed.get_canonical_block_hash(header.block_number)
                return header if canonical == header.hash else None
            if block_id > head.block_number:
                return None
            return self._committed.get_canonical_block_header_by_number(block_id)
        except HeaderNotFound:
            return None

    def existing_header(self, block_id: BlockId) -> BlockHeaderAPI:
        """Like `header`, but a missing block is an RPC error (as geth: "header not found")."""
        header = self.header(block_id)
        if header is None:
            raise RPCError("header not found", code=-32000)
        return header

    def block(self, header: BlockHeaderAPI) -> BlockAPI:
        """The full block for a canonical header."""
        with self._lock:
            return self.chain.get_block_by_header(header)

    def block_transactions(self, header: BlockHeaderAPI) -> list[tuple[bytes, int]]:
        """(sender, gas used) of each of a block's transactions, in order."""
        with self._lock:
            return self.storage.block_transactions(header.block_number)

    def state(self, header: BlockHeaderAPI) -> StateAPI:
        """A read-only view of the state after `header`."""
        with self._lock:
            if header.hash == self._head.hash:
                if self._head_state is None:
                    self._head_state = self._build_state(header)
                return self._head_state
            return self._build_state(header)

    def _build_state(self, header: BlockHeaderAPI) -> StateAPI:
        return self.vm_class.build_state(self.storage.kv, header, self._context)

    def balance(self, address: Address, block_id: BlockId) -> int:
        """The account's balance at a block."""
        with self._lock:
            return self.state(self.existing_header(block_id)).get_balance(address)

    def code(self, address: Address, block_id: BlockId) -> bytes:
        """The account's code at a block."""
        with self._lock:
            return self.state(self.existing_header(block_id)).get_code(address)

    def storage_at(self, address: Address, slot: int, block_id: BlockId) -> int:
        """One storage slot of an account at a block."""
        with self._lock:
            return self.state(self.existing_header(block_id)).get_storage(address, slot)

    def nonce(self, address: Address, block_id: BlockId) -> int:
        """The account's nonce at a block; with 'pending', counting pooled transactions."""
        with self._lock:
            state_nonce = self.state(self.existing_header(block_id)).get_nonce(address)
            if block_id == "pending":
                return self.pool.next_nonce(address, state_nonce)
            return state_nonce

    def next_base_fee(self) -> int:
        """The base fee per gas of the next block."""
        with self._lock:
            return formats.base_fee(self._next_header(self._head.timestamp + 1))

    def call(self, message: CallMessage, block_id: BlockId) -> bytes:
        """Execute a message on top of a block without changing anything; returns its output
        (off the node's lock, within the call limits)."""
        return self.calls.call(message, self.existing_header(block_id))

    def estimate_gas(self, message: CallMessage, block_id: BlockId) -> int:
        """The gas a message needs (within 1000 gas), on top of a block, up to the gas cap."""
        return self.calls.estimate_gas(message, self.existing_header(block_id))

    def mined_transaction(self, tx_hash: bytes) -> MinedTransaction | None:
        """A transaction in a sealed block, with its receipt; None if none."""
        with self._lock:
            row = self.storage.transaction_row(tx_hash)
            if row is None:
                return None
            block, index, sender, gas_used, first_log, contract = row
            chaindb = self.chain.chaindb
            return MinedTransaction(
                transaction=chaindb.get_transaction_by_index(block, index, self._builder),
                header=chaindb.get_canonical_block_header_by_number(block),
                index=index,
                sender=bytes(sender),
                gas_used=gas_used,
                first_log=first_log,
                contract=None if contract is None else bytes(contract),
                receipt=chaindb.get_receipt_by_index(block, index, self._receipt_builder),
            )

    def pending_transaction(self, tx_hash: bytes) -> PendingTransaction | None:
        """A pooled transaction not sealed yet, or None."""
        with self._lock:
            return self.pool.get(tx_hash)

    def logs(self, where: str, args: Sequence[object], limit: int) -> list[tuple]:
        """Rows of the log index (see `ledger.logfilter`)."""
        with self._lock:
            return self.storage.logs(where, args, limit)

    # -- the pool ----------------------------------------------------------------------------

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate a signed transaction and queue it; returns its hash."""
        try:
            transaction = self._builder.decode(raw)
        except Exception as error:
            raise TransactionRejected(f"invalid transaction encoding: {error}") from None
        with self._lock:
            pending = self._admit(transaction)
            self.pool.add(pending)
            if self.pool.is_full:
                self._wake.set()
        return transaction.hash

    def _admit(self, transaction: SignedTransactionAPI) -> PendingTransaction:
        if transaction.type_id == BLOB_TRANSACTION_TYPE:
            raise TransactionRejected("blob transactions are not supported")
        if transaction.chain_id != self.chain_id:
            raise TransactionRejected(
                f"invalid chain id: {transaction.chain_id} (this chain is {self.chain_id})"
            )
        try:
            transaction.check_signature_validity()
            sender = transaction.sender
        except (ValidationError, ValueError) as error:
            raise TransactionRejected(f"invalid signature: {error}") from None
        if sender not in self._allowed:
            raise SenderNotPermitted("sender account not authorized to send transactions")
        if transaction.hash in self.pool:
            raise TransactionRejected("already known")
        if transaction.gas > self._head.gas_limit:
            raise TransactionRejected("exceeds block gas limit")
        if transaction.gas < transaction.intrinsic_gas:
            raise TransactionRejected("intrinsic gas too low")
        try:
            transaction.validate()
        except ValidationError as error:
            raise TransactionRejected(f"invalid transaction: {error}") from None
        if transaction.max_fee_per_gas < self.next_base_fee():
            raise TransactionRejected("max fee per gas less than block base fee")
        state = self.state(self._head)
        state_nonce = state.get_nonce(sender)
        expected = self.pool.next_nonce(sender, state_nonce)
        if transaction.nonce < state_nonce:
            raise TransactionRejected(f"nonce too low: next nonce {expected}")
        if transaction.nonce < expected:
            raise TransactionRejected(
                f"nonce {transaction.nonce} already used by a pending transaction"
            )
        if transaction.nonce > expected:
            raise TransactionRejected(f"nonce too high: next nonce {expected}")
        cost = transaction.gas * transaction.max_fee_per_gas + transaction.value
        if state.get_balance(sender) < self.pool.reserved(sender) + cost:
            raise TransactionRejected("insufficient funds for gas * price + value")
        return PendingTransaction(transaction, sender, cost)

    # -- sealing -----------------------------------------------------------------------------

    def seal_now(self) -> int:
        """Seal every pending transaction now; returns how many blocks were sealed."""
        sealed = 0
        with self._lock:
            while len(self.pool) and self._seal_block() is not None:
                sealed += 1
        return sealed

    def _seal_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.block_period)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self._lock:
                    if len(self.pool):
                        self._seal_block()
                    if self.pool.is_full:
                        self._wake.set()
            except Exception:
                log.exception("sealing failed")

    def _next_header(self, timestamp: int) -> BlockHeaderAPI:
        return self.chain.create_header_from_parent(
            self._head,
            timestamp=timestamp,
            coinbase=self.operator,
            gas_limit=self._head.gas_limit,
        )

    def _seal_block(self) -> BlockAPI | None:
        """Seal one block from the pool (lock held); None if nothing could be included."""
        parent = self._head
        header = self._next_header(max(int(time.time()), parent.timestamp + 1))
        vm = self.chain.get_vm(header)
        included: list[PendingTransaction] = []
        receipts: list[ReceiptAPI] = []
        dropped: list[bytes] = []
        skipped_senders: set[bytes] = set()
        current = header
        gas_budget = header.gas_limit // 2
        culprit: bytes | None = None
        try:
            for pending in self.pool.in_order():
                if len(included) >= self.pool.max_count:
                    break
                tx = pending.transaction
                if pending.sender in skipped_senders:
                    continue
                if pending.sender not in self._allowed:
                    dropped.append(pending.hash)
                    continue
                if included and current.gas_used + tx.gas > gas_budget:
                    skipped_senders.add(pending.sender)
                    continue
                culprit = pending.hash
                try:
                    receipt, _ = vm.apply_transaction(current, tx)
                except ValidationError as error:
                    log.warning("dropping %s at seal: %s", tx.hash.hex(), error)
                    dropped.append(pending.hash)
                    skipped_senders.add(pending.sender)
                    continue
                culprit = None
                current = vm.add_receipt_to_header(current, receipt)
                included.append(pending)
                receipts.append(receipt)
            if not included:
                self.storage.kv.discard()
                self.pool.remove(dropped)
                return None
            transactions = [p.transaction for p in included]
            block = vm.set_block_transactions_and_withdrawals(
                vm.get_block(), current, transactions, receipts
            )
            block = vm.mine_block(block).block
            self.chain.persist_block(block)
            self.storage.commit(_block_rows(block, included, receipts))
        except Exception:
            self.storage.kv.discard()
            self._head_state = None
            if culprit is not None:
                log.error("dropping %s: it broke the block being sealed", culprit.hex())
                self.pool.remove([*dropped, culprit])
            raise
        self._head = block.header
        self._head_state = None
        self.pool.remove([*dropped, *(p.hash for p in included)])
        return block


def _block_rows(
    block: BlockAPI, included: Sequence[PendingTransaction], receipts: Sequence[ReceiptAPI]
) -> BlockRows:
    rows = BlockRows()
    number, block_hash = block.number, block.hash
    previous_gas = 0
    log_index = 0
    for tx_index, (pending, receipt) in enumerate(zip(included, receipts, strict=True)):
        tx = pending.transaction
        contract = None if tx.to else generate_contract_address(pending.sender, tx.nonce)
        rows.txs.append(
            (
                tx.hash,
                number,
                tx_index,
                pending.sender,
                receipt.gas_used - previous_gas,
                log_index,
                contract,
            )
        )
        previous_gas = receipt.gas_used
        for entry in receipt.logs:
            topics: list[bytes | None] = [t.to_bytes(32, "big") for t in entry.topics[:4]]
            topics += [None] * (4 - len(topics))
            rows.logs.append(
                (
                    number,
                    log_index,
                    tx_index,
                    entry.address,
                    *topics,
                    entry.data,
                    tx.hash,
                    block_hash,
                )
            )
            log_index += 1
    return rows

