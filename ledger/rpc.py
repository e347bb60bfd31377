"""JSON-RPC 2.0 for the embedded node: envelopes, parameter parsing and the method table.

Method names, result shapes and error codes follow geth (and Besu for `perm_*`), so web3.py
and other clients treat the embedded node like any other Ethereum node.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import eth
from eth.abc import BlockHeaderAPI
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import to_canonical_address, to_checksum_address

from infra.http import too_deep
from ledger import formats
from ledger.errors import (
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    RPCError,
)
from ledger.logfilter import TOPIC_POSITIONS, LogFilter
from ledger.messages import BlockId, CallMessage

if TYPE_CHECKING:
    from ledger.node import EmbeddedNode

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH = 1_000
MAX_LOG_RANGE = 10_000
MAX_LOG_RESULTS = 100_000
MAX_FEE_HISTORY = 1_024
CLIENT_VERSION = f"creditbank-ledger/v0.1.0/py-evm-{eth.__version__}/python3.11"
LIMIT_EXCEEDED = -32005
BLOCK_TAGS = ("latest", "pending", "earliest", "safe", "finalized")

_HEX = re.compile(r"0x[0-9a-fA-F]*\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}\Z")

Handler = Callable[["EmbeddedNode", list], object]


# -- envelopes -------------------------------------------------------------------------------


def handle(node: EmbeddedNode, body: bytes, admin_token: str | None) -> bytes:
    """Answer a raw JSON-RPC body; b'' when it held only notifications."""
    if len(body) > MAX_BODY_BYTES:
        return _encode(_error_response(None, InvalidRequest("request body too large")))
    if too_deep(body):
        return _encode(_error_response(None, InvalidRequest("request nested too deeply")))
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return _encode(_error_response(None, ParseError("parse error: body is not JSON")))
    if isinstance(message, list):
        if not message:
            return _encode(_error_response(None, InvalidRequest("empty batch")))
        if len(message) > MAX_BATCH:
            error = InvalidRequest(f"batch too large: at most {MAX_BATCH} requests")
            return _encode(_error_response(None, error))
        answers = [_answer(node, item, admin_token) for item in message]
        responses = [a for a in answers if a is not None]
        return _encode(responses) if responses else b""
    response = _answer(node, message, admin_token)
    return b"" if response is None else _encode(response)



def _answer(node: EmbeddedNode, request: object, admin_token: str | None) -> dict | None:
    """The response object for one request; None for a notification."""
    if not isinstance(request, dict):
        return _error_response(None, InvalidRequest("invalid request: not a JSON object"))
    request_id = request.get("id")
    if not _valid_id(request_id):
        return _error_response(None, InvalidRequest("invalid request: bad id"))
    try:
        if request.get("jsonrpc") != "2.0":
            raise InvalidRequest('invalid request: jsonrpc must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            raise InvalidRequest("invalid request: method must be a string")
        params = request.get("params", [])
        if isinstance(params, dict):
            raise InvalidParams("params: by-name parameters are not supported")
        if not isinstance(params, list):
            raise InvalidRequest("invalid request: params must be an array")
        result = dispatch(node, method, params, admin_token)
    except RPCError as error:
        response = _error_response(request_id, error)
    except Exception:
        log.exception("internal error answering a JSON-RPC request")
        response = _error_response(request_id, RPCError("internal error"))
    else:
        response = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return response if "id" in request else None


def _valid_id(value: object) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _error_response(request_id: object, error: RPCError) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def dispatch(node: EmbeddedNode, method: str, params: list, admin_token: str | None) -> object:
    """Run one method; raises `RPCError` (the JSON-RPC error to answer)."""
    handler = METHODS.get(method)
    if handler is None:
        raise MethodNotFound(f"the method {method} does not exist/is not available")
    if method in ADMIN_METHODS:
        node.check_admin(admin_token)
    return handler(node, params)


# -- parameters ------------------------------------------------------------------------------


def _arguments(params: list, required: int, optional: int = 0) -> list:
    """The params padded with None, after checking their count."""
    if not required <= len(params) <= required + optional:
        expected = str(required) if not optional else f"{required} to {required + optional}"
        raise InvalidParams(f"params: expected {expected} arguments, got {len(params)}")
    return params + [None] * (required + optional - len(params))


def parse_quantity(value: object, field: str) -> int:
    """A hex quantity ('0x1a'); a plain non-negative integer is tolerated too."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _HEX.match(value) and len(value) > 2 and len(value) <= 66:
        return int(value, 16)
    raise InvalidParams(f"{field}: expected a hex quantity")


