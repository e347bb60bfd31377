"""kill -9 the node while it seals: every block survives whole, no transaction half-applied."""

from __future__ import annotations

import http.client
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from eth_account import Account

from ledger.node import EmbeddedNode
from tests.support.ledger import operator_account

ROUNDS = 5
SINK = "0x" + "77" * 20
NODE_SCRIPT = "from ledger.cli import node_command; node_command()"


def rpc(url: str, method: str, params: list) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def start_node(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """The node in a subprocess on a free port; returns it and its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            NODE_SCRIPT,
            "--data",
            str(data_dir),
            "--port",
            "0",
            "--block-period",
            "0.05",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stderr.readline()
    return process, line.rsplit("serving ", 1)[1].strip()


def flood(url: str, senders: list, stop: threading.Event, accepted: list[str]) -> None:
    """Send transfers round-robin until stopped or the node dies; record accepted hashes."""
    nonces = [
        int(rpc(url, "eth_getTransactionCount", [s.address, "pending"])["result"], 16)
        for s in senders
    ]
    index = 0
    while not stop.is_set():
        slot = index % len(senders)
        sender = senders[slot]
        tx = sender.sign_transaction(
            {
                "to": SINK,
                "value": 1 if slot == 0 else 0,
                "gas": 21_000,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "nonce": nonces[slot],
                "chainId": 2021,
            }
        )
        try:
            answer = rpc(url, "eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])
        except (OSError, http.client.HTTPException):
            return
        if "result" in answer:
            accepted.append(answer["result"])
            nonces[slot] += 1
        index += 1


@pytest.mark.slow
def test_kill_9_during_sealing_never_leaves_a_partial_block(tmp_path) -> None:
    operator = operator_account()
    members = [Account.create() for _ in range(2)]
    senders = [operator, *members]
    node, _ = EmbeddedNode.create(tmp_path, operator_address=operator.address)
    node.allow([m.address for m in members])
    node.close()
    accepted: list[str] = []
    rng = random.Random(7)
    for _ in range(ROUNDS):
        process, url = start_node(tmp_path)
        stop = threading.Event()
        sender = threading.Thread(target=flood, args=(url, senders, stop, accepted))
        sender.start()
        time.sleep(rng.uniform(0.4, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait()
        stop.set()
        sender.join()

    with EmbeddedNode.open(tmp_path) as reopened:
        head = reopened.head().block_number
        mined_by_sender: dict[str, int] = {}
        value_to_sink = 0
        parent_hash = reopened.header(0).hash
        broken = []
        for number in range(1, head + 1):
            block = reopened.request("eth_getBlockByNumber", [hex(number), True])
            reopened.balance(bytes.fromhex(SINK[2:]), number)
            if block["parentHash"] != "0x" + parent_hash.hex():
                broken.append(number)
            parent_hash = bytes.fromhex(block["hash"][2:])
            for tx in block["transactions"]:
                receipt = reopened.request("eth_getTransactionReceipt", [tx["hash"]])
                if receipt is None or receipt["status"] != "0x1":
                    broken.append(tx["hash"])
                mined_by_sender[tx["from"]] = mined_by_sender.get(tx["from"], 0) + 1
                value_to_sink += int(tx["value"], 16)
        fates = {
            "mined"
            if reopened.request("eth_getTransactionReceipt", [h])
            else "unknown"
            if reopened.request("eth_getTransactionByHash", [h]) is None
            else "pending-after-restart"
            for h in accepted
        }
        nonces = {
            s.address: reopened.nonce(bytes.fromhex(s.address[2:]), "latest") for s in senders
        }
        sink_balance = reopened.balance(bytes.fromhex(SINK[2:]), "latest")
    assert broken == []
    assert fates <= {"mined", "unknown"} and "mined" in fates
    assert nonces == {s.address: mined_by_sender.get(s.address, 0) for s in senders}
    assert sink_balance == value_to_sink
