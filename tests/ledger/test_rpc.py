"""JSON-RPC of the embedded node: web3.py in-process and over HTTP, errors, admin methods."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.request

import pytest
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from ledger.provider import EmbeddedProvider
from ledger.rpc import MAX_BODY_BYTES
from ledger.server import serve
from tests.support.ledger import new_node, operator_account, store_contract


@pytest.fixture
def node(tmp_path):
    node, token = new_node(tmp_path)
    node.admin_token = token
    yield node
    node.close()


@pytest.fixture
def server(node):
    server = serve(node, port=0)
    server.start()
    yield server
    server.stop()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, object]:
    """POST a raw body; returns the HTTP status and the decoded JSON (None if empty)."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload) if payload else None


@pytest.fixture(params=["embedded", "http"])
def w3(request, node) -> Web3:
    if request.param == "embedded":
        return Web3(EmbeddedProvider(node))
    server = request.getfixturevalue("server")
    return Web3(HTTPProvider(server.url))


def test_contract_round_trip_with_logs(w3: Web3) -> None:
    operator = operator_account()
    contract = store_contract()

    def transact(build) -> dict:
        tx = build(
            {
                "from": operator.address,
                "nonce": w3.eth.get_transaction_count(operator.address, "pending"),
            }
        )
        tx_hash = w3.eth.send_raw_transaction(operator.sign_transaction(tx).raw_transaction)
        return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.02)

    factory = w3.eth.contract(abi=contract.abi, bytecode=contract.bytecode)
    address = transact(factory.constructor().build_transaction)["contractAddress"]
    store = w3.eth.contract(address=address, abi=contract.abi)
    receipts = [transact(store.functions.store(v).build_transaction) for v in (7, 8, 9)]
    with pytest.raises(ContractLogicError) as caught:
        store.functions.store(13).call({"from": operator.address})
    topic = store.events.Stored().topic
    value_topic = "0x" + (8).to_bytes(32, "big").hex()
    nine_topic = "0x" + (9).to_bytes(32, "big").hex()
    by_value = w3.eth.get_logs(
        {"fromBlock": 0, "address": [address], "topics": [topic, None, [value_topic, nine_topic]]}
    )
    by_sender = w3.eth.get_logs(
        {
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [None, "0x" + "00" * 12 + operator.address[2:].lower()],
        }
    )
    by_block = w3.eth.get_logs({"blockHash": receipts[0]["blockHash"]})
    none = w3.eth.get_logs({"fromBlock": 0, "address": "0x" + "33" * 20})
    assert {
        "value": store.functions.value().call(),
        "statuses": [r["status"] for r in receipts],
        "revert": caught.value.message,
        "by_value": [store.events.Stored().process_log(e)["args"]["value"] for e in by_value],
        "by_sender": len(by_sender),
        "by_block": by_block == receipts[0]["logs"],
        "none": none,
        "code": len(w3.eth.get_code(address)) > 0,
    } == {
        "value": 9,
        "statuses": [1, 1, 1],
        "revert": "execution reverted: unlucky number",
        "by_value": [8, 9],
        "by_sender": 3,
        "by_block": True,
        "none": [],
        "code": True,
    }


def test_web3_reads_chain_facts(w3: Web3) -> None:
    block = w3.eth.get_block("latest")
    assert (
        w3.eth.chain_id,
        w3.net.version,
        w3.eth.block_number,
        w3.eth.syncing,
        w3.eth.accounts,
        w3.eth.gas_price,
        block["baseFeePerGas"],
        block["withdrawals"],
        w3.eth.get_block(block["hash"])["number"],
        w3.eth.fee_history(1, "latest", [50])["reward"],
    ) == (2021, "2021", 0, False, [], 0, 0, [], 0, [[0]])


NOT_JSON = b"{not json"
CASES = [
    (NOT_JSON, -32700),
    (b"\xff\xfe", -32700),
    (b"42", -32600),
    (b"[]", -32600),
    (b'{"jsonrpc":"2.0","id":1}', -32600),
    (b'{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}', -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":7}', -32600),
    (b'{"jsonrpc":"2.0","id":[1],"method":"eth_chainId"}', -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":"x"}', -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_mine"}', -32601),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":{"a":1}}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[1]}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[12]}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12"]}', -32602),
    (
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x'
        + b"1" * 40
        + b'","soon"]}',
        -32602,
    ),
    (
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x'
        + b"1" * 40
        + b'","0x99"]}',
        -32000,
    ),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest","yes"]}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xzz"]}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xc0"]}', -32000),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[[]]}', -32602),
    (
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x0",'
        b'"toBlock":"0x2710"}]}',
        -32005,
    ),
    (b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"topics":[1,2,3,4,5]}]}', -32602),
    (b'{"jsonrpc":"2.0","id":1,"method":"perm_getAccountsAllowlist","params":[]}', -32006),
    (b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", -32600),
]


@pytest.mark.parametrize(("body", "code"), CASES)
def test_malformed_requests_get_json_rpc_errors(server, body: bytes, code: int) -> None:
    status, answer = post(server.url, body)
    _, alive = post(server.url, b'{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}')
    assert (status, answer["error"]["code"], "Traceback" in json.dumps(answer), alive) == (
        200,
        code,
        False,
        {"jsonrpc": "2.0", "id": 2, "result": "0x7e5"},
    )


def test_a_huge_body_is_refused_before_it_is_read(server) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    _, alive = post(server.url, b'{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}')
    assert (response.status, answer["error"]["code"], alive["result"]) == (413, -32600, "0x7e5")


def test_batches_and_notifications(server) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": "b", "method": "nope"},
        5,
    ]
    _, answers = post(server.url, json.dumps(batch).encode())
    status, nothing = post(server.url, b'{"jsonrpc":"2.0","method":"eth_chainId"}')
    assert (answers, status, nothing) == (
        [
            {"jsonrpc": "2.0", "id": 1, "result": "0x7e5"},
            {
                "jsonrpc": "2.0",
                "id": "b",
                "error": {
                    "code": -32601,
                    "message": "the method nope does not exist/is not available",
                },
            },
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "invalid request: not a JSON object"},
            },
        ],
        200,
        None,
    )


CHAIN_ID = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'


def non_loopback_address() -> str | None:
    """This machine's IPv4 address on its default route, or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


def test_admin_methods_answer_loopback_clients_only(node) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    server = serve(node, host="0.0.0.0", port=0)
    server.start()
    port = server.server_address[1]
    admin = b'{"jsonrpc":"2.0","id":1,"method":"perm_getAccountsAllowlist","params":[]}'
    token = {"Authorization": f"Bearer {node.admin_token}"}
    try:
        _, remote = post(f"http://{address}:{port}", admin, token)
        _, local = post(f"http://127.0.0.1:{port}", admin, token)
        _, public = post(f"http://{address}:{port}", CHAIN_ID)
    finally:
        server.stop()
    assert (remote["error"], local["result"], public["result"]) == (
        {"code": -32006, "message": "admin token required (from a loopback client)"},
        [operator_account().address],
        "0x7e5",
    )


def test_admin_methods_take_the_bearer_token(server, node) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "perm_addAccountsToAllowlist",
            "params": [["0x" + "ab" * 20]],
        }
    ).encode()
    _, refused = post(server.url, body, {"Authorization": "Bearer nope"})
    _, accepted = post(server.url, body, {"Authorization": f"Bearer {node.admin_token}"})
    assert (refused["error"]["code"], accepted["result"], node.allowed("0x" + "ab" * 20)) == (
        -32006,
        "Success",
        True,
    )
