"""Hostile bodies over real HTTP: deeply nested JSON (100 000 levels), oversized bodies and unknown
JSON-LD contexts are refused with a reason, and both servers keep serving (the node's 413 for an
oversized body is in test_ledger_rpc)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from portal.app import create_app
from portal.demo import DemoRequestHandler
from portal.runtime import Runtime
from tests.support.ledger import served_node
from tests.support.nodes import rpc
from tests.support.samples import SAMPLE_CREDENTIAL

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    """POST a raw body; the status and the decoded JSON answer."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def node_url(tmp_path) -> Iterator[str]:
    with served_node(tmp_path / "chain") as url:
        yield url


@pytest.fixture
def portal_url(runtime: Runtime) -> Iterator[str]:
    web = make_server(
        "127.0.0.1", 0, create_app(runtime), threaded=True, request_handler=DemoRequestHandler
    )
    threading.Thread(target=web.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{web.server_port}"
    web.shutdown()


def test_node_refuses_deep_bodies(node_url: str) -> None:
    refused = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "request nested too deeply"},
    }

    answers = [post(node_url, DEEP), post(node_url, DEEP_OBJECT)]

    assert answers == [(200, refused)] * 2
    assert rpc(node_url, "eth_chainId") == "0x7e5"


def test_portal_refuses_deep_and_oversized_bodies(portal_url: str) -> None:
    too_deep = {
        "code": 400,
        "status": "Bad Request",
        "message": "the JSON body is nested deeper than the 64 levels allowed",
    }
    answers = [
        post(f"{portal_url}/api/v1/verify", DEEP),
        post(f"{portal_url}/api/v1/units", DEEP_OBJECT),
        post(f"{portal_url}/api/v1/verify", b"[" * 9_000_000),
    ]

    assert answers[:2] == [(400, too_deep)] * 2
    assert (answers[2][0], answers[2][1]["code"]) == (413, 413)
    assert post(f"{portal_url}/api/v1/verify", SAMPLE_CREDENTIAL.read_bytes())[0] == 200


def test_portal_verifier_names_deep_and_unknown_context_input(portal_url: str) -> None:
    nested = b'{"a":' * 40 + b"1" + b"}" * 40
    credential = json.loads(SAMPLE_CREDENTIAL.read_text())
    credential["@context"].append("https://evil.example/context.jsonld")

    reports = [
        post(f"{portal_url}/api/v1/verify", nested, "text/plain"),
        post(f"{portal_url}/api/v1/verify", DEEP, "text/plain"),
        post(f"{portal_url}/api/v1/verify", json.dumps(credential).encode()),
    ]

    assert [(status, report["verdict"], report["checks"][0]["code"])
            for status, report in reports] == [
        (200, "INVALID", "TOO_DEEP"),
        (200, "INVALID", "TOO_DEEP"),
        (200, "INVALID", "UNKNOWN_CONTEXT"),
    ]  # fmt: skip