def parse_data(value: object, field: str) -> bytes:
    """0x-hex bytes."""
    if isinstance(value, str) and _HEX.match(value) and len(value) % 2 == 0:
        return bytes.fromhex(value[2:])
    raise InvalidParams(f"{field}: expected 0x-prefixed hex bytes")


def parse_address(value: object, field: str) -> Address:
    """A 20-byte account address."""
    if isinstance(value, str) and _ADDRESS.match(value):
        return to_canonical_address(value)
    raise InvalidParams(f"{field}: expected a 20-byte hex address")


def parse_hash(value: object, field: str) -> Hash32:
    """A 32-byte hash."""
    if isinstance(value, str) and _HASH.match(value):
        return Hash32(bytes.fromhex(value[2:]))
    raise InvalidParams(f"{field}: expected a 32-byte hex hash")


def parse_block_id(value: object, field: str = "block", default: str = "latest") -> BlockId:
    """A block tag, a hex number, or an EIP-1898 object {blockNumber} / {blockHash}."""
    if value is None:
        return default
    if isinstance(value, str) and value in BLOCK_TAGS:
        return value
    if isinstance(value, dict):
        if "blockHash" in value:
            return parse_hash(value["blockHash"], f"{field}.blockHash")
        if "blockNumber" in value:
            return parse_block_id(value["blockNumber"], f"{field}.blockNumber")
        raise InvalidParams(f"{field}: expected blockHash or blockNumber")
    try:
        return BlockNumber(parse_quantity(value, field))
    except InvalidParams:
        raise InvalidParams(f"{field}: expected a block number, hash object or tag") from None


def parse_bool(value: object, field: str) -> bool:
    """A JSON boolean."""
    if isinstance(value, bool):
        return value
    raise InvalidParams(f"{field}: expected true or false")


def parse_call(value: object, field: str = "transaction") -> CallMessage:
    """The transaction object of eth_call / eth_estimateGas."""
    if not isinstance(value, dict):
        raise InvalidParams(f"{field}: expected a transaction object")
    payload = value.get("input", value.get("data"))
    if "input" in value and "data" in value and value["input"] != value["data"]:
        raise InvalidParams(f"{field}: both input and data given and they differ")
    for key in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce"):
        if value.get(key) is not None:
            parse_quantity(value[key], f"{field}.{key}")
    return CallMessage(
        sender=CallMessage.sender
        if value.get("from") is None
        else parse_address(value["from"], f"{field}.from"),
        to=CallMessage.to if value.get("to") is None else parse_address(value["to"], f"{field}.to"),
        gas=None if value.get("gas") is None else parse_quantity(value["gas"], f"{field}.gas"),
        value=0 if value.get("value") is None else parse_quantity(value["value"], f"{field}.value"),
        data=b"" if payload is None else parse_data(payload, f"{field}.input"),
    )


def _address_list(value: object, field: str) -> list[Address]:
    if not isinstance(value, list):
        raise InvalidParams(f"{field}: expected a list of addresses")
    return [parse_address(item, f"{field}[{i}]") for i, item in enumerate(value)]


# -- methods ---------------------------------------------------------------------------------


def client_version(node: EmbeddedNode, params: list) -> str:
    """web3_clientVersion."""
    _arguments(params, 0)
    return CLIENT_VERSION


def net_version(node: EmbeddedNode, params: list) -> str:
    """net_version: the chain id in decimal."""
    _arguments(params, 0)
    return str(node.chain_id)


