"""The one ledger client: contracts, transactions and reads over any EVM JSON-RPC node."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_account.types import TransactionDictType
from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.contract import Contract
from web3.providers import BaseProvider
from web3.types import BlockIdentifier, TxParams, TxReceipt, Wei

from contracts import artifact
from ledger.deployment import Deployment
from ledger.errors import (
    LedgerError,
    TransactionRejected,
    TransactionReverted,
    TransactionTimeout,
    TransactionUnknown,
    translated,
)
from ledger.failover import FailoverProvider

GAS_HEADROOM = 1.25
FEE_CACHE_SECONDS = 5.0


class Ledger:
    """Talks to one chain through a web3 provider; every failure leaves as a `LedgerError`."""

    def __init__(self, provider: BaseProvider, deployment: Deployment | None = None) -> None:
        self.w3 = Web3(provider)
        # web3's validation middleware asks the node for eth_chainId before every call and
        # transaction; ours are signed with the chain id asked once (`chain_id`).
        self.w3.middleware_onion.remove("validation")
        self.deployment = deployment
        self._chain_id: int | None = None
        self._nonces: dict[str, int] = {}
        self._nonce_lock = threading.Lock()
        self._fees: tuple[float, int, int] | None = None
        self._contracts: dict[str, Contract] = {}

    @classmethod
    def connect(
        cls, urls: Sequence[str], deployment: Deployment | None = None, *, timeout: float = 10.0
    ) -> Ledger:
        """A client over JSON-RPC endpoints, failing over from one to the next."""
        return cls(FailoverProvider(urls, timeout=timeout), deployment)

    @property
    def chain_id(self) -> int:
        """The chain id the node reports (asked once)."""
        if self._chain_id is None:
            with translated():
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def block_number(self) -> int:
        """The node's current head."""
        with translated():
            return int(self.w3.eth.block_number)

    def block_timestamp(self, number: int) -> int:
        """The timestamp of a block."""
        with translated():
            return int(self.w3.eth.get_block(number)["timestamp"])

    def gas_price(self) -> int:
        """The node's gas price in wei (0 on a zero-fee consortium chain)."""
        with translated():
            return int(self.w3.eth.gas_price)

    def balance(self, address: str) -> int:
        """An account's balance in wei."""
        with translated():
            return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def _contract(self, name: str, address: str | None = None) -> Contract:
        """A contract of ours, at its deployed address unless another is given (for the ledger
        package only: everyone else reads through `ledger.views`)."""
        if address is None:
            if self.deployment is None:
                raise LedgerError("no deployment configured: run `creditbank init` first")
            address = self.deployment.address(name)
        key = f"{name}@{address.lower()}"
        if key not in self._contracts:
            self._contracts[key] = self.w3.eth.contract(
                address=Web3.to_checksum_address(address), abi=artifact(name).abi
            )
        return self._contracts[key]

    def deploy(self, name: str, account: LocalAccount, *args: Any) -> str:
        """Deploy one of our contracts and return its checksum address."""
        compiled = artifact(name)
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        with translated():
            data = factory.constructor(*args).data_in_transaction
        receipt = self.transact_raw(account, to=None, data=data)
        return str(receipt["contractAddress"])

    def read(self, name: str, function: str, *args: Any, block: BlockIdentifier = "latest") -> Any:
        """Call a view function of one of our contracts; a revert raises `TransactionReverted`."""
        with translated():
            return self._contract(name).functions[function](*args).call(block_identifier=block)

    def send(
        self,
        account: LocalAccount,
        name: str,
        function: str,
        *args: Any,
        gas: int | None = None,
        at: str | None = None,
    ) -> str:
        """Sign and send a call to one of our contracts (at its deployed address unless `at` gives
        another, as while deploying); returns its hash without waiting."""
        contract = self._contract(name, at)
        with translated():
            data = contract.encode_abi(function, args=args)
        return self.send_raw(account, to=contract.address, data=data, gas=gas)

    def transact(
        self,
        account: LocalAccount,
        name: str,
        function: str,
        *args: Any,
        gas: int | None = None,
        at: str | None = None,
    ) -> TxReceipt:
        """Send a call to one of our contracts and wait for its successful receipt."""
        return self.wait(self.send(account, name, function, *args, gas=gas, at=at))

    def transfer(self, account: LocalAccount, to: str, value: int) -> TxReceipt:
        """Send value from an account and wait for the receipt."""
        return self.transact_raw(account, to=Web3.to_checksum_address(to), value=value)

    def transact_raw(
        self,
        account: LocalAccount,
        *,
        to: ChecksumAddress | None,
        data: bytes | HexStr = b"",
        value: int = 0,
    ) -> TxReceipt:
        """Send a raw transaction and wait for its successful receipt."""
        return self.wait(self.send_raw(account, to=to, data=data, value=value))

    def send_raw(
        self,
        account: LocalAccount,
        *,
        to: ChecksumAddress | None,
        data: bytes | HexStr = b"",
        value: int = 0,
        gas: int | None = None,
    ) -> str:
        """Estimate, sign and send a transaction with a locally tracked nonce."""
        request: TxParams = {"from": account.address, "value": Wei(value), "data": data}
        if to is not None:
            request["to"] = to
        if gas is None:
            with translated():
                gas = int(self.w3.eth.estimate_gas(request) * GAS_HEADROOM)
        max_fee, priority_fee = self._fees_now()
        for attempt in range(2):
            with self._nonce_lock:
                nonce = self._next_nonce(account.address)
                tx: TransactionDictType = {
                    "value": value,
                    "data": data,
                    "type": 2,
                    "chainId": self.chain_id,
                    "nonce": nonce,
                    "gas": gas,
                    "maxFeePerGas": max_fee,
                    "maxPriorityFeePerGas": priority_fee,
                }
                if to is not None:
                    tx["to"] = to
                raw = account.sign_transaction(tx).raw_transaction
                try:
                    with translated():
                        tx_hash = self.w3.eth.send_raw_transaction(raw)
                except TransactionRejected as exc:
                    self._nonces.pop(account.address, None)
                    if attempt == 0 and "nonce" in exc.message.lower():
                        continue
                    raise
                self._nonces[account.address] = nonce + 1
                return "0x" + bytes(tx_hash).hex()
        raise AssertionError("unreachable")

    def wait(self, tx_hash: str, *, timeout: float = 60.0, poll: float = 0.05) -> TxReceipt:
        """Wait for a transaction's receipt; a mined revert raises `TransactionReverted`."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise TransactionTimeout(f"transaction {tx_hash} not mined within {timeout:.0f} s")
            time.sleep(poll)
        if receipt["status"] != 1:
            raise TransactionReverted(self._revert_reason(tx_hash, receipt), tx_hash=tx_hash)
        return receipt

    def receipt(self, tx_hash: str) -> TxReceipt | None:
        """A transaction's receipt, or None while it is pending or unknown."""
        try:
            with translated():
                return self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except TransactionUnknown:
            return None

    def _revert_reason(self, tx_hash: str, receipt: TxReceipt) -> str:
        """Replay a reverted transaction as a call to learn its reason."""
        with translated():
            tx = self.w3.eth.get_transaction(HexStr(tx_hash))
        request: TxParams = {
            "from": tx["from"],
            "to": tx["to"],
            "data": tx["input"],
            "value": tx["value"],
        }
        try:
            with translated():
                self.w3.eth.call(request, block_identifier=receipt["blockNumber"] - 1)
        except TransactionReverted as exc:
            return exc.reason
        except LedgerError:
            return ""
        return ""

    def nonces(self, address: str) -> tuple[int, int]:
        """An account's mined and pending transaction counts, as the node reports them now."""
        checksum = Web3.to_checksum_address(address)
        with translated():
            latest = int(self.w3.eth.get_transaction_count(checksum, "latest"))
            pending = int(self.w3.eth.get_transaction_count(checksum, "pending"))
        return latest, pending

    def forget_nonce(self, address: str) -> None:
        """Ask the node for the account's next nonce at its next send: another process may have
        sent for the account since (its one sender calls this once it holds the account)."""
        with self._nonce_lock:
            self._nonces.pop(Web3.to_checksum_address(address), None)

    def _next_nonce(self, address: ChecksumAddress) -> int:
        """The next nonce for an account, asked of the node the first time."""
        if address not in self._nonces:
            with translated():
                self._nonces[address] = int(self.w3.eth.get_transaction_count(address, "pending"))
        return self._nonces[address]

    def _fees_now(self) -> tuple[int, int]:
        """EIP-1559 fee caps from the node's gas price, refreshed every few seconds."""
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > FEE_CACHE_SECONDS:
            price = self.gas_price()
            with translated():
                priority = int(self.w3.eth.max_priority_fee)
            self._fees = (now, 2 * price + priority, min(priority, 2 * price + priority))
        return self._fees[1], self._fees[2]
