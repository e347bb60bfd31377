"""JSON shapes of blocks, transactions, receipts and logs, exactly as geth answers them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, LegacyTransactionFieldsAPI, SignedTransactionAPI
from eth_utils import to_checksum_address

from ledger.errors import LedgerError
from ledger.messages import MinedTransaction

T = TypeVar("T")
Json = dict[str, object]
LEGACY_TYPE = 0
ACCESS_LIST_TYPE = 1
SUCCESS = b"\x01"


def quantity(value: int) -> str:
    """A JSON-RPC quantity: 0x-hex without leading zeros."""
    return hex(value)


def data(value: bytes) -> str:
    """JSON-RPC unformatted data: 0x-hex of the bytes."""
    return "0x" + value.hex()


def address(value: bytes) -> str | None:
    """A checksummed address, or None for the empty 'to' of a contract creation."""
    return to_checksum_address(value) if value else None


def word(value: int) -> str:
    """A 32-byte word (topic, storage value) as 0x-hex."""
    return data(value.to_bytes(32, "big"))


def _required(value: T | None, member: str) -> T:
    """A member every block and transaction of our Cancun chain has; None means a corrupt chain."""
    if value is None:
        raise LedgerError(f"{member} missing: not a block or transaction of this chain")
    return value


def base_fee(header: BlockHeaderAPI) -> int:
    """A block's base fee per gas."""
    return _required(header.base_fee_per_gas, f"base fee of block {header.block_number}")


def transaction_type(tx: SignedTransactionAPI) -> int:
    """The EIP-2718 type of a transaction (0 for legacy)."""
    return tx.type_id if tx.type_id is not None else LEGACY_TYPE


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    """What the sender paid per gas in a block with this base fee."""
    if transaction_type(tx) <= ACCESS_LIST_TYPE:
        return tx.gas_price
    return min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)


def header_json(header: BlockHeaderAPI) -> Json:
    """The header members of a geth block object."""
    return {
        "number": quantity(header.block_number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "mixHash": data(header.mix_hash),
        "nonce": data(header.nonce),
        "sha3Uncles": data(header.uncles_hash),
        "logsBloom": data(header.bloom.to_bytes(256, "big")),
        "transactionsRoot": data(header.transaction_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipt_root),
        "miner": to_checksum_address(header.coinbase),
        "difficulty": quantity(header.difficulty),
        "totalDifficulty": quantity(header.difficulty),
        "extraData": data(header.extra_data),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        "baseFeePerGas": quantity(base_fee(header)),
        "withdrawalsRoot": data(_required(header.withdrawals_root, "withdrawals root")),
        "blobGasUsed": quantity(header.blob_gas_used),
        "excessBlobGas": quantity(header.excess_blob_gas),
        "parentBeaconBlockRoot": data(
            _required(header.parent_beacon_block_root, "parent beacon block root")
        ),
    }


def block_json(block: BlockAPI, senders: Sequence[bytes], full_transactions: bool) -> Json:
    """A geth block object; transactions as hashes or as full objects."""
    header = block.header
    if full_transactions:
        transactions: list[object] = [
            transaction_json(tx, sender, header, index)
            for index, (tx, sender) in enumerate(zip(block.transactions, senders, strict=True))
        ]
    else:
        transactions = [data(tx.hash) for tx in block.transactions]
    return {
        **header_json(header),
        "size": quantity(len(rlp.encode(block))),
        "transactions": transactions,
        "uncles": [],
        "withdrawals": [],
    }


def transaction_json(
    tx: SignedTransactionAPI,
    sender: bytes,
    header: BlockHeaderAPI | None = None,
    index: int | None = None,
) -> Json:
    """A geth transaction object; block members are null while the transaction is pending."""
    kind = transaction_type(tx)
    result: Json = {
        "blockHash": None if header is None else data(header.hash),
        "blockNumber": None if header is None else quantity(header.block_number),
        "transactionIndex": None if index is None else quantity(index),
        "hash": data(tx.hash),
        "type": quantity(kind),
        "from": to_checksum_address(sender),
        "to": address(tx.to),
        "nonce": quantity(tx.nonce),
        "gas": quantity(tx.gas),
        "value": quantity(tx.value),
        "input": data(tx.data),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
    }
    if isinstance(tx, LegacyTransactionFieldsAPI):
        result["gasPrice"] = quantity(tx.gas_price)
        result["v"] = quantity(tx.v)
        if tx.chain_id is not None:
            result["chainId"] = quantity(tx.chain_id)
        return result
    result["chainId"] = quantity(_required(tx.chain_id, "chain id of a typed transaction"))
    result["v"] = quantity(tx.y_parity)
    result["yParity"] = quantity(tx.y_parity)
    result["accessList"] = [
        {"address": to_checksum_address(a), "storageKeys": [word(k) for k in keys]}
        for a, keys in tx.access_list
    ]
    if kind == ACCESS_LIST_TYPE:
        result["gasPrice"] = quantity(tx.gas_price)
    else:
        result["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
        result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
        result["gasPrice"] = quantity(
            tx.max_fee_per_gas if header is None else effective_gas_price(tx, base_fee(header))
        )
    return result


def log_json(
    row: tuple,
) -> Json:
    """A geth log object from a row of the log index."""
    block, log_index, tx_index, emitter, *topics, payload, tx_hash, block_hash = row
    return {
        "address": to_checksum_address(bytes(emitter)),
        "topics": [data(bytes(t)) for t in topics if t is not None],
        "data": data(bytes(payload)),
        "blockNumber": quantity(block),
        "blockHash": data(bytes(block_hash)),
        "transactionHash": data(bytes(tx_hash)),
        "transactionIndex": quantity(tx_index),
        "logIndex": quantity(log_index),
        "removed": False,
    }


def receipt_json(mined: MinedTransaction) -> Json:
    """A geth receipt object."""
    tx, header, receipt = mined.transaction, mined.header, mined.receipt
    logs = [
        log_json(
            (
                header.block_number,
                mined.first_log + offset,
                mined.index,
                entry.address,
                *[t.to_bytes(32, "big") for t in entry.topics],
                *[None] * (4 - len(entry.topics)),
                entry.data,
                tx.hash,
                header.hash,
            )
        )
        for offset, entry in enumerate(receipt.logs)
    ]
    return {
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(mined.index),
        "blockHash": data(header.hash),
        "blockNumber": quantity(header.block_number),
        "from": to_checksum_address(mined.sender),
        "to": address(tx.to),
        "contractAddress": None if mined.contract is None else to_checksum_address(mined.contract),
        "cumulativeGasUsed": quantity(receipt.gas_used),
        "gasUsed": quantity(mined.gas_used),
        "effectiveGasPrice": quantity(effective_gas_price(tx, base_fee(header))),
        "logs": logs,
        "logsBloom": data(receipt.bloom.to_bytes(256, "big")),
        "status": quantity(1 if receipt.state_root == SUCCESS else 0),
        "type": quantity(transaction_type(tx)),
    }
