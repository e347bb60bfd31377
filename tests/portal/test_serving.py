"""The server layout: `creditbank node` as its own process, Gunicorn workers reaching it over
JSON-RPC; a worker killed with SIGKILL is replaced and the service keeps answering; the workers
count one rate limit between them."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.ratelimit import overshoot
from tests.support.nodes import eventually, free_port, rpc
from tests.support.samples import SAMPLE_CREDENTIAL

CREDITBANK = [sys.executable, "-m", "portal.cli"]
WORKERS = 2
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    f"--workers={WORKERS}",
    "--worker-class=gthread",
    "--threads=4",
]

pytestmark = pytest.mark.slow


def stop(process: subprocess.Popen) -> None:
    """SIGTERM a child process and wait for it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def workers(master: int) -> set[int]:
    """The pids of the gunicorn master's live worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def verify(url: str, body: bytes) -> tuple[int, dict]:
    """POST a credential to the verify endpoint."""
    request = urllib.request.Request(
        f"{url}/api/v1/verify", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@contextmanager
def serving(data: Path, app: str,
            database_url: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`creditbank node` plus `gunicorn -w 2 <app>` against it (on the data directory's SQLite
    database unless given another); both stopped after."""
    environment = {
        **os.environ,
        "CREDITBANK_MASTER_KEY": secrets.token_hex(32),
        "CREDITBANK_DATA": str(data),
        **({"CREDITBANK_DATABASE_URL": database_url} if database_url else {}),
    }
    initialised = subprocess.run(
        [*CREDITBANK, "init", "--data", str(data)], env=environment, capture_output=True
    )
    assert initialised.returncode == 0, initialised.stderr
    node_port, web_port = free_port(), free_port()
    node_url, web_url = f"http://127.0.0.1:{node_port}", f"http://127.0.0.1:{web_port}"
    node = subprocess.Popen(
        [*CREDITBANK, "node", "--data", str(data), "--port", str(node_port)],
        env=environment,
        stderr=subprocess.DEVNULL,
    )
    gunicorn = None
    try:
        eventually(lambda: rpc(node_url, "eth_chainId"), "the ledger node")
        gunicorn = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{web_port}", app],
            env={**environment, "CREDITBANK_LEDGER_URLS": node_url},
            stderr=subprocess.DEVNULL,
        )
        eventually(lambda: urllib.request.urlopen(f"{web_url}/api/v1/openapi.json"), "gunicorn")
        eventually(
            lambda: workers(gunicorn.pid) if len(workers(gunicorn.pid)) == WORKERS else None,
            "the workers",
        )
        yield web_url, gunicorn
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        stop(node)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The production entry point, `portal.wsgi:app`, served by two workers."""
    with serving(tmp_path / "data", "portal.wsgi:app") as server:
        yield server


def outcome(answer: tuple[int, dict]) -> tuple[int, str, list[tuple[str, str, str | None]]]:
    """Status, verdict and each check's status and code (the ledger's answers among them)."""
    status, report = answer
    checks = [(check["name"], check["status"], check["code"]) for check in report["checks"]]
    return status, report["verdict"], checks


EXPECTED = (
    200,
    "INVALID",
    [
        ("parse", "VALID", None),
        ("format", "VALID", None),
        ("proof", "VALID", None),
        ("key_binding", "INVALID", "KEY_NOT_REGISTERED"),
        ("accreditation", "INVALID", "ISSUER_NOT_ACCREDITED"),
        ("anchor", "INVALID", "ANCHOR_PROOF_MISSING"),
        ("status", "SKIPPED", "PRECONDITION_FAILED"),
        ("validity", "VALID", None),
    ],
)


def test_workers_verify_over_json_rpc_and_survive_a_killed_worker(served) -> None:
    url, gunicorn = served
    body = SAMPLE_CREDENTIAL.read_bytes()
    first = workers(gunicorn.pid)
    before = [outcome(verify(url, body)) for _ in range(20)]
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    during = [outcome(verify(url, body)) for _ in range(10)]
    replaced = eventually(
        lambda: workers(gunicorn.pid) if len(workers(gunicorn.pid) - {victim}) == WORKERS else None,
        "a replacement worker",
    )
    after = [outcome(verify(url, body)) for _ in range(10)]

    assert before + during + after == [EXPECTED] * 40
    assert victim not in replaced and len(replaced & first) == WORKERS - 1


def test_the_workers_share_one_rate_limit(tmp_path: Path, database_url: str) -> None:
    limited = "portal.app:create_app(config={'RATE_LIMITS': {'verify': (30, 86400)}})"
    body = SAMPLE_CREDENTIAL.read_bytes()
    with (serving(tmp_path / "data", limited, database_url) as (url, _),
          ThreadPoolExecutor(8) as pool):
        statuses = list(pool.map(lambda _: verify(url, body)[0], range(80)))
    # the host's file counts exactly; PostgreSQL lets each other worker's unsent share through
    most = 30 if database_url.startswith("sqlite") else 30 + overshoot(30, WORKERS)
    assert statuses.count(200) + statuses.count(429) == 80
    assert 30 <= statuses.count(200) <= most
