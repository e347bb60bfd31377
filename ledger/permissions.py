"""The node's account allowlist over JSON-RPC, with Besu's `perm_*` methods and an admin token."""

from __future__ import annotations

from collections.abc import Sequence

import requests
from web3 import Web3

from ledger.errors import LedgerUnavailable, rpc_error


def _call(url: str, admin_token: str, method: str, params: list[object]) -> object:
    """One authorised JSON-RPC call; node errors become ours."""
    try:
        response = requests.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
        answer = response.json()
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise LedgerUnavailable(f"ledger unreachable: {exc.__class__.__name__}") from exc
    if "error" in answer:
        raise rpc_error(answer["error"])
    return answer.get("result")


def allow_accounts(url: str, admin_token: str, addresses: Sequence[str]) -> None:
    """Add accounts to the node's allowlist."""
    checksummed = [Web3.to_checksum_address(address) for address in addresses]
    _call(url, admin_token, "perm_addAccountsToAllowlist", [checksummed])


def disallow_accounts(url: str, admin_token: str, addresses: Sequence[str]) -> None:
    """Remove accounts from the node's allowlist."""
    checksummed = [Web3.to_checksum_address(address) for address in addresses]
    _call(url, admin_token, "perm_removeAccountsFromAllowlist", [checksummed])


def allowed_accounts(url: str, admin_token: str) -> list[str]:
    """The node's allowlist."""
    result = _call(url, admin_token, "perm_getAccountsAllowlist", [])
    return [str(address) for address in result] if isinstance(result, list) else []
