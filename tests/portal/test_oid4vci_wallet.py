"""A wallet library from npm (the OpenWallet Foundation's @openid4vc/openid4vci) takes a learner's
offer through the pre-authorized code flow against the served portal, and stores the anchored
credential, which Digital Bazaar's verifier accepts; used, expired and wrong-code offers are
refused at the token endpoint with the spec's error."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bank.wallet import create_offer, holder_bound
from issuers.registry import issuer_did_document
from issuers.tables import credentials
from portal.app import create_app
from portal.oid4vci import offer_links
from portal.runtime import Runtime
from tests.credentials.test_interop import independent_verify
from tests.support.bank import city_bank, outcome
from tests.support.browser import ServedPortal
from tests.support.paths import TESTS

WALLET = TESTS / "js" / "wallet-oid4vci.mjs"
WALLET_LIBRARY = TESTS / "js" / "node_modules" / "@openid4vc" / "openid4vci"
REFUSED = {"stage": "token", "error": "invalid_grant"}

pytestmark = pytest.mark.skipif(
    not WALLET_LIBRARY.is_dir(),
    reason="@openid4vc/openid4vci is missing: run `bash tests/install.sh`",
)


def wallet_takes(offers: list[dict], store: Path) -> dict:
    """Run the npm wallet on these offers; what it printed."""
    completed = subprocess.run(
        ["node", str(WALLET), json.dumps({"offers": offers, "store": str(store)})],
        capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_an_npm_wallet_receives_the_anchored_credential_and_bad_offers_are_refused(
        runtime: Runtime, tmp_path: Path) -> None:
    bank = city_bank(runtime, approve=False)
    header = bank.open_account()
    [credential_id] = bank.issue("hdvc", [outcome("WH110", "B+")])
    app = create_app(runtime)
    client = app.test_client()
    path = f"/api/v1/learners/me/credentials/{credential_id}/offers"
    with ServedPortal(app):
        good, wrong_code = (client.post(path, headers=header).json for _ in range(2))
        learner = runtime.accounts.by_did(
            client.get("/api/v1/learners/me", headers=header).json["account"]["did"])
        expired = create_offer(runtime.engine, learner, credential_id, now=time.time() - 601)
        with app.test_request_context():
            _uri, expired_link = offer_links(expired.pre_authorized_code)
        wrong = str((int(wrong_code["tx_code"]) + 1) % 10**6).zfill(6)
        taken = wallet_takes([
            {"link": good["link"], "tx_code": good["tx_code"]},
            {"link": good["link"], "tx_code": good["tx_code"]},
            {"link": expired_link, "tx_code": expired.tx_code},
            {"link": wrong_code["link"], "tx_code": wrong},
        ], tmp_path)
    received, reused, too_late, guessed = taken["results"]
    stored = json.loads(Path(received["stored"]).read_text())
    with runtime.engine.connect() as connection:
        anchored = json.loads(connection.execute(select(credentials.c.anchored).where(
            credentials.c.id == credential_id)).scalar_one())
        bound = holder_bound(connection, credential_id, taken["thumbprint"])
    issuer_did = anchored["issuer"]["id"]
    status, verdict = independent_verify(
        stored, {issuer_did: issuer_did_document(runtime.engine, "hdvc")})
    assert (received["version"], stored) == ("V1", anchored)
    assert bound is not None
    assert [{key: result.get(key) for key in REFUSED} for result in (reused, too_late, guessed)
            ] == [REFUSED] * 3
    assert (status, verdict["verified"], verdict["errors"]) == (0, True, [])
