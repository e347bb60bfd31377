"""Fixtures of the verifier's tests."""

from __future__ import annotations

import pytest

from tests.support.samples import ISSUER_DID, ISSUER_KEY
from tests.support.verify import ISSUER_ID, MemoryLedger


@pytest.fixture
def ledger() -> MemoryLedger:
    """A ledger on which the demo issuer is accredited with its key registered at block 1."""
    ledger = MemoryLedger()
    ledger.accredit(ISSUER_DID)
    ledger.register_key(ISSUER_ID, ISSUER_KEY.public_key, block=1)
    return ledger
