"""Request logs name the route pattern, the method, the status and the duration, never the path
or the query string, under werkzeug (the demo, the tests) and under Gunicorn with the shipped
configuration."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from tests.support.log_scan import LogCapture
from tests.support.nodes import eventually, free_port
from tests.support.paths import ROOT
from tests.support.routes_app import routes_app
from tests.support.served import ServedApp

DID = "did:web:bank.example:learners:8f14e45f"
PATHS = (f"/me/credentials/{DID}?name=Wang%20Fang", "/verify/s3cr3t-share-token?q=Wang",
         "/nowhere/Wang")


def fetch(url: str) -> int:
    """The status a GET answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def request_lines(lines: list[str]) -> list[str]:
    """The request log lines, their durations cut off."""
    return [re.sub(r" [\d.]+ms$", "", line.strip()) for line in lines
            if re.search(r"\d+ [\d.]+ms$", line.strip())]


def malformed(url: str) -> bytes:
    """What the server answers a request line it cannot parse (which quotes the path)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET /me/credentials/{DID}?name=Wang BOGUS/9\r\n\r\n".encode())
        return connection.recv(4096)


def test_werkzeug_logs_the_route_pattern_not_the_path() -> None:
    logs = LogCapture()
    logs.start()
    try:
        with ServedApp(routes_app()) as served:
            statuses = [fetch(served.url + path) for path in PATHS]
            refused = malformed(served.url)
    finally:
        logs.stop()

    assert statuses == [200, 410, 404]
    assert b"Error code: 400" in refused
    assert request_lines(logs.lines) == [
        "creditbank.requests INFO GET /me/credentials/<ref> 200",
        "creditbank.requests INFO GET /verify/<token> 410",
        "creditbank.requests INFO GET - 404",
        "creditbank.requests INFO - - 400",
    ]
    assert not [line for line in logs.lines if "Wang" in line or DID in line or "s3cr3t" in line]


def test_gunicorn_with_the_shipped_configuration_logs_the_route_pattern_not_the_path() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "portal" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "tests.support.routes_app:routes_app()"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        eventually(lambda: fetch(url + "/nowhere") == 404, "gunicorn")
        statuses = [fetch(url + path) for path in PATHS]
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)

    assert statuses == [200, 410, 404]
    assert request_lines(out.splitlines())[-3:] == [
        "GET /me/credentials/<ref> 200", "GET /verify/<token> 410", "GET - 404"]
    assert "Wang" not in out + err and DID not in out + err and "s3cr3t" not in out + err
