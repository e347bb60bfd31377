"""A credential revoked on chain is seen as revoked by Digital Bazaar's verifier with
@digitalbazaar/vc-bitstring-status-list, reading only the list the served portal publishes."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from issuers.anchoring import AnchoringWorker
from issuers.issuance import Issuance, outcomes_from_json
from issuers.registry import issuer_did_document, issuer_record
from issuers.revocation import request_revocation
from issuers.status import PUBLISH_PERIOD
from issuers.tables import credentials
from portal.app import create_app
from portal.runtime import Runtime
from tests.credentials.test_interop import bundled_contexts
from tests.support.issuer import accredited, outcome
from tests.support.paths import TESTS
from tests.support.served import ServedApp

CHECK_STATUS = TESTS / "js" / "check-status.mjs"

pytestmark = pytest.mark.skipif(
    not (TESTS / "js" / "node_modules").is_dir(),
    reason="tests/js/node_modules is missing: run `bash tests/install.sh`",
)


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: the lists are the same on either database (tests/issuers/test_status.py)."""
    return f"sqlite:///{tmp_path / 'creditbank.sqlite'}"


def check_status(credential: dict, did_document: dict) -> dict:
    """Run tests/js/check-status.mjs on `credential`, allowed to fetch only its status lists."""
    payload = {
        "credential": credential,
        "didDocuments": {did_document["id"]: did_document},
        "contexts": bundled_contexts(),
        "statusLists": [entry["statusListCredential"] for entry in credential["credentialStatus"]],
    }
    completed = subprocess.run(["node", str(CHECK_STATUS), "-"], input=json.dumps(payload),
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode != 2, completed.stderr
    return json.loads(completed.stdout)


@pytest.mark.timeout(120)
def test_digital_bazaar_sees_a_revocation_only_after_it_is_on_chain(runtime: Runtime) -> None:
    with ServedApp(create_app(runtime)) as served:
        runtime.settings = replace(runtime.settings, public_url=served.url)
        accredited(runtime)
        issuance = Issuance.of(runtime.engine, settings=runtime.settings)
        with runtime.engine.begin() as connection:
            done = issuance.issue(connection, issuer_record(runtime.engine, "demo-university"),
                                  outcomes_from_json([outcome()]), cryptosuite="eddsa-rdfc-2022")
        worker = AnchoringWorker(runtime.engine, runtime.ledger, settings=runtime.settings)
        worker.drain({batch for _, _, batch in done.credentials})
        with runtime.engine.connect() as connection:
            row = connection.execute(select(credentials.c.id, credentials.c.anchored)).one()
        credential = json.loads(row.anchored)
        did_document = issuer_did_document(runtime.engine, "demo-university")

        before = check_status(credential, did_document)
        with runtime.engine.begin() as connection:
            request_revocation(connection, "demo-university", reason=3, credential_id=row.id,
                               actor="cli:test")
        worker.revoke_pending()
        worker.publish_status_lists(now=time.monotonic() + PUBLISH_PERIOD)
        after = check_status(credential, did_document)

    index = int(credential["credentialStatus"][0]["statusListIndex"])
    assert (before["verified"], before["errors"], before["statuses"]) == (True, [], [
        {"purpose": "revocation", "index": index, "listed": False},
        {"purpose": "suspension", "index": index, "listed": False},
    ])
    assert (after["verified"], after["errors"], after["statuses"]) == (True, [], [
        {"purpose": "revocation", "index": index, "listed": True},
        {"purpose": "suspension", "index": index, "listed": False},
    ])
