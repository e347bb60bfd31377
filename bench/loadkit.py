"""Processes for the load benchmarks, all on 127.0.0.1: `creditbank node`, Gunicorn serving the
portal, and `wrk` driving them (Debian: `apt-get install wrk`). Every process is stopped on exit."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
CREDITBANK = [sys.executable, "-m", "portal.cli"]
LUA = Path(__file__).resolve().parent / "lua"
NO_RATE_LIMITS = "portal.app:create_app(config={'RATE_LIMITS': {}})"


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def eventually(probe: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll `probe` until it returns without raising OSError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not come up within {timeout:.0f} s") from None
            time.sleep(0.1)


def rpc(url: str, method: str) -> object:
    """One JSON-RPC call without parameters."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["result"]


class Child:
    """A child process in its own process group, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, dict(env), log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the process, appending its output to the log file."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the process (not its children) and reap it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM the process group and wait; SIGKILL it after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def node(data_dir: Path, port: int, env: Mapping[str, str], block_period: float) -> Child:
    """`creditbank node` on a data directory."""
    argv = [*CREDITBANK, "node", "--data", str(data_dir), "--port", str(port),
            "--block-period", str(block_period)]
    return Child(argv, env, data_dir / "node.log")


def portal(data_dir: Path, port: int, env: Mapping[str, str], *, workers: int = 2,
           threads: int = 4) -> Child:
    """Gunicorn serving the portal (rate limits on public endpoints lifted for the bench)."""
    argv = [sys.executable, "-m", "gunicorn", f"--workers={workers}",
            "--worker-class=gthread", f"--threads={threads}", "--bind", f"{HOST}:{port}",
            "--backlog=2048", "--log-level=warning", NO_RATE_LIMITS]
    return Child(argv, env, data_dir / "gunicorn.log")


def wait_for_node(url: str) -> None:
    """Wait until the node answers JSON-RPC."""
    eventually(lambda: rpc(url, "eth_chainId"), "the ledger node")


def wait_for_portal(url: str) -> None:
    """Wait until the portal answers /healthz."""
    eventually(lambda: urllib.request.urlopen(f"{url}/healthz", timeout=5), "gunicorn")


@dataclass(frozen=True)
class Load:
    """One wrk run: requests per second, latency percentiles (ms), errors."""

    label: str
    requests: int
    seconds: float
    rate: float
    p50: float
    p99: float
    non_2xx: int
    socket_errors: int
    counts: dict[str, int]

    def row(self, baseline: Load | None = None) -> str:
        """A Markdown table row; the ratio is this run's rate over the baseline's."""
        ratio = f"{self.rate / baseline.rate:.3f}" if baseline else "1.000"
        return (f"| {self.label} | {self.rate:,.0f} | {self.p50:.1f} | {self.p99:.1f} | "
                f"{self.requests:,} | {self.non_2xx + self.socket_errors} | {ratio} |")


TABLE_HEAD = ("| load | req/s | p50 ms | p99 ms | requests | errors | ratio to trivial |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")


def wrk(label: str, url: str, *, script: str | None = None, connections: int = 32,
        seconds: int = 15, threads: int = 2, env: Mapping[str, str] | None = None) -> Load:
    """Run wrk for `seconds` with `connections` keep-alive connections; parse its report."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "--timeout", "10s"]
    if script:
        argv += ["-s", str(LUA / script)]
    done = subprocess.run([*argv, url], capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})}, timeout=seconds + 60)
    return parse_wrk(label, done.stdout)


def parse_wrk(label: str, report: str) -> Load:
    """A wrk --latency report as a Load."""
    def number(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, report)
        return found.group(1) if found else default

    requests, duration = re.search(r"(\d+) requests in ([\d.]+\w+),", report).group(1, 2)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       report)
    return Load(
        label=label,
        requests=int(requests),
        seconds=_ms(duration) / 1000,
        rate=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50=_ms(number(r"\s50%\s+([\d.]+\w+)", "0ms")),
        p99=_ms(number(r"\s99%\s+([\d.]+\w+)", "0ms")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(value) for value in errors.groups()) if errors else 0,
        counts={name: int(value) for name, value in re.findall(r"bench (\w+): (\d+)", report)},
    )


def _ms(value: str) -> float:
    """wrk's '1.23ms' / '850.00us' / '1.02s' in milliseconds."""
    amount, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return float(amount) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def machine() -> str:
    """CPU model, cores, Python and the load average right now."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load}")
