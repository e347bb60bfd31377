"""The permissioned EVM ledger: an embedded py-evm node and the one web3 client."""

import os

os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
