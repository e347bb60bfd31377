"""Third-party EVM nodes for the test suite: Foundry's anvil from tests/js (npm
`@foundry-rs/anvil`, whose platform package carries the binary), run as a child process."""

from __future__ import annotations

import contextlib
import json
import platform
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from eth_account import Account

from tests.support.paths import JS_DIR

ANVIL_PLATFORM = {"x86_64": "linux-amd64", "aarch64": "linux-arm64"}.get(
    platform.machine(), "linux-amd64"
)
ANVIL_BIN = JS_DIR / "node_modules" / "@foundry-rs" / f"anvil-{ANVIL_PLATFORM}" / "bin" / "anvil"
HOST = "127.0.0.1"
FUNDED_BALANCE_WEI = 10**24
STATE_INTERVAL_SECONDS = 1
T = TypeVar("T")


class NodeStartError(RuntimeError):
    """The node process did not come up and answer JSON-RPC in time."""


def eventually(probe: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll `probe` until it returns a true value (OSError counts as not yet); that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def anvil_installed() -> bool:
    """Whether `npm ci --prefix tests/js` has installed anvil's binary."""
    return ANVIL_BIN.exists()


def rpc(url: str, method: str, params: list | None = None, timeout: float = 5.0) -> object:
    """One JSON-RPC call; returns `result` or raises RuntimeError with the node's error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.load(response)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


class AnvilNode:
    """An anvil node on 127.0.0.1 (EVM shanghai, like our contracts) with one funded account,
    its chain state kept in `state_path`: written on a graceful stop and every
    `STATE_INTERVAL_SECONDS`, loaded again at start."""

    def __init__(self, state_path: Path, *, chain_id: int = 1337, port: int | None = None) -> None:
        self.state_path = state_path
        self.chain_id = chain_id
        self.port = port or free_port()
        self.funded_private_key = "0x" + secrets.token_hex(32)
        self.log_path = state_path.parent / f"{state_path.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The node's HTTP JSON-RPC endpoint."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """Process id of the running anvil binary."""
        if self._process is None:
            raise NodeStartError("anvil is not running")
        return self._process.pid

    def command(self) -> list[str]:
        """The argv that starts the node."""
        return [
            str(ANVIL_BIN),
            "--host", HOST,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--hardfork", "shanghai",
            "--accounts", "0",
            "--state", str(self.state_path),
            "--state-interval", str(STATE_INTERVAL_SECONDS),
            "--silent",
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> None:
        """Start the node, wait until `eth_chainId` answers with our chain id, and fund the
        account (once: a reloaded state keeps its balance)."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                raise NodeStartError(f"anvil exited with {code}; see {self.log_path}")
            try:
                answered = rpc(self.url, "eth_chainId", timeout=1.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
                continue
            if int(str(answered), 16) != self.chain_id:
                self.stop()
                raise NodeStartError(f"anvil on {self.url} answered chain id {answered}")
            self._fund()
            return
        self.stop()
        raise NodeStartError(f"anvil did not answer on {self.url} within {timeout} s")

    def _fund(self) -> None:
        """Give the funded account its balance if it has none yet."""
        address = Account.from_key(self.funded_private_key).address
        if int(str(rpc(self.url, "eth_getBalance", [address, "latest"])), 16) == 0:
            rpc(self.url, "anvil_setBalance", [address, hex(FUNDED_BALANCE_WEI)])

    def stop(self) -> None:
        """Stop the node gracefully, so that it writes its state (SIGTERM, then SIGKILL after
        10 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Stop the node and start it again on the same port from its saved state."""
        self.stop()
        self.start()


class TcpProxy:
    """Forwards a loopback port to another; `kill()` drops it and every live connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}"
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def kill(self) -> None:
        """Stop forwarding at once, as if the endpoint's host died."""
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
