"""The W3C vc-di-eddsa and vc-data-model-2.0 test suites (vendored in tests/w3c), run with mocha
against the served portal's VC-API: the issuer tests against the conformance issuer (switched on,
with an operator's token), the verifier tests against /api/vc's verify endpoints. The tests listed
as passing pass, and exactly the tests listed as failing fail (tests/w3c/expected.json gives each
group's reason; KNOWN_FAILURES.md explains)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bank.accounts import new_operator_token
from credentials.dids import did_key
from portal.app import create_app
from portal.runtime import Runtime
from portal.vcapi import conformance_key
from tests.support.browser import in_ci
from tests.support.paths import ROOT

SUITES = ROOT / "tests" / "w3c"
EXPECTED = SUITES / "expected.json"
MOCHA = SUITES / "node_modules" / "mocha" / "bin" / "mocha.js"
RUN_SECONDS = 240


def local_config(base: str, did: str, token: str) -> str:
    """The suites' localConfig.cjs: our VC-API endpoints as the only implementation tested (the
    conformance issuer, with an operator's token, as the issuer)."""
    issuer = {"id": did, "headers": {"Authorization": f"Bearer {token}"}}
    endpoint = f"{base}/conformance/credentials/issue"
    manifest = {
        "name": "creditbank",
        "implementation": "creditbank VC-API",
        "issuers": [
            {**issuer, "endpoint": endpoint, "tags": ["vc2.0"]},
            *(
                {
                    **issuer,
                    "endpoint": endpoint,
                    "options": {"cryptosuite": suite},
                    "supports": {"vc": ["2.0"]},
                    "tags": [suite],
                }
                for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022")
            ),
        ],
        "verifiers": [
            {
                "id": "creditbank-verifier",
                "endpoint": f"{base}/credentials/verify",
                "supports": {"vc": ["2.0"]},
                "tags": ["vc2.0", "eddsa-rdfc-2022", "eddsa-jcs-2022"],
            }
        ],
        "vpVerifiers": [
            {
                "id": "creditbank-verifier",
                "endpoint": f"{base}/presentations/verify",
                "tags": ["vc2.0"],
            }
        ],
    }
    settings = {"enableInteropTests": False, "testAllImplementations": False}
    document = {"settings": settings, "implementations": [manifest]}
    return f"module.exports = {json.dumps(document, indent=2)};\n"


@contextmanager
def served_over_tls(app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 over HTTPS with a throwaway self-signed certificate: the
    suites send an endpoint's headers (our issuer's bearer token) only to https: URLs, and
    their HTTPS client accepts any certificate. Yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context="adhoc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def run_suite(suite: str, app_root: Path) -> dict[str, set[str]]:
    """Run one vendored suite with mocha's JSON reporter: the full titles that passed, failed
    and were skipped."""
    output = app_root / f"{suite}.json"
    environment = {**os.environ, "APP_ROOT_PATH": str(app_root)}
    completed = subprocess.run(
        [
            shutil.which("node") or "node", str(MOCHA), "tests/", "--reporter", "json",
            "--reporter-option", f"output={output}", "--timeout", "15000",
            "--preserve-symlinks", "--exit",
        ],
        cwd=SUITES / suite,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert output.exists(), f"mocha wrote no results:\n{completed.stdout}\n{completed.stderr}"
    results = json.loads(output.read_text("utf-8"))
    return {
        kind: {test["fullTitle"] for test in results[kind]}
        for kind in ("passes", "failures", "pending")
    }


@pytest.fixture
def served_vc_api(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The portal served on 127.0.0.1 (HTTPS) with the conformance issuer on; the suites'
    config in a folder of its own (the app root the suites read localConfig.cjs from)."""
    if not MOCHA.exists():
        if in_ci():
            pytest.fail("the W3C suites' node packages are missing: run tests/install.sh")
        pytest.skip("the W3C suites' node packages are missing: run tests/install.sh")
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, conformance_issuer=True))
    token = new_operator_token(runtime.engine, "w3c-suites", actor="test")
    did = did_key(conformance_key(runtime.settings.master_key()).public_key)
    app = create_app(runtime, {"RATE_LIMITS": {}})
    with served_over_tls(app) as url:
        app_root = tmp_path / "suites"
        app_root.mkdir()
        (app_root / "localConfig.cjs").write_text(
            local_config(f"{url}/api/vc", did, token), "utf-8"
        )
        yield app_root


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("suite", ["vc-di-eddsa-test-suite", "vc-data-model-2.0-test-suite"])
def test_w3c_suite_results_are_the_documented_ones(served_vc_api: Path, suite: str) -> None:
    expected = json.loads(EXPECTED.read_text("utf-8"))[suite]
    passing = {title for group in expected["passing"] for title in group["tests"]}
    known_failures = {title for group in expected["failing"] for title in group["tests"]}
    results = run_suite(suite, served_vc_api)
    (served_vc_api / "observed.json").write_text(
        json.dumps({kind: sorted(titles) for kind, titles in results.items()}, indent=1)
    )
    assert {
        "passing but listed as failing": sorted(results["passes"] & known_failures),
        "failing but not listed as failing": sorted(results["failures"] - known_failures),
        "listed but not run": sorted(
            (passing | known_failures)
            - results["passes"] - results["failures"] - results["pending"]
        ),
        "listed as passing but did not pass": sorted(passing - results["passes"]),
    } == {
        "passing but listed as failing": [],
        "failing but not listed as failing": [],
        "listed but not run": [],
        "listed as passing but did not pass": [],
    }
