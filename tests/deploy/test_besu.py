"""deploy/besu/make_network.py: a QBFT network's genesis, allowlists and node configs, checked
structurally (Besu itself does not run here), and the committed TEST-ONLY sample kept current."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import rlp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from eth_keys import keys

from tests.deploy.besu_schema import (
    NODE_CONFIG,
    PERMISSIONS,
    genesis_errors,
    schema_errors,
)
from tests.support.documents import changed
from tests.support.paths import ROOT

BESU = ROOT / "deploy" / "besu"
SCRIPT = BESU / "make_network.py"
SAMPLE = BESU / "sample"
OPERATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ISSUER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
NODES = ("node-1", "node-2", "node-3", "node-4")


def make_network(*arguments: str) -> subprocess.CompletedProcess:
    """Run the script and capture its output."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=60
    )


def node_key(folder: Path) -> keys.PrivateKey:
    """A node's private key from its key file."""
    return keys.PrivateKey(bytes.fromhex(folder.joinpath("key").read_text().strip()[2:]))


def enode(key: keys.PrivateKey, port: int) -> str:
    """The enode URL of a local node."""
    return f"enode://{key.public_key.to_hex()[2:]}@127.0.0.1:{port}"


def unbase64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_network_files(tmp_path: Path) -> None:
    out = tmp_path / "network"
    made = make_network("--out", str(out), "--operator", OPERATOR.lower(), "--issuer", ISSUER)
    assert made.returncode == 0, made.stderr

    node_keys = [node_key(out / name) for name in NODES]
    addresses = [key.public_key.to_checksum_address() for key in node_keys]
    enodes = [enode(key, 30303 + index) for index, key in enumerate(node_keys)]
    assert made.stdout.splitlines() == [f"{a} {e}" for a, e in zip(addresses, enodes, strict=True)]
    assert len(set(addresses)) == 4

    genesis = json.loads((out / "genesis.json").read_text())
    assert genesis["config"]["chainId"] == 2021
    assert genesis["config"]["qbft"] == {
        "blockperiodseconds": 2,
        "epochlength": 30000,
        "requesttimeoutseconds": 4,
    }
    assert (genesis["config"]["shanghaiTime"], genesis["config"]["zeroBaseFee"]) == (0, True)
    vanity, validators, vote, round_number, seals = rlp.decode(
        bytes.fromhex(genesis["extraData"][2:])
    )
    assert (vanity, vote, round_number, seals) == (b"\x00" * 32, [], b"", [])
    assert validators == [bytes.fromhex(address[2:]) for address in addresses]

    for index, name in enumerate(NODES):
        folder = out / name
        assert folder.joinpath("key").stat().st_mode & 0o777 == 0o600
        permissions = tomllib.loads(folder.joinpath("permissions_config.toml").read_text())
        assert permissions == {"accounts-allowlist": [OPERATOR, ISSUER], "nodes-allowlist": enodes}
        config = tomllib.loads(folder.joinpath("config.toml").read_text())
        assert config["bootnodes"] == enodes[:index] + enodes[index + 1 :]
        assert (config["p2p-port"], config["rpc-http-port"]) == (30303 + index, 8545 + index)
        assert {
            option: config[option]
            for option in (
                "genesis-file",
                "node-private-key-file",
                "min-gas-price",
                "rpc-http-enabled",
                "permissions-accounts-config-file-enabled",
                "permissions-accounts-config-file",
                "permissions-nodes-config-file-enabled",
                "permissions-nodes-config-file",
                "rpc-http-authentication-enabled",
                "rpc-http-authentication-jwt-public-key-file",
            )
        } == {
            "genesis-file": "../genesis.json",
            "node-private-key-file": "key",
            "min-gas-price": 0,
            "rpc-http-enabled": True,
            "permissions-accounts-config-file-enabled": True,
            "permissions-accounts-config-file": "permissions_config.toml",
            "permissions-nodes-config-file-enabled": True,
            "permissions-nodes-config-file": "permissions_config.toml",
            "rpc-http-authentication-enabled": True,
            "rpc-http-authentication-jwt-public-key-file": "jwt-public.pem",
        }
        assert {"PERM", "QBFT", "ETH"} <= set(config["rpc-http-api"])
        assert "perm_addAccountsToAllowlist" not in config["rpc-http-api-methods-no-auth"]