def chain_id(node: EmbeddedNode, params: list) -> str:
    """eth_chainId."""
    _arguments(params, 0)
    return formats.quantity(node.chain_id)


def block_number(node: EmbeddedNode, params: list) -> str:
    """eth_blockNumber."""
    _arguments(params, 0)
    return formats.quantity(node.head().block_number)


def syncing(node: EmbeddedNode, params: list) -> bool:
    """eth_syncing: the only node is never behind."""
    _arguments(params, 0)
    return False


def accounts(node: EmbeddedNode, params: list) -> list:
    """eth_accounts: the node holds no keys."""
    _arguments(params, 0)
    return []


def get_balance(node: EmbeddedNode, params: list) -> str:
    """eth_getBalance."""
    account, block = _arguments(params, 1, 1)
    balance = node.balance(parse_address(account, "address"), parse_block_id(block))
    return formats.quantity(balance)


def get_transaction_count(node: EmbeddedNode, params: list) -> str:
    """eth_getTransactionCount ('pending' counts pooled transactions)."""
    account, block = _arguments(params, 1, 1)
    nonce = node.nonce(parse_address(account, "address"), parse_block_id(block))
    return formats.quantity(nonce)


def get_code(node: EmbeddedNode, params: list) -> str:
    """eth_getCode."""
    account, block = _arguments(params, 1, 1)
    return formats.data(node.code(parse_address(account, "address"), parse_block_id(block)))


def get_storage_at(node: EmbeddedNode, params: list) -> str:
    """eth_getStorageAt."""
    account, slot, block = _arguments(params, 2, 1)
    value = node.storage_at(
        parse_address(account, "address"), parse_quantity(slot, "slot"), parse_block_id(block)
    )
    return formats.word(value)


def gas_price(node: EmbeddedNode, params: list) -> str:
    """eth_gasPrice: next base fee (the chain asks no tip)."""
    _arguments(params, 0)
    return formats.quantity(node.next_base_fee())


def max_priority_fee(node: EmbeddedNode, params: list) -> str:
    """eth_maxPriorityFeePerGas: zero, the single sealer asks no tip."""
    _arguments(params, 0)
    return formats.quantity(0)


def fee_history(node: EmbeddedNode, params: list) -> dict:
    """eth_feeHistory: base fees, gas used ratios and tip percentiles (weighted by gas)."""
    count_param, newest_param, percentiles_param = _arguments(params, 2, 1)
    count = parse_quantity(count_param, "blockCount")
    newest = node.existing_header(parse_block_id(newest_param, "newestBlock"))
    percentiles = _percentiles(percentiles_param)
    count = min(count, MAX_FEE_HISTORY, newest.block_number + 1)
    oldest = newest.block_number - count + 1
    base_fees, ratios, rewards = [], [], []
    for number in range(oldest, newest.block_number + 1):
        header = node.existing_header(BlockNumber(number))
        base_fees.append(formats.quantity(formats.base_fee(header)))
        ratios.append(header.gas_used / header.gas_limit)
        if percentiles is not None:
            rewards.append([formats.quantity(t) for t in _tips(node, header, percentiles)])
    base_fees.append(formats.quantity(calculate_expected_base_fee_per_gas(newest)))
    result: dict[str, object] = {
        "oldestBlock": formats.quantity(oldest),
        "baseFeePerGas": base_fees,
        "gasUsedRatio": ratios,
    }
    if percentiles is not None:
        result["reward"] = rewards
    return result


def _percentiles(value: object) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 100 for p in value
    ):
        raise InvalidParams("rewardPercentiles: expected numbers between 0 and 100")
    if value != sorted(value):
        raise InvalidParams("rewardPercentiles: must be increasing")
    return [float(p) for p in value]


