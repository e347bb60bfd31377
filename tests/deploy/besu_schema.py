"""Our JSON Schemas of what Besu reads from deploy/besu: the QBFT genesis file, a node's
`--config-file` TOML and the local permissions file, with a check of QBFT's extraData RLP.

Provenance (Hyperledger Besu documentation, hyperledger/besu-docs at faacf35, March 2026):
- Genesis file items (config items, genesis block parameters, milestone blocks):
  https://besu.hyperledger.org/public-networks/reference/genesis-items
- Configure QBFT consensus (genesis file, QBFT properties, optional configuration options,
  difficulty and mixHash values, extraData as RLP([32-byte vanity, validators, no vote, round 0,
  no seals])): https://besu.hyperledger.org/private-networks/how-to/configure/consensus/qbft
- Command line options, each with its configuration-file form (types, allowed values, "must also
  specify" rules): https://besu.hyperledger.org/public-networks/reference/cli/options and
  https://besu.hyperledger.org/private-networks/reference/cli/options (permissions options)
- Local permissioning (accounts-allowlist, nodes-allowlist):
  https://besu.hyperledger.org/private-networks/how-to/use-local-permissioning
- The timestamp milestones (`shanghaiTime`, `cancunTime`), which the documentation pages do not
  list, are the keys Besu's own parser reads: hyperledger/besu
  config/src/main/java/org/hyperledger/besu/config/JsonGenesisConfigOptions.java.

Besu reads genesis names case-insensitively; these schemas hold our files to Besu's documented
spelling, and list only the options our kit may write (each a documented Besu option), so a
misspelt or unknown key, a wrong type or a value outside the documented set is refused.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import rlp

DIALECT = "https://json-schema.org/draft/2020-12/schema"
HEX_QUANTITY = {"type": "string", "pattern": "^0x(0|[1-9a-f][0-9a-f]*)$"}
HEX_DATA = {"type": "string", "pattern": "^0x([0-9a-f]{2})*$"}
ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
BLOCK_OR_TIME = {"type": "integer", "minimum": 0}
POSITIVE = {"type": "integer", "minimum": 1}
PORT = {"type": "integer", "minimum": 0, "maximum": 65535}
ENODE = {"type": "string", "pattern": "^enode://[0-9a-f]{128}@[0-9A-Za-z.:-]+:[0-9]{1,5}$"}
STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
MILESTONES = (
    "homesteadBlock", "daoForkBlock", "eip150Block", "eip155Block", "eip158Block",
    "byzantiumBlock", "constantinopleBlock", "petersburgBlock", "istanbulBlock",
    "muirGlacierBlock", "berlinBlock", "londonBlock", "arrowGlacierBlock", "grayGlacierBlock",
    "mergeNetSplitBlock", "shanghaiTime", "cancunTime",
)  # fmt: skip
RPC_APIS = (
    "ADMIN", "CLIQUE", "DEBUG", "ENGINE", "ETH", "IBFT", "MINER", "NET", "PERM", "PLUGINS",
    "QBFT", "TRACE", "TXPOOL", "WEB3",
)  # fmt: skip

QBFT = {
    "type": "object",
    "required": ["blockperiodseconds", "epochlength", "requesttimeoutseconds"],
    "additionalProperties": False,
    "properties": {
        "blockperiodseconds": POSITIVE,
        "epochlength": POSITIVE,
        "requesttimeoutseconds": POSITIVE,
        "blockreward": {"type": "string", "pattern": "^(0x[0-9a-fA-F]+|[0-9]+)$"},
        "validatorcontractaddress": ADDRESS,
        "miningbeneficiary": ADDRESS,
        "messageQueueLimit": POSITIVE,
        "duplicateMessageLimit": POSITIVE,
        "futureMessagesLimit": POSITIVE,
        "futureMessagesMaxDistance": POSITIVE,
    },
}

GENESIS: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "Besu QBFT genesis file",
    "type": "object",
    "required": [
        "config",
        "nonce",
        "timestamp",
        "gasLimit",
        "difficulty",
        "mixHash",
        "coinbase",
        "alloc",
        "extraData",
    ],
    "additionalProperties": False,
    "properties": {
        "config": {
            "type": "object",
            "required": ["chainId", "qbft"],
            "additionalProperties": False,
            "properties": {
                "chainId": POSITIVE,
                **{name: BLOCK_OR_TIME for name in MILESTONES},
                "qbft": QBFT,
                "transitions": {"type": "object"},
                "contractSizeLimit": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                "evmStackSize": POSITIVE,
                "ecCurve": {"type": "string"},
                "discovery": {"type": "object"},
                "zeroBaseFee": {"type": "boolean"},
                "fixedBaseFee": {"type": "boolean"},
            },
        },
        "nonce": HEX_QUANTITY,
        "timestamp": HEX_QUANTITY,
        "gasLimit": HEX_QUANTITY,
        "difficulty": {"const": "0x1"},
        "mixHash": {"const": QBFT_MIX_HASH},
        "coinbase": ADDRESS,
        "alloc": {
            "type": "object",
            "propertyNames": {"pattern": "^(0x)?[0-9a-fA-F]{40}$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "balance": {"type": "string"},
                    "code": HEX_DATA,
                    "storage": {"type": "object"},
                    "nonce": {"type": "string"},
                    "comment": {"type": "string"},
                },
            },
        },
        "extraData": HEX_DATA,
        "number": HEX_QUANTITY,
        "gasUsed": HEX_QUANTITY,
        "parentHash": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
    },
}

NODE_CONFIG: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "Besu --config-file (TOML), the options a creditbank validator sets",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "data-path": {"type": "string", "minLength": 1},
        "genesis-file": {"type": "string", "minLength": 1},
        "node-private-key-file": {"type": "string", "minLength": 1},
        "p2p-host": {"type": "string", "minLength": 1},
        "p2p-port": PORT,
        "bootnodes": {"type": "array", "items": ENODE},
        "sync-mode": {"enum": ["SNAP", "CHECKPOINT", "FAST", "FULL"]},
        "min-gas-price": {"type": "integer", "minimum": 0},
        "rpc-http-enabled": {"type": "boolean"},
        "rpc-http-host": {"type": "string", "minLength": 1},
        "rpc-http-port": PORT,
        "rpc-http-api": {"type": "array", "items": {"enum": list(RPC_APIS)}, "uniqueItems": True},
        "host-allowlist": STRINGS,
        "rpc-http-authentication-enabled": {"type": "boolean"},
        "rpc-http-authentication-jwt-public-key-file": {"type": "string", "minLength": 1},
        "rpc-http-api-methods-no-auth": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9]+_[A-Za-z0-9]+$"},
            "uniqueItems": True,
        },
        "permissions-accounts-config-file-enabled": {"type": "boolean"},
        "permissions-accounts-config-file": {"type": "string", "minLength": 1},
        "permissions-nodes-config-file-enabled": {"type": "boolean"},
        "permissions-nodes-config-file": {"type": "string", "minLength": 1},
    },
    "dependentRequired": {
        "rpc-http-api": ["rpc-http-enabled"],
        "rpc-http-api-methods-no-auth": ["rpc-http-authentication-enabled"],
    },
}

PERMISSIONS: dict[str, Any] = {
    "$schema": DIALECT,
    "title": "Besu local permissions file (TOML)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "accounts-allowlist": {"type": "array", "items": ADDRESS, "uniqueItems": True},
        "nodes-allowlist": {"type": "array", "items": ENODE, "uniqueItems": True},
    },
}


def schema_errors(schema: dict[str, Any], document: object) -> list[str]:
    """Every way `document` breaks `schema`, as "path: message" lines (none = valid)."""
    validator = jsonschema_rs.Draft202012Validator(schema)
    return [
        "/".join(str(part) for part in error.instance_path) + ": " + error.message
        for error in validator.iter_errors(document)
    ]


def qbft_extra_data_errors(extra_data: str) -> list[str]:
    """What is wrong with a genesis extraData against QBFT's block-header validator selection:
    RLP([32-byte vanity, [20-byte validators], no vote, round 0, no seals])."""
    try:
        decoded = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    except (ValueError, rlp.exceptions.DecodingError) as error:
        return [f"extraData is not RLP: {error}"]
    if not isinstance(decoded, list) or len(decoded) != 5:
        return ["extraData is not a list of five items"]
    vanity, validators, vote, round_number, seals = decoded
    errors = []
    if not isinstance(vanity, bytes) or len(vanity) != 32:
        errors.append("vanity is not 32 bytes")
    if not isinstance(validators, list) or not validators:
        errors.append("no validators")
    elif any(not isinstance(item, bytes) or len(item) != 20 for item in validators):
        errors.append("a validator is not a 20-byte address")
    elif len(set(validators)) != len(validators):
        errors.append("a validator is listed twice")
    if vote != []:
        errors.append("the genesis block holds a vote")
    if round_number != b"":
        errors.append("the genesis round is not 0")
    if seals != []:
        errors.append("the genesis block holds seals")
    return errors


def genesis_errors(genesis: object) -> list[str]:
    """Schema errors of a QBFT genesis plus its extraData's, and the documented advice that a
    round's timeout be at least the block period."""
    errors = schema_errors(GENESIS, genesis)
    if errors or not isinstance(genesis, dict):
        return errors
    errors = qbft_extra_data_errors(genesis["extraData"])
    qbft = genesis["config"]["qbft"]
    if qbft["requesttimeoutseconds"] < qbft["blockperiodseconds"]:
        errors.append("config/qbft: requesttimeoutseconds is shorter than blockperiodseconds")
    return errors
