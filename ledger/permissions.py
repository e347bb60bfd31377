"""The node's account allowlist over JSON-RPC, with Besu's `perm_*` methods and an admin token."""

from __future__ import annotations

from collections.abc import Sequence

import requests
from web3 import Web3

from ledger.errors import http_error, rpc_error, translated


def _call(url: str, admin_token: str, method: str, params: list[object]) -> object:
    """One authorised JSON-RPC call; node and HTTP failures become ours (`ledger.errors`)."""
    with translated():
        response = requests.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
    try:
        answer = response.json()
    except requests.JSONDecodeError:
        raise http_error(response.status_code) from None
    if not isinstance(answer, dict):
        raise http_error(response.status_code)
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
