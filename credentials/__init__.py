"""Credentials: W3C VC 2.0 / Open Badges 3.0 model, canonical forms, Data Integrity proofs,
Merkle batches, keys and DIDs. Pure code: no I/O at sign or verify time."""

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
