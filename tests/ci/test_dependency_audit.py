"""The dependency audit (.ci/audit.py) against PyPI and npm advisory servers of the tests' own."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.paths import ROOT

AUDIT = ROOT / ".ci" / "audit.py"


def advisory(id: str, *aliases: str, fixed_in: tuple[str, ...] = (), withdrawn: str | None = None
             ) -> dict:
    """An advisory as PyPI's JSON API lists it."""
    return {"id": id, "aliases": list(aliases), "details": f"details of {id}\nmore",
            "summary": None, "fixed_in": list(fixed_in), "link": f"https://osv.dev/{id}",
            "source": "osv", "withdrawn": withdrawn}


def project(latest: str, releases: dict[str, list[dict]], vulnerabilities: list[dict] = ()
            ) -> dict:
    """A PyPI project document: the latest release's advisories and every release's files."""
    return {"info": {"version": latest}, "releases": releases, "urls": releases.get(latest, []),
            "vulnerabilities": list(vulnerabilities)}


def wheel(yanked: bool = False, reason: str | None = None) -> dict:
    """One file of a release."""
    return {"filename": "x.whl", "yanked": yanked, "yanked_reason": reason}


class Registry:
    """A PyPI JSON API and npm advisory endpoint on 127.0.0.1, answering from a dict."""

    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}
        self.npm_advisories: dict[str, list[dict]] | None = None
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def reply(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                document = registry.documents.get(self.path)
                self.reply(200, document) if document is not None else self.reply(404, {})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                registry.requests.append(f"POST {self.path} {body.decode()}")
                if registry.npm_advisories is None:
                    self.reply(405)
                else:
                    self.reply(200, registry.npm_advisories)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def registry() -> Iterator[Registry]:
    served = Registry()
    yield served
    served.close()


def run_audit(tmp_path: Path, registry: Registry, installed: str, accepted: str = "",
              *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "installed.txt").write_text(installed)
    (tmp_path / "accepted.toml").write_text(accepted)
    return subprocess.run(
        [sys.executable, str(AUDIT), "--pypi", registry.url,
         "--installed", str(tmp_path / "installed.txt"),
         "--accepted", str(tmp_path / "accepted.toml"), *extra],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "npm_config_cache": str(tmp_path / "npm-cache")},
    )


def test_advisory_on_the_installed_latest_release_fails_the_audit(tmp_path, registry):
    registry.documents["/pypi/alpha/json"] = project("1.0", {"1.0": [wheel()]}, [
        advisory("GHSA-aaaa-bbbb-cccc", "CVE-2026-0001", fixed_in=("1.1",)),
        advisory("PYSEC-2026-9", withdrawn="2026-05-01T00:00:00Z"),
    ])
    registry.documents["/pypi/beta/json"] = project("2.0", {"2.0": [wheel()]})

    result = run_audit(tmp_path, registry, "Alpha==1.0\nbeta==2.0\n", "", "--no-node")

    assert result.returncode == 1, result.stdout + result.stderr
    assert ("FOUND     alpha 1.0 GHSA-aaaa-bbbb-cccc (CVE-2026-0001): details of "
            "GHSA-aaaa-bbbb-cccc; fixed in 1.1") in result.stdout
    assert "PYSEC-2026-9" not in result.stdout
    assert ("python: 2 of 2 packages checked against PyPI's advisories (2 at their latest "
            "release), 1 unaccepted finding(s)") in result.stdout


def test_an_accepted_advisory_passes_with_its_reason_and_stale_entries_are_named(
        tmp_path, registry):
    registry.documents["/pypi/alpha/json"] = project("1.0", {"1.0": [wheel()]}, [
        advisory("GHSA-aaaa-bbbb-cccc", "CVE-2026-0001"),
    ])
    accepted = """
[[accepted]]
package = "alpha"
id = "CVE-2026-0001"
reason = "only affects the Windows build"

[[accepted]]
package = "alpha"
id = "GHSA-gone-gone-gone"
reason = "was reported once"
"""
    result = run_audit(tmp_path, registry, "alpha==1.0\n", accepted, "--no-node")

    assert result.returncode == 0, result.stdout + result.stderr
    assert ("accepted  alpha 1.0 GHSA-aaaa-bbbb-cccc (CVE-2026-0001): only affects the Windows "
            "build") in result.stdout
    assert ("stale     alpha GHSA-gone-gone-gone is accepted but no longer reported; remove it"
            in result.stdout)


