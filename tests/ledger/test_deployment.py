"""`creditbank new-account` and `creditbank deploy`: our contracts onto a chain reached over
JSON-RPC, with the operator's sealed key and the master key from the environment."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from ledger.accounts import load_account, save_account
from ledger.client import Ledger
from ledger.deployment import Deployment
from portal.cli import EXIT_DATA, EXIT_USAGE, main
from tests.support.ledger import operator_account, served_node
from tests.support.nodes import free_port


@pytest.fixture
def master_key(monkeypatch) -> bytes:
    """A master key in the environment, as on a server."""
    key = secrets.token_bytes(32)
    monkeypatch.setenv("CREDITBANK_MASTER_KEY", key.hex())
    monkeypatch.delenv("CREDITBANK_OPERATOR_KEY_FILE", raising=False)
    return key


@pytest.fixture
def embedded_url(tmp_path) -> Iterator[str]:
    """An embedded node served over HTTP; its operator is `operator_account()`."""
    with served_node(tmp_path / "chain") as url:
        yield url


def deployed(out: Path, url: str) -> tuple[Deployment, str]:
    """The written deployment and the operator its registry names."""
    deployment = Deployment.load(out)
    ledger = Ledger.connect([url], deployment)
    return deployment, ledger.read("IssuerRegistry", "operator")


def test_deploy_to_the_embedded_node_over_http_failing_over(
    embedded_url, master_key: bytes, tmp_path: Path, monkeypatch
) -> None:
    url = embedded_url
    key_file = tmp_path / "operator.key"
    save_account(key_file, operator_account(), master_key)
    monkeypatch.setenv("CREDITBANK_OPERATOR_KEY_FILE", str(key_file))
    out = tmp_path / "deployment.json"
    dead = f"http://127.0.0.1:{free_port()}"

    assert main(["deploy", "--ledger", dead, "--ledger", url, "--out", str(out)]) == 0

    deployment, operator = deployed(out, url)
    assert (deployment.chain_id, operator) == (2021, operator_account().address)
    assert deployment.block >= 1


def test_deploy_to_anvil(anvil_node, master_key: bytes, tmp_path: Path) -> None:
    operator = Account.from_key(anvil_node.funded_private_key)
    key_file = tmp_path / "operator.key"
    save_account(key_file, operator, master_key)
    out = tmp_path / "deployment.json"

    code = main(
        ["deploy", "--ledger", anvil_node.url, "--operator-key", str(key_file), "--out", str(out)]
    )

    assert code == 0
    deployment, registry_operator = deployed(out, anvil_node.url)
    assert (deployment.chain_id, registry_operator) == (anvil_node.chain_id, operator.address)


def test_new_account_is_sealed_under_the_master_key(
    master_key: bytes, tmp_path: Path, capsys
) -> None:
    key_file = tmp_path / "keys" / "issuer.key"

    assert main(["new-account", "--out", str(key_file)]) == 0

    address = capsys.readouterr().out.strip()
    assert load_account(key_file, master_key).address == address
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert main(["new-account", "--out", str(key_file)]) == EXIT_DATA


def test_deploy_refusals(
    embedded_url, master_key: bytes, tmp_path: Path, monkeypatch, capsys
) -> None:
    url = embedded_url
    monkeypatch.setenv("CREDITBANK_DATA", str(tmp_path / "empty"))
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    fresh = tmp_path / "deployment.json"

    codes = [
        main(["deploy", "--ledger", url, "--out", str(taken)]),
        main(["deploy", "--ledger", url, "--out", str(fresh)]),
        main(["deploy", "--out", str(fresh)]),
    ]

    errors = capsys.readouterr().err.splitlines()
    assert codes == [EXIT_DATA, EXIT_DATA, EXIT_USAGE]
    assert errors[:2] == [
        f"Error: {taken} exists: refusing to overwrite a deployment",
        f"Error: no operator key at {tmp_path / 'empty' / 'keys' / 'operator.key'}: "
        "give --operator-key or set CREDITBANK_OPERATOR_KEY_FILE",
    ]
    assert not fresh.exists()
