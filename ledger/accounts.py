"""Chain accounts at rest: a private key sealed (AES-256-GCM) under the master key, owner-only."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from credentials.keys import open_secret, seal_secret
from infra.secrets import write_private


def save_account(path: Path, account: LocalAccount, key: bytes) -> None:
    """Seal a chain account's private key into a file only the owner can read."""
    write_private(Path(path), seal_secret(bytes(account.key), key) + "\n")


def load_account(path: Path, key: bytes) -> LocalAccount:
    """Open a sealed chain account."""
    return Account.from_key(open_secret(Path(path).read_text("utf-8").strip(), key))

