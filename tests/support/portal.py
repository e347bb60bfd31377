"""Helpers for portal tests: an accredited issuer on the runtime's chain, and form tokens."""

from __future__ import annotations

import re
from dataclasses import replace

from flask.testing import FlaskClient

from portal.runtime import Runtime
from tests.support.chains import TestChain
from tests.support.issuing import Issuer
from tests.support.samples import ISSUER_DID, ISSUER_KEY

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def runtime_issuer(runtime: Runtime) -> Issuer:
    """The sample issuer, accredited with its key registered on the runtime's own chain."""
    assert runtime.node is not None
    chain = TestChain(
        ledger=runtime.ledger,
        operator=runtime.chain.operator(),
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


def at_localhost(runtime: Runtime) -> Runtime:
    """The runtime with its public URL at http://localhost, the Flask test client's host."""
    runtime.settings = replace(runtime.settings, public_url="http://localhost")
    return runtime
