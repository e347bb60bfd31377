"""A wallet from npm presents to the served portal's OID4VP request (must show, issue 15).

`@openid4vc/openid4vp` (OpenWallet Foundation) parses and resolves the request from the QR link
and posts the response; `@digitalbazaar/vc` signs the presentation with the learner's did:key.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
import requests

from credentials import contexts
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.paths import TESTS
from tests.support.portal import runtime_issuer
from tests.support.served import ServedApp

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not (TESTS / "js" / "node_modules" / "@openid4vc" / "openid4vp").is_dir()
                       or shutil.which("node") is None,
                       reason="tests/js/node_modules is missing: run `bash tests/install.sh`"),
]

WALLET = TESTS / "js" / "wallet-oid4vp.mjs"
LEARNER_SEED = bytes(range(32, 64)).hex()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def portal(runtime: Runtime) -> Iterator[ServedApp]:
    """The portal served on 127.0.0.1 at its public URL; it reads revocations on every request."""
    app = create_app(runtime)
    with ServedApp(app) as served:
        runtime.settings = replace(runtime.settings, public_url=served.url,
                                   verify_cache_seconds=0)
        yield served


def bundled_contexts() -> dict[str, str]:
    """Context URL → path of the file the credentials package bundles for it."""
    directory = Path(contexts.__file__).parent / "contexts"
    return {url: str(directory / name) for url, name in contexts.FILES.items()}


def ask(portal: ServedApp) -> tuple[requests.Session, str, str]:
    """An employer asks on the verification page: their session, the page URL and the QR link."""
    employer = requests.Session()
    token = CSRF.search(employer.get(portal.url + "/verify", timeout=10).text).group(1)
    asked = employer.post(portal.url + "/verify/wallet", data={"csrf_token": token,
                                                              "unit_code": "CS101"},
                          allow_redirects=False, timeout=10)
    assert asked.status_code == 303, asked.text
    page = asked.headers["Location"]
    html = employer.get(page, timeout=10).text
    assert "data-request-qr" in html and "<svg" in html
    return employer, page, unescape(re.search(r'href="(openid4vp://[^"]+)"', html).group(1))


def wallet_presents(link: str, credential: dict) -> dict:
    """Run the npm wallet on the link; what it printed (it exits 1 unless the portal said 200)."""
    payload = {"link": link, "credential": credential, "seed": LEARNER_SEED,
               "contexts": bundled_contexts()}
    completed = subprocess.run(["node", str(WALLET), "-"], input=json.dumps(payload),
                               capture_output=True, text=True, timeout=90, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return json.loads(completed.stdout)


def shown(employer: requests.Session, page: str) -> tuple[str, str]:
    """The page's overall verdict and HTML."""
    html = employer.get(page, timeout=10).text
    return html.split('data-presentation-verdict="', 1)[1].split('"', 1)[0], html


def test_wallet_presents_a_valid_a_tampered_and_a_revoked_credential(
        runtime: Runtime, portal: ServedApp) -> None:
    issuer = runtime_issuer(runtime)
    [valid] = issuer.anchor([issuer.sign(1)])
    [revoked] = issuer.anchor([issuer.sign(2)])
    tampered = json.loads(json.dumps(valid))
    tampered["credentialSubject"]["creditsEarned"] = 30

    employer, page, link = ask(portal)
    result = wallet_presents(link, valid)
    assert (result["clientPrefix"], result["queryId"]) == ("redirect_uri", "achievement")
    assert result["clientId"] == f"redirect_uri:{portal.url}/oid4vp/response"
    verdict, html = shown(employer, page)
    assert verdict == "VALID", html
    for check in ("proof", "challenge", "holder_binding", "query"):
        assert f'data-presentation-check="{check}" data-status="VALID"' in html

    employer, page, link = ask(portal)
    wallet_presents(link, tampered)
    verdict, html = shown(employer, page)
    assert verdict == "INVALID"
    assert 'data-check="proof" data-status="INVALID"' in html
    assert 'data-failed-check="proof"' in html
    assert 'data-presentation-check="proof" data-status="VALID"' in html

    root = bytes.fromhex(revoked["proof"][1]["merkleRoot"][2:])
    issuer.chain.ledger.transact(issuer.account, "CredentialAnchor", "revokeRoot", root, 3)
    employer, page, link = ask(portal)
    wallet_presents(link, revoked)
    verdict, html = shown(employer, page)
    assert verdict == "INVALID"
    assert 'data-check="status" data-status="INVALID"' in html
    assert 'data-failed-check="status"' in html
