"""eth_call and eth_estimateGas as an attacker sends them: capped, time-limited, and never in
the way of other requests, sealing or verification."""

from __future__ import annotations

import gc
import json
import math
import threading
import time
from types import SimpleNamespace
from typing import cast

import pytest
from web3 import Web3

from credentials.merkle import MerkleTree
from infra.settings import Settings
from ledger.execution import (
    DEFAULT_CALL_LIMITS,
    CallLimits,
    CallState,
    _check_deadline,
    work_time,
)
from ledger.node import BLOCK_GAS_LIMIT
from ledger.records import AnchorRecord, IssuerRecord, KeyRecord, Revocation, RuleSetRecord
from ledger.server import serve
from ledger.views import ChainView
from tests.support.chains import ALL_KINDS, LEVELS_1_TO_8, served_chain
from tests.support.ledger import (
    BLAKE2F,
    BN254_PAIRING,
    CALL_SELF,
    IDENTITY,
    JUMP_LOOP,
    blake2f_input,
    deploy_runtime,
    new_node,
    pairing_input,
    timed_rpc,
)

DID = "did:web:creditbank.example:issuers:demo-university"
ATTACK = {"data": "0x" + JUMP_LOOP.hex(), "gas": hex(60_000_000)}
SHORT = 0.25
PAYEE = "0x" + "22" * 20


def request(method: str, params: list, request_id: int = 1) -> dict:
    """A JSON-RPC 2.0 request object."""
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def hexed(address: bytes) -> str:
    """0x-hex of raw bytes."""
    return "0x" + address.hex()


def digests(count: int) -> list[bytes]:
    """Distinct 32-byte credential digests."""
    return [Web3.keccak(text=f"credential-{i}") for i in range(count)]


def stopped_by(message: str) -> str:
    """Which limit stopped a maximal call: the gas cap or the time limit."""
    if message.startswith("OutOfGas") or message.startswith("gas required exceeds allowance"):
        return "gas cap"
    if message == f"execution aborted (timeout = {DEFAULT_CALL_LIMITS.seconds:g}s)":
        return "time limit"
    return message


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
def test_a_maximal_call_is_cut_short_while_everyone_else_is_served(tmp_path, method) -> None:
    with served_chain(tmp_path) as (chain, url):
        issuer_id, (account,) = chain.accredit(DID)
        tree, later = MerkleTree(digests(8)), MerkleTree(digests(9))
        anchored = chain.ledger.transact(account, "CredentialAnchor", "anchor", tree.root)
        view = ChainView(chain.ledger)
        expected = view.anchor(tree.root)
        outcome: dict[str, tuple[float, object]] = {}
        attacker = threading.Thread(
            target=lambda: outcome.update(attack=timed_rpc(url, request(method, [ATTACK])))
        )
        attacker.start()
        time.sleep(0.05)
        latencies, answers, sent, sealed_meanwhile = [], [], None, None
        while attacker.is_alive():
            took, head = timed_rpc(url, request("eth_blockNumber", []))
            started = time.monotonic()
            answers.append(
                (view.anchor(tree.root), view.revocations_between(0, int(head["result"], 16)))
            )
            latencies.append(max(took, time.monotonic() - started))
            if sent is None:
                sent = chain.ledger.send(account, "CredentialAnchor", "anchor", later.root)
            elif sealed_meanwhile is None:
                sealed_meanwhile = chain.ledger.receipt(sent)
        attacker.join()
        took, answer = outcome["attack"]
        assert sent is not None
        sealed = chain.ledger.wait(sent, timeout=10)
        assert isinstance(answer, dict)
        assert {
            "attack": (
                answer["error"]["code"],
                stopped_by(answer["error"]["message"]) in ("gas cap", "time limit"),
            ),
            "answered after its CPU time": took >= DEFAULT_CALL_LIMITS.seconds,
            "reads while it ran": len(latencies) >= 3,
            "slowest read": max(latencies) < 0.5,
            "every read right": all(a == (expected, {}) for a in answers),
            "sealed while it ran": sealed_meanwhile == sealed,
            "served after": view.anchor(later.root),
        } == {
            "attack": (-32000, True),
            "answered after its CPU time": True,
            "reads while it ran": True,
            "slowest read": True,
            "every read right": True,
            "sealed while it ran": True,
            "served after": AnchorRecord(
                root=later.root,
                issuer_id=issuer_id,
                sender=account.address,
                block=sealed["blockNumber"],
                timestamp=chain.ledger.block_timestamp(sealed["blockNumber"]),
            ),
        }
        assert expected == AnchorRecord(
            root=tree.root,
            issuer_id=issuer_id,
            sender=account.address,
            block=anchored["blockNumber"],
            timestamp=chain.ledger.block_timestamp(anchored["blockNumber"]),
        )