def test_an_older_release_is_checked_by_its_own_document_or_listed_unaudited(
        tmp_path, registry):
    registry.documents["/pypi/alpha/json"] = project("3.0", {"2.0": [wheel()], "3.0": [wheel()]})
    registry.documents["/pypi/beta/json"] = project("5.0", {"4.0": [wheel()], "5.0": [wheel()]})
    registry.documents["/pypi/beta/4.0/json"] = {
        "info": {"version": "4.0"}, "urls": [wheel()],
        "vulnerabilities": [advisory("GHSA-beta-beta-beta", fixed_in=("5.0",))],
    }

    result = run_audit(tmp_path, registry, "alpha==2.0\nbeta==4.0\n", "", "--no-node")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FOUND     beta 4.0 GHSA-beta-beta-beta: details of GHSA-beta-beta-beta; fixed in 5.0" \
        in result.stdout
    assert ("unaudited alpha 2.0, latest 3.0: not the latest release, and PyPI does not serve "
            "its release document here") in result.stdout
    assert "python: 1 of 2 packages checked" in result.stdout
    assert "/pypi/alpha/2.0/json" in registry.requests


def test_a_yanked_release_fails_the_audit_with_its_reason(tmp_path, registry):
    registry.documents["/pypi/alpha/json"] = project("2.0", {
        "1.5": [wheel(yanked=True, reason="leaks the session key"), wheel(yanked=True)],
        "2.0": [wheel()],
    })
    result = run_audit(tmp_path, registry, "alpha==1.5\n", "", "--no-node")

    assert result.returncode == 1
    assert "FOUND     alpha 1.5 YANKED: leaks the session key" in result.stdout


def test_a_package_pypi_does_not_know_is_listed_unaudited(tmp_path, registry):
    result = run_audit(tmp_path, registry, "in-house-tool==0.1\n", "", "--no-node")

    assert result.returncode == 0
    assert "unaudited in-house-tool 0.1: not on PyPI" in result.stdout


def test_unreachable_pypi_is_an_error_not_a_pass(tmp_path, registry):
    registry.close()
    result = run_audit(tmp_path, registry, "alpha==1.0\n", "", "--no-node")

    assert result.returncode == 2
    assert "PyPI unreachable, nothing audited" in result.stderr


@pytest.mark.parametrize(("installed", "accepted", "message"), [
    ("alpha 1.0\n", "", "installed.txt:1: expected name==version, got 'alpha 1.0'"),
    ("alpha==1.0\n", '[[accepted]]\npackage = "alpha"\nid = "X"\n',
     "accepted.toml: accepted entry 1 lacks reason"),
    ("alpha==1.0\n", "[[accepted]\n", "audit: Expected ']]'"),
])
def test_bad_audit_inputs_are_named(tmp_path, registry, installed, accepted, message):
    result = run_audit(tmp_path, registry, installed, accepted, "--no-node")

    assert result.returncode == 64
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def node_project(tmp_path) -> Path:
    """A locked Node project with one dependency (npm audit reads only the lock file)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    project_dir = tmp_path / "node"
    project_dir.mkdir()
    (project_dir / "package.json").write_text(json.dumps({
        "name": "audited", "version": "1.0.0", "private": True,
        "dependencies": {"is-number": "7.0.0"},
    }))
    (project_dir / "package-lock.json").write_text(json.dumps({
        "name": "audited", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {
            "": {"name": "audited", "version": "1.0.0", "dependencies": {"is-number": "7.0.0"}},
            "node_modules/is-number": {
                "version": "7.0.0",
                "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
                "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QK"
                             "PDlK9cGvNp6NZWZUBlbGXYxxng==",
            },
        },
    }))
    return project_dir


def test_npm_advisories_fail_the_audit(tmp_path, registry, node_project):
    registry.npm_advisories = {"is-number": [{
        "id": 1, "url": "https://example.test/advisories/1", "title": "Prototype pollution",
        "severity": "high", "vulnerable_versions": "<8.0.0", "cwe": [],
        "cvss": {"score": 7.5, "vectorString": None},
    }]}
    result = run_audit(tmp_path, registry, "", "", "--node", str(node_project),
                       "--npm-registry", registry.url + "/")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FOUND     is-number high: Prototype pollution" in result.stdout
    assert f"node ({node_project}): 1 advisory(ies) in the lock file, 1 moderate or worse" \
        in result.stdout
    assert 'POST /-/npm/v1/security/advisories/bulk {"is-number":["7.0.0"]}' in registry.requests


def test_a_refused_npm_advisory_endpoint_is_reported_as_not_audited(
        tmp_path, registry, node_project):
    result = run_audit(tmp_path, registry, "", "", "--node", str(node_project),
                       "--npm-registry", registry.url + "/")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"node ({node_project}): advisories unavailable here, Node packages not audited (405" \
        in result.stdout
