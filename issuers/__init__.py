"""Issuers: accreditation, the catalogue of units, durable batch issuance, anchoring, revocation."""

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