def test_gas_above_the_cap_is_clamped_and_estimates_stop_at_it(tmp_path) -> None:
    node, _ = new_node(tmp_path, call_limits=CallLimits(gas_cap=100_000, seconds=30))
    server = serve(node, port=0)
    server.start()
    try:
        identity = {"to": hexed(IDENTITY), "data": "0x01020304", "gas": hex(BLOCK_GAS_LIMIT)}
        loop_took, loop = timed_rpc(server.url, request("eth_call", [ATTACK]))
        _, echoed = timed_rpc(server.url, request("eth_call", [identity]))
        _, loop_estimate = timed_rpc(server.url, request("eth_estimateGas", [ATTACK]))
        _, identity_estimate = timed_rpc(server.url, request("eth_estimateGas", [identity]))
        payment = {"to": PAYEE}
        _, transfer = timed_rpc(server.url, request("eth_estimateGas", [payment]))
    finally:
        server.stop()
        node.close()
    assert isinstance(loop, dict)
    assert isinstance(identity_estimate, dict)
    assert {
        "loop": (loop["error"]["code"], loop["error"]["message"].startswith("OutOfGas: ")),
        "loop ran only the cap": loop_took < 2.0,
        "identity": echoed,
        "loop estimate": loop_estimate,
        "identity estimate": 21_082 <= int(identity_estimate["result"], 16) <= 22_082,
        "transfer": transfer,
    } == {
        "loop": (-32000, True),
        "loop ran only the cap": True,
        "identity": {"jsonrpc": "2.0", "id": 1, "result": "0x01020304"},
        "loop estimate": {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32000, "message": "gas required exceeds allowance (100000)"},
        },
        "identity estimate": True,
        "transfer": {"jsonrpc": "2.0", "id": 1, "result": "0x5208"},
    }


REFUSALS = [
    (
        {"to": PAYEE, "value": "0x1"},
        "Sender does not have enough balance to cover transaction value and gas  (has 0, needs 1)",
    ),
    ({"to": PAYEE, "gas": "0x1"}, "intrinsic gas too low: needs 21000, allowed 1"),
    (
        {"data": "0x" + "5b" * 49_153},
        "OutOfGas: Contract code size exceeds EIP-3860 limit of 49152. Got code of size: 49153",
    ),
]


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
@pytest.mark.parametrize(("message", "refusal"), REFUSALS)
def test_calls_the_chain_cannot_run_get_clear_errors(tmp_path, method, message, refusal) -> None:
    node, _ = new_node(tmp_path)
    try:
        answer = node.handle(json.dumps(request(method, [message])).encode())
    finally:
        node.close()
    assert json.loads(answer) == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32000, "message": refusal},
    }


ATTACKS = {
    "a jump loop": lambda node: {"data": "0x" + JUMP_LOOP.hex()},
    "calls without a jump": lambda node: {"to": deploy_runtime(node, CALL_SELF * 20 + b"\x00")},
    "BLAKE2 F rounds": lambda node: {
        "to": hexed(BLAKE2F),
        "data": "0x" + blake2f_input(50_000_000).hex(),
    },
    "BN254 pairings": lambda node: {
        "to": hexed(BN254_PAIRING),
        "data": "0x" + pairing_input(300).hex(),
    },
}


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_time_limit_stops_work_of_every_kind(tmp_path, attack, method) -> None:
    node, _ = new_node(tmp_path, call_limits=CallLimits(gas_cap=BLOCK_GAS_LIMIT, seconds=SHORT))
    server = serve(node, port=0)
    server.start()
    try:
        message = ATTACKS[attack](node)
        took, answer = timed_rpc(server.url, request(method, [message]))
        _, echoed = timed_rpc(
            server.url, request("eth_call", [{"to": hexed(IDENTITY), "data": "0xcafe"}])
        )
    finally:
        server.stop()
        node.close()
    assert (answer, took >= SHORT, echoed["result"]) == (
        {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32000, "message": f"execution aborted (timeout = {SHORT:g}s)"},
        },
        True,
        "0xcafe",
    )


def test_the_limit_counts_the_calls_own_cpu_time_not_its_waiting(tmp_path) -> None:
    node, _ = new_node(tmp_path, call_limits=CallLimits(gas_cap=BLOCK_GAS_LIMIT, seconds=SHORT))
    server = serve(node, port=0)
    server.start()
    stop = threading.Event()

    def hold_the_interpreter() -> None:
        while not stop.is_set():
            sum(range(10_000))

    busy = [threading.Thread(target=hold_the_interpreter) for _ in range(2)]
    try:
        for thread in busy:
            thread.start()
        bounded = {**ATTACK, "gas": hex(200_000)}
        took, answer = timed_rpc(server.url, request("eth_call", [bounded]))
        stop.set()
        for thread in busy:
            thread.join()
        _, unbounded = timed_rpc(server.url, request("eth_call", [ATTACK]))
    finally:
        stop.set()
        server.stop()
        node.close()
    assert isinstance(answer, dict) and isinstance(unbounded, dict)
    assert (
        stopped_by(answer["error"]["message"]),
        took > SHORT,
        unbounded["error"]["message"],
    ) == ("gas cap", True, f"execution aborted (timeout = {SHORT:g}s)")


