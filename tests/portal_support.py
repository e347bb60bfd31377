"""Helpers for portal tests: an accredited issuer on the runtime's chain, and form tokens."""

from __future__ import annotations

import re

from chains import TestChain
from credential_samples import ISSUER_DID, ISSUER_KEY
from flask.testing import FlaskClient
from issuing import Issuer

from ledger.runtime import Runtime

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def runtime_issuer(runtime: Runtime) -> Issuer:
    """The sample issuer, accredited with its key registered on the runtime's own chain."""
    assert runtime.node is not None
    chain = TestChain(
        ledger=runtime.ledger,
        operator=runtime.settings.chain_home.operator(),
        deployment=runtime.deployment,
        node=runtime.node,
        allow=runtime.node.allow,
    )
    return Issuer(chain, ISSUER_DID, ISSUER_KEY)


def form_token(client: FlaskClient, path: str = "/verify") -> str:
    """The CSRF token the page at `path` puts in its forms (for this client's session)."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match is not None, f"no CSRF token in {path}"
    return match.group(1)