def test_admin_token_is_a_jwt_the_nodes_accept(tmp_path: Path) -> None:
    out = tmp_path / "network"
    assert make_network("--out", str(out), "--operator", OPERATOR).returncode == 0
    token = (out / "admin.token").read_text().strip()

    header, claims, signature = token.split(".")
    public_key = serialization.load_pem_public_key((out / "node-3" / "jwt-public.pem").read_bytes())
    public_key.verify(  # type: ignore[union-attr]
        unbase64url(signature),
        f"{header}.{claims}".encode(),
        padding.PKCS1v15(),  # type: ignore[call-arg]
        hashes.SHA256(),  # type: ignore[call-arg]
    )
    payload = json.loads(unbase64url(claims))
    assert json.loads(unbase64url(header)) == {"alg": "RS256", "typ": "JWT"}
    assert payload["permissions"] == ["*:*"]
    assert payload["exp"] > time.time() + 300 * 86_400
    assert (out / "jwt-private.pem").stat().st_mode & 0o777 == 0o600

    genesis = (out / "genesis.json").read_text()
    assert make_network("--out", str(out), "--renew-admin-token").returncode == 0
    assert (out / "admin.token").read_text().strip() != token
    assert (out / "genesis.json").read_text() == genesis


def test_hosts_and_refusals(tmp_path: Path) -> None:
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
    host_options = [option for host in hosts for option in ("--host", host)]
    out = tmp_path / "network"
    assert make_network("--out", str(out), "--operator", OPERATOR, *host_options).returncode == 0
    config = tomllib.loads((out / "node-2" / "config.toml").read_text())
    assert (config["p2p-host"], config["p2p-port"], config["rpc-http-host"]) == (
        "10.0.0.2",
        30303,
        "0.0.0.0",
    )

    refusals = [
        make_network("--out", str(tmp_path / "a"), "--operator", OPERATOR, "--validators", "3"),
        make_network("--out", str(tmp_path / "b"), "--operator", OPERATOR, "--host", "10.0.0.1"),
        make_network("--out", str(tmp_path / "c"), "--operator", "0x1234"),
        make_network("--out", str(tmp_path / "d")),
    ]
    assert [refused.returncode for refused in refusals] == [2, 2, 2, 2]
    assert [refused.stderr.splitlines()[-1].split("error: ")[1] for refused in refusals] == [
        "QBFT needs at least 4 validators to tolerate one fault",
        "give --host once per validator (4), or not at all",
        "argument --operator: not an account address: '0x1234'",
        "--operator is required",
    ]
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_committed_sample_is_current(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    made = make_network(
        "--out", str(out), "--test-keys", "--operator", OPERATOR, "--issuer", ISSUER
    )
    assert made.returncode == 0, made.stderr
    committed = sorted(
        path.relative_to(SAMPLE) for path in SAMPLE.rglob("*") if path.suffix in (".json", ".toml")
    )
    assert len(committed) == 9
    for path in committed:
        assert (out / path).read_text() == (SAMPLE / path).read_text(), path
    assert (SAMPLE / "node-1" / "config.toml").read_text().startswith("# TEST-ONLY network")


def network_documents(folder: Path) -> dict[str, object]:
    """A generated network's genesis, node configs and permission files, parsed, by path."""
    documents: dict[str, object] = {
        "genesis.json": json.loads((folder / "genesis.json").read_text())
    }
    for name in NODES:
        for file in ("config.toml", "permissions_config.toml"):
            documents[f"{name}/{file}"] = tomllib.loads((folder / name / file).read_text())
    return documents


def document_errors(path: str, document: object) -> list[str]:
    """The errors Besu's documented schema finds in one of a network's files."""
    if path == "genesis.json":
        return genesis_errors(document)
    schema = PERMISSIONS if path.endswith("permissions_config.toml") else NODE_CONFIG
    return schema_errors(schema, document)


@pytest.mark.parametrize("hosts", [(), ("10.1.0.11", "10.2.0.11", "10.3.0.11", "10.4.0.11")])
def test_generated_files_follow_besus_documented_schema(tmp_path: Path, hosts: tuple) -> None:
    out = tmp_path / "network"
    arguments = [argument for host in hosts for argument in ("--host", host)]
    made = make_network("--out", str(out), "--operator", OPERATOR, "--issuer", ISSUER, *arguments)
    assert made.returncode == 0, made.stderr
    for folder in (out, SAMPLE):
        documents = network_documents(folder)
        assert len(documents) == 9
        assert {path: document_errors(path, doc) for path, doc in documents.items()} == {
            path: [] for path in documents
        }


def test_the_schema_refuses_wrong_keys_types_and_values() -> None:
    documents = network_documents(SAMPLE)
    genesis = documents["genesis.json"]
    config = documents["node-1/config.toml"]
    permissions = documents["node-1/permissions_config.toml"]
    assert isinstance(genesis, dict) and isinstance(config, dict) and isinstance(permissions, dict)
    vanity, validators = b"\x00" * 32, [bytes(20), b"\x01" * 20]

    def extra(*items: object) -> str:
        return "0x" + rlp.encode(list(items)).hex()

    genesis_cases = {
        "shanghaiBlock": changed(genesis, ("config", "shanghaiBlock"), 0),
        "blockperiodseconds as a string": changed(
            genesis, ("config", "qbft", "blockperiodseconds"), "2"
        ),
        "no epochlength": changed(genesis, ("config", "qbft", "epochlength"), ...),
        "blockperiod": changed(genesis, ("config", "qbft", "blockperiod"), 2),
        "zero request timeout": changed(genesis, ("config", "qbft", "requesttimeoutseconds"), 0),
        "timeout under the period": changed(
            genesis, ("config", "qbft", "requesttimeoutseconds"), 1
        ),
        "difficulty": changed(genesis, ("difficulty",), "0x0"),
        "gasLimit as a number": changed(genesis, ("gasLimit",), 60_000_000),
        "extraData not hex": changed(genesis, ("extraData",), "0xzz"),
        "vanity 31 bytes": changed(
            genesis, ("extraData",), extra(b"\x00" * 31, validators, [], 0, [])
        ),
        "no validators": changed(genesis, ("extraData",), extra(vanity, [], [], 0, [])),
        "round 1": changed(genesis, ("extraData",), extra(vanity, validators, [], 1, [])),
        "a seal": changed(
            genesis, ("extraData",), extra(vanity, validators, [], 0, [b"\x01" * 65])
        ),
        "short validator": changed(
            genesis, ("extraData",), extra(vanity, [b"\x01" * 19], [], 0, [])
        ),
    }
    config_cases = {
        "an unknown option": changed(config, ("rpc-http-apis-enabled",), True),
        "p2p-port as text": changed(config, ("p2p-port",), "thirty"),
        "port out of range": changed(config, ("rpc-http-port",), 70_000),
        "sync-mode LIGHT": changed(config, ("sync-mode",), "LIGHT"),
        "an unknown API": changed(config, ("rpc-http-api",), ["ETH", "SHH"]),
        "enabled as a string": changed(config, ("rpc-http-enabled",), "true"),
        "APIs without HTTP": changed(config, ("rpc-http-enabled",), ...),
        "a bad enode": changed(config, ("bootnodes",), ["enode://abc@127.0.0.1:30303"]),
    }
    permission_cases = {
        "accounts-whitelist": changed(permissions, ("accounts-whitelist",), []),
        "a short account": changed(permissions, ("accounts-allowlist",), ["0x1234"]),
    }
    refused = {name: genesis_errors(document) for name, document in genesis_cases.items()}
    refused |= {name: schema_errors(NODE_CONFIG, doc) for name, doc in config_cases.items()}
    refused |= {name: schema_errors(PERMISSIONS, doc) for name, doc in permission_cases.items()}
    assert [name for name, errors in refused.items() if not errors] == []
    assert any("shanghaiBlock" in error for error in refused["shanghaiBlock"])
    assert any("rpc-http-apis-enabled" in error for error in refused["an unknown option"])
    assert refused["round 1"] == ["the genesis round is not 0"]
