"""The Vyper contracts and their committed, compiled artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("IssuerRegistry", "CredentialAnchor", "RuleRegistry")


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: its ABI and creation bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    compiler: str
    evm_version: str
    source_sha256: str


@cache
def artifact(name: str) -> Artifact:
    """The committed artifact of a contract, by name."""
    if name not in NAMES:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(NAMES)}")
    text = resources.files(__name__).joinpath("artifacts", f"{name}.json").read_text("utf-8")
    data = json.loads(text)
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        compiler=data["compiler"],
        evm_version=data["evmVersion"],
        source_sha256=data["sourceSha256"],
    )