def _tips(node: EmbeddedNode, header: BlockHeaderAPI, percentiles: list[float]) -> list[int]:
    if not header.gas_used:
        return [0] * len(percentiles)
    block = node.block(header)
    gas = [gas_used for _, gas_used in node.block_transactions(header)]
    base_fee = formats.base_fee(header)
    tips = sorted(
        (formats.effective_gas_price(tx, base_fee) - base_fee, used)
        for tx, used in zip(block.transactions, gas, strict=True)
    )
    result, index, cumulative = [], 0, tips[0][1]
    for percentile in percentiles:
        threshold = header.gas_used * percentile / 100
        while cumulative < threshold and index < len(tips) - 1:
            index += 1
            cumulative += tips[index][1]
        result.append(tips[index][0])
    return result


def call(node: EmbeddedNode, params: list) -> str:
    """eth_call; a revert is error 3 with the revert bytes as data."""
    transaction, block = _arguments(params, 1, 2)[:2]
    return formats.data(node.call(parse_call(transaction), parse_block_id(block)))


def estimate_gas(node: EmbeddedNode, params: list) -> str:
    """eth_estimateGas."""
    transaction, block = _arguments(params, 1, 2)[:2]
    return formats.quantity(node.estimate_gas(parse_call(transaction), parse_block_id(block)))


def send_raw_transaction(node: EmbeddedNode, params: list) -> str:
    """eth_sendRawTransaction: validate, queue, return the hash."""
    (raw,) = _arguments(params, 1)
    return formats.data(node.send_raw_transaction(parse_data(raw, "transaction")))


def get_transaction_receipt(node: EmbeddedNode, params: list) -> dict | None:
    """eth_getTransactionReceipt: null until the transaction is sealed."""
    (tx_hash,) = _arguments(params, 1)
    mined = node.mined_transaction(parse_hash(tx_hash, "transactionHash"))
    return None if mined is None else formats.receipt_json(mined)


def get_transaction_by_hash(node: EmbeddedNode, params: list) -> dict | None:
    """eth_getTransactionByHash: pending transactions have null block members."""
    (tx_hash,) = _arguments(params, 1)
    wanted = parse_hash(tx_hash, "transactionHash")
    mined = node.mined_transaction(wanted)
    if mined is not None:
        return formats.transaction_json(mined.transaction, mined.sender, mined.header, mined.index)
    pending = node.pending_transaction(wanted)
    if pending is None:
        return None
    return formats.transaction_json(pending.transaction, pending.sender)


def get_block_by_number(node: EmbeddedNode, params: list) -> dict | None:
    """eth_getBlockByNumber."""
    block, full = _arguments(params, 2)
    return _block(node, node.header(parse_block_id(block)), parse_bool(full, "fullTransactions"))


def get_block_by_hash(node: EmbeddedNode, params: list) -> dict | None:
    """eth_getBlockByHash."""
    block_hash, full = _arguments(params, 2)
    header = node.header(parse_hash(block_hash, "blockHash"))
    return _block(node, header, parse_bool(full, "fullTransactions"))


def _block(node: EmbeddedNode, header: BlockHeaderAPI | None, full: bool) -> dict | None:
    if header is None:
        return None
    senders = [sender for sender, _ in node.block_transactions(header)] if full else []
    return formats.block_json(node.block(header), senders, full)


def get_logs(node: EmbeddedNode, params: list) -> list[dict]:
    """eth_getLogs over the SQL log index (at most MAX_LOG_RANGE blocks per query)."""
    (criteria,) = _arguments(params, 1)
    log_filter = _log_filter(node, criteria)
    where, args = log_filter.where()
    rows = node.logs(where, args, MAX_LOG_RESULTS + 1)
    if len(rows) > MAX_LOG_RESULTS:
        raise RPCError(f"query returned more than {MAX_LOG_RESULTS} results", code=LIMIT_EXCEEDED)
    return [formats.log_json(row) for row in rows]


