"""Generate a Besu QBFT consortium: validator keys, genesis, allowlists and each node's config.

    python deploy/besu/make_network.py --out deploy/besu/network --operator 0xOPERATOR \\
        [--issuer 0xISSUER ...] [--host node1.example.org ... (one per validator)]

Writes into --out (git-ignored: it holds private keys):
    genesis.json                  QBFT genesis whose extraData names the validators
    node-N/key, node-N/key.pub    validator N's node key (mode 0600) and public key
    node-N/config.toml            Besu options for validator N (run `besu --config-file=config.toml`
                                  from inside node-N/)
    node-N/permissions_config.toml  local account and node allowlists (Besu rewrites it on
                                  perm_* calls, so each node owns its copy)
    node-N/jwt-public.pem         the key that signs admin tokens (admin APIs need a JWT)
    jwt-private.pem, admin.token  that signing key and a JWT for the perm_/qbft_/admin_ APIs
                                  (mode 0600; keep them with the operations team, not on nodes)

`--renew-admin-token` replaces only the JWT key pair and admin token of an existing --out folder.

`--test-keys` derives the validator keys from public, fixed seeds: for tests and samples ONLY.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rlp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from eth_hash.auto import keccak
from eth_keys import keys
from eth_utils import is_address, to_checksum_address

CHAIN_ID = 2021
VALIDATORS = 4
BLOCK_PERIOD_SECONDS = 2
EPOCH_LENGTH = 30_000
REQUEST_TIMEOUT_SECONDS = 4
GAS_LIMIT = 60_000_000
P2P_PORT = 30303
RPC_PORT = 8545
LOCAL_HOST = "127.0.0.1"
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
TEST_SEED = b"creditbank besu TEST-ONLY validator key "
TEST_ONLY = "TEST-ONLY network: its validator keys come from PUBLIC seeds; never run it for real."
ADMIN_TOKEN_DAYS = 365
RPC_APIS = ("ETH", "NET", "WEB3", "TXPOOL", "QBFT", "PERM", "ADMIN")
PUBLIC_METHODS = (
    "net_version",
    "eth_chainId",
    "eth_blockNumber",
    "eth_syncing",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_getTransactionReceipt",
    "eth_getTransactionByHash",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getLogs",
)


@dataclass(frozen=True)
class Validator:
    """One validator institution's node: its key and where its peers reach it."""

    key: keys.PrivateKey
    host: str
    p2p_port: int
    rpc_port: int

    @property
    def address(self) -> str:
        """The validator's address, as listed in the genesis extraData."""
        return self.key.public_key.to_checksum_address()

    @property
    def enode(self) -> str:
        """The node's enode URL, as listed in the nodes allowlist."""
        return f"enode://{self.key.public_key.to_hex()[2:]}@{self.host}:{self.p2p_port}"


def validator_keys(count: int, *, test_keys: bool) -> list[keys.PrivateKey]:
    """Fresh random node keys, or (test only) keys derived from public fixed seeds."""
    if test_keys:
        return [keys.PrivateKey(keccak(TEST_SEED + bytes([index]))) for index in range(count)]
    return [keys.PrivateKey(os.urandom(32)) for _ in range(count)]


def validators_of(
    node_keys: Sequence[keys.PrivateKey], hosts: Sequence[str]
) -> list[Validator]:
    """Validators on the given hosts (one each), or all on 127.0.0.1 with distinct ports."""
    if hosts:
        return [
            Validator(key, host, P2P_PORT, RPC_PORT)
            for key, host in zip(node_keys, hosts, strict=True)
        ]
    return [
        Validator(key, LOCAL_HOST, P2P_PORT + index, RPC_PORT + index)
        for index, key in enumerate(node_keys)
    ]


def qbft_extra_data(addresses: Sequence[str]) -> str:
    """RLP([32-byte vanity, [validators], no vote, round 0, no seals]) as 0x-hex."""
    validators = [bytes.fromhex(address[2:]) for address in addresses]
    return "0x" + rlp.encode([b"\x00" * 32, validators, [], 0, []]).hex()


