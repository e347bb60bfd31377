"""`creditbank demo`, the README's main job: a fresh data directory becomes a running bank."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from bank.seed import DEMO_ACCOUNTS
from tests.support.nodes import free_port

pytestmark = pytest.mark.slow


def started(process: subprocess.Popen, timeout: float = 120) -> list[str]:
    """The demo's banner lines, once it says it is running."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the demo exited: {lines}")
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl+C"):
            return lines
    raise AssertionError(f"the demo did not start in {timeout} s: {lines}")


def test_the_demo_seeds_once_serves_the_portal_and_stops_cleanly(tmp_path) -> None:
    port, rpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "portal.cli", "demo", "--data", str(tmp_path / "data"),
               "--port", str(port), "--rpc-port", str(rpc_port)]
    environment = {**os.environ, "CREDITBANK_BLOCK_PERIOD": "0.2"}
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=environment)
    try:
        banner = started(first)
        base = f"http://127.0.0.1:{port}"
        learner_id, _ = DEMO_ACCOUNTS.learners[0]
        session = requests.Session()
        sign_in = session.get(f"{base}/sign-in", timeout=10)
        token = sign_in.text.split('name="csrf_token" value="')[1].split('"')[0]
        record = session.post(f"{base}/sign-in", timeout=30, data={
            "csrf_token": token, "national_id": learner_id,
            "password": DEMO_ACCOUNTS.learner_password})
        rpc = requests.post(f"http://127.0.0.1:{rpc_port}", timeout=10, json={
            "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).json()
        assert (record.status_code, record.url, "<table" in record.text, rpc["result"]) == (
            200, f"{base}/me", True, "0x7e5")
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert ("\n".join(DEMO_ACCOUNTS.lines()) in "\n".join(banner), first.returncode) == (True, 0)

    again = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=environment)
    try:
        banner = started(again)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(30)
    assert ("\n".join(DEMO_ACCOUNTS.lines()) in "\n".join(banner), again.returncode) == (True, 0)