def _log_filter(node: EmbeddedNode, criteria: object) -> LogFilter:
    if not isinstance(criteria, dict):
        raise InvalidParams("filter: expected a filter object")
    if criteria.get("blockHash") is not None:
        if criteria.get("fromBlock") is not None or criteria.get("toBlock") is not None:
            raise InvalidParams("filter: blockHash excludes fromBlock and toBlock")
        header = node.existing_header(parse_hash(criteria["blockHash"], "filter.blockHash"))
        first = last = header.block_number
    else:
        first = _range_end(node, criteria.get("fromBlock"), "filter.fromBlock")
        last = _range_end(node, criteria.get("toBlock"), "filter.toBlock")
        if first > last:
            raise InvalidParams("filter: fromBlock is after toBlock")
        if last - first + 1 > MAX_LOG_RANGE:
            raise RPCError(f"query exceeds max block range {MAX_LOG_RANGE}", code=LIMIT_EXCEEDED)
        last = min(last, node.head().block_number)
    addresses = criteria.get("address")
    if addresses is None:
        emitters: tuple[bytes, ...] = ()
    elif isinstance(addresses, list):
        emitters = tuple(_address_list(addresses, "filter.address"))
    else:
        emitters = (parse_address(addresses, "filter.address"),)
    return LogFilter(first, last, emitters, _topics(criteria.get("topics")))


def _range_end(node: EmbeddedNode, value: object, field: str) -> BlockNumber:
    block_id = parse_block_id(value, field)
    if isinstance(block_id, int):
        return block_id
    return node.existing_header(block_id).block_number


def _topics(value: object) -> tuple[tuple[bytes, ...] | None, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > TOPIC_POSITIONS:
        raise InvalidParams(f"filter.topics: expected a list of at most {TOPIC_POSITIONS}")
    positions: list[tuple[bytes, ...] | None] = []
    for i, position in enumerate(value):
        field = f"filter.topics[{i}]"
        if position is None:
            positions.append(None)
        elif isinstance(position, list):
            if any(t is None for t in position):
                positions.append(None)
            else:
                positions.append(tuple(parse_hash(t, field) for t in position))
        else:
            positions.append((parse_hash(position, field),))
    return tuple(positions)


def add_to_allowlist(node: EmbeddedNode, params: list) -> str:
    """perm_addAccountsToAllowlist (admin)."""
    (addresses,) = _arguments(params, 1)
    node.allow(to_checksum_address(a) for a in _address_list(addresses, "accounts"))
    return "Success"


def remove_from_allowlist(node: EmbeddedNode, params: list) -> str:
    """perm_removeAccountsFromAllowlist (admin)."""
    (addresses,) = _arguments(params, 1)
    node.disallow(to_checksum_address(a) for a in _address_list(addresses, "accounts"))
    return "Success"


def get_allowlist(node: EmbeddedNode, params: list) -> list[str]:
    """perm_getAccountsAllowlist (admin)."""
    _arguments(params, 0)
    return node.allowlist()


METHODS: dict[str, Handler] = {
    "web3_clientVersion": client_version,
    "net_version": net_version,
    "eth_chainId": chain_id,
    "eth_blockNumber": block_number,
    "eth_syncing": syncing,
    "eth_accounts": accounts,
    "eth_getBalance": get_balance,
    "eth_getTransactionCount": get_transaction_count,
    "eth_getCode": get_code,
    "eth_getStorageAt": get_storage_at,
    "eth_gasPrice": gas_price,
    "eth_maxPriorityFeePerGas": max_priority_fee,
    "eth_feeHistory": fee_history,
    "eth_call": call,
    "eth_estimateGas": estimate_gas,
    "eth_sendRawTransaction": send_raw_transaction,
    "eth_getTransactionReceipt": get_transaction_receipt,
    "eth_getTransactionByHash": get_transaction_by_hash,
    "eth_getBlockByNumber": get_block_by_number,
    "eth_getBlockByHash": get_block_by_hash,
    "eth_getLogs": get_logs,
    "perm_addAccountsToAllowlist": add_to_allowlist,
    "perm_removeAccountsFromAllowlist": remove_from_allowlist,
    "perm_getAccountsAllowlist": get_allowlist,
}
ADMIN_METHODS = frozenset(
    {"perm_addAccountsToAllowlist", "perm_removeAccountsFromAllowlist", "perm_getAccountsAllowlist"}
)