def genesis(chain_id: int, addresses: Sequence[str]) -> dict:
    """A QBFT genesis: London…Shanghai from block 0 (our contracts target shanghai), free gas."""
    return {
        "config": {
            "chainId": chain_id,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "muirGlacierBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": BLOCK_PERIOD_SECONDS,
                "epochlength": EPOCH_LENGTH,
                "requesttimeoutseconds": REQUEST_TIMEOUT_SECONDS,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {},
        "extraData": qbft_extra_data(addresses),
    }


def toml_value(value: object) -> str:
    """A TOML literal for a string, integer, boolean or list of strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def toml(header: str, values: dict[str, object]) -> str:
    """A flat TOML document under a comment header."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [f"{name}={toml_value(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def permissions_config(
    accounts: Sequence[str], validators: Sequence[Validator], note: str = ""
) -> str:
    """The local allowlists: accounts that may send transactions, nodes that may peer."""
    return toml(
        note + "Local permissioning (Besu rewrites this file when perm_* methods change it).",
        {
            "accounts-allowlist": list(accounts),
            "nodes-allowlist": [validator.enode for validator in validators],
        },
    )


def node_config(validator: Validator, validators: Sequence[Validator], note: str = "") -> str:
    """Besu options for one validator, with paths relative to its node directory."""
    return toml(
        f"{note}Besu QBFT validator {validator.address}:\n"
        "run `besu --config-file=config.toml` in this folder.\n"
        "Admin APIs need a JWT signed by jwt-public.pem's key (see deploy/besu/RUNBOOK.md).",
        {
            "data-path": "data",
            "genesis-file": "../genesis.json",
            "node-private-key-file": "key",
            "p2p-host": validator.host,
            "p2p-port": validator.p2p_port,
            "bootnodes": [peer.enode for peer in validators if peer is not validator],
            "sync-mode": "FULL",
            "min-gas-price": 0,
            "rpc-http-enabled": True,
            "rpc-http-host": validator.host if validator.host == LOCAL_HOST else "0.0.0.0",
            "rpc-http-port": validator.rpc_port,
            "rpc-http-api": list(RPC_APIS),
            "host-allowlist": list(dict.fromkeys(("localhost", "127.0.0.1", validator.host))),
            "rpc-http-authentication-enabled": True,
            "rpc-http-authentication-jwt-public-key-file": "jwt-public.pem",
            "rpc-http-api-methods-no-auth": list(PUBLIC_METHODS),
            "permissions-accounts-config-file-enabled": True,
            "permissions-accounts-config-file": "permissions_config.toml",
            "permissions-nodes-config-file-enabled": True,
            "permissions-nodes-config-file": "permissions_config.toml",
        },
    )


def base64url(data: bytes) -> str:
    """Unpadded base64url, as JWT uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def admin_token(private_key: rsa.RSAPrivateKey, days: int = ADMIN_TOKEN_DAYS) -> str:
    """An RS256 JWT that Besu accepts for every JSON-RPC method, valid for `days`."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"permissions": ["*:*"], "iat": now, "exp": now + days * 86_400}
    signing_input = ".".join(
        base64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64url(signature)}"


def write_admin_credentials(out: Path, node_folders: Sequence[Path]) -> None:
    """A new JWT signing key pair: private key and admin token in `out`, public key per node."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_private(out / "jwt-private.pem", private_pem.decode())
    write_private(out / "admin.token", admin_token(private_key) + "\n")
    for folder in node_folders:
        (folder / "jwt-public.pem").write_bytes(public_pem)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def make_network(
    out: Path,
    *,
    operator: str,
    issuers: Sequence[str] = (),
    hosts: Sequence[str] = (),
    chain_id: int = CHAIN_ID,
    validators: int = VALIDATORS,
    test_keys: bool = False,
) -> list[Validator]:
    """Write the network's files into `out` and return its validators."""
    nodes = validators_of(validator_keys(validators, test_keys=test_keys), hosts)
    accounts = [to_checksum_address(account) for account in (operator, *issuers)]
    note = f"{TEST_ONLY}\n" if test_keys else ""
    out.mkdir(parents=True, exist_ok=True)
    (out / "genesis.json").write_text(
        json.dumps(genesis(chain_id, [node.address for node in nodes]), indent=2) + "\n",
        encoding="utf-8",
    )
    for number, node in enumerate(nodes, start=1):
        folder = out / f"node-{number}"
        folder.mkdir(exist_ok=True)
        write_private(folder / "key", "0x" + node.key.to_bytes().hex() + "\n")
        (folder / "key.pub").write_text(node.key.public_key.to_hex() + "\n", encoding="utf-8")
        (folder / "config.toml").write_text(node_config(node, nodes, note), encoding="utf-8")
        (folder / "permissions_config.toml").write_text(
            permissions_config(accounts, nodes, note), encoding="utf-8"
        )
    write_admin_credentials(out, node_folders(out))
    return nodes


def node_folders(out: Path) -> list[Path]:
    """The node folders of a network, in order."""
    return sorted(out.glob("node-*"), key=lambda folder: int(folder.name.split("-")[1]))


def address(value: str) -> str:
    """An argparse type: a 20-byte hex account address."""
    if not is_address(value):
        raise argparse.ArgumentTypeError(f"not an account address: {value!r}")
    return to_checksum_address(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and write the network."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (git-ignored)")
    parser.add_argument("--renew-admin-token", action="store_true",
                        help="only replace the JWT key pair and admin token in --out")  # fmt: skip
    parser.add_argument("--operator", type=address, help="bank operator account (required)")
    parser.add_argument("--issuer", type=address, action="append", default=[],
                        help="an issuer account to allow (repeatable)")  # fmt: skip
    parser.add_argument("--host", action="append", default=[],
                        help="validator IP, one each (default: all on 127.0.0.1)")  # fmt: skip
    parser.add_argument("--chain-id", type=int, default=CHAIN_ID)
    parser.add_argument("--validators", type=int, default=VALIDATORS)
    parser.add_argument("--test-keys", action="store_true",
                        help="keys from PUBLIC seeds: tests and samples only")  # fmt: skip
    options = parser.parse_args(argv)
    if options.renew_admin_token:
        if not node_folders(options.out):
            parser.error(f"{options.out} holds no network")
        write_admin_credentials(options.out, node_folders(options.out))
        return 0
    if options.operator is None:
        parser.error("--operator is required")
    if options.validators < VALIDATORS:
        parser.error(f"QBFT needs at least {VALIDATORS} validators to tolerate one fault")
    if options.host and len(options.host) != options.validators:
        parser.error(f"give --host once per validator ({options.validators}), or not at all")
    nodes = make_network(
        options.out,
        operator=options.operator,
        issuers=options.issuer,
        hosts=options.host,
        chain_id=options.chain_id,
        validators=options.validators,
        test_keys=options.test_keys,
    )
    for node in nodes:
        print(f"{node.address} {node.enode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