def test_a_full_garbage_collection_is_not_counted_as_the_calls_work() -> None:
    heap = [{"n": [n]} for n in range(1_000_000)]
    cpu, work = time.thread_time(), work_time()
    call = SimpleNamespace(deadline=work + 0.05, next_yield=math.inf)
    gc.collect()
    cpu, work = time.thread_time() - cpu, work_time() - work
    _check_deadline(cast(CallState, call))
    del heap
    assert (cpu > 0.05, work < cpu / 20) == (True, True), (cpu, work)


def test_a_batch_shares_one_time_limit(tmp_path) -> None:
    node, _ = new_node(tmp_path, call_limits=CallLimits(gas_cap=BLOCK_GAS_LIMIT, seconds=SHORT))
    server = serve(node, port=0)
    server.start()
    try:
        batch = [request("eth_call", [ATTACK], i) for i in range(1, 6)]
        started = time.process_time()
        _, answers = timed_rpc(server.url, [*batch, request("eth_blockNumber", [], 6)])
        worked = time.process_time() - started
    finally:
        server.stop()
        node.close()
    aborted = {"code": -32000, "message": f"execution aborted (timeout = {SHORT:g}s)"}
    assert (answers, worked < 3 * SHORT) == (
        [{"jsonrpc": "2.0", "id": i, "error": aborted} for i in range(1, 6)]
        + [{"jsonrpc": "2.0", "id": 6, "result": "0x0"}],
        True,
    )


def test_our_contracts_run_well_under_the_default_limits(tmp_path) -> None:
    with served_chain(tmp_path) as (chain, _):
        issuer_id, (account,) = chain.accredit(DID)
        key = Web3.keccak(text="signing key")
        registered = chain.ledger.transact(account, "IssuerRegistry", "registerKey", key)
        leaves = digests(1024)
        tree = MerkleTree(leaves)
        anchored = chain.ledger.transact(account, "CredentialAnchor", "anchor", tree.root)
        revoked = chain.ledger.transact(
            account, "CredentialAnchor", "revokeLeaf", tree.root, leaves[700], tree.proof(700), 2
        )
        rule_set, content = Web3.keccak(text="demo-university:bachelor-it"), Web3.keccak(text="v1")
        published = chain.ledger.transact(account, "RuleRegistry", "publish", rule_set, 1, content)
        approved = chain.ledger.transact(chain.operator, "RuleRegistry", "approve", rule_set, 1)
        view = ChainView(chain.ledger)
        node = chain.node
        assert node is not None
        largest = max(
            gas
            for number in range(1, node.head().block_number + 1)
            for _, gas in node.block_transactions(node.existing_header(number))
        )
        assert {
            "anchor": view.anchor(tree.root),
            "revocation": view.leaf_revocation(tree.root, leaves[700]),
            "issuer": view.issuer_by_did(DID),
            "key": view.key(issuer_id, key),
            "rule set": view.rule_set(rule_set, 1),
            "headroom": largest * 2 <= DEFAULT_CALL_LIMITS.gas_cap,
        } == {
            "anchor": AnchorRecord(
                root=tree.root,
                issuer_id=issuer_id,
                sender=account.address,
                block=anchored["blockNumber"],
                timestamp=chain.ledger.block_timestamp(anchored["blockNumber"]),
            ),
            "revocation": Revocation(reason=2, block=revoked["blockNumber"]),
            "issuer": IssuerRecord(
                issuer_id=issuer_id,
                did=DID,
                kind_mask=ALL_KINDS,
                level_mask=LEVELS_1_TO_8,
                valid_from=0,
                valid_until=0,
                suspended=False,
            ),
            "key": KeyRecord(
                public_key=key, registered_block=registered["blockNumber"], retired_block=0
            ),
            "rule set": RuleSetRecord(
                rule_set_key=rule_set,
                version=1,
                owner_id=issuer_id,
                content_hash=content,
                published_block=published["blockNumber"],
                approved_block=approved["blockNumber"],
            ),
            "headroom": True,
        }


def test_the_limits_come_from_the_settings() -> None:
    settings = Settings.from_env(
        {"CREDITBANK_CALL_GAS_CAP": "500000", "CREDITBANK_CALL_SECONDS": "2.5"}
    )
    refused = []
    for gas_cap, seconds in ((20_999, 1.0), (100_000, 0.0), (100_000, float("inf"))):
        with pytest.raises(ValueError) as caught:
            CallLimits(gas_cap=gas_cap, seconds=seconds)
        refused.append(str(caught.value))
    assert (CallLimits.of(settings), CallLimits.of(Settings.from_env({})), refused) == (
        CallLimits(gas_cap=500_000, seconds=2.5),
        CallLimits(gas_cap=3_000_000, seconds=1.0),
        [
            "CREDITBANK_CALL_GAS_CAP: at least 21000 (got 20999)",
            "CREDITBANK_CALL_SECONDS: a positive number (got 0.0)",
            "CREDITBANK_CALL_SECONDS: a positive number (got inf)",
        ],
    )
