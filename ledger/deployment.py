"""Where our contracts live on a chain, and how they get there."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount

from infra.secrets import write_private

if TYPE_CHECKING:
    from ledger.client import Ledger


@dataclass(frozen=True)
class Deployment:
    """One deployment of our contracts: a verifier's trust root.

    `block` is the first block that can hold our contracts' events.
    """

    chain_id: int
    issuer_registry: str
    credential_anchor: str
    rule_registry: str
    block: int

    def address(self, name: str) -> str:
        """The address of a contract by its name."""
        addresses = {
            "IssuerRegistry": self.issuer_registry,
            "CredentialAnchor": self.credential_anchor,
            "RuleRegistry": self.rule_registry,
        }
        if name not in addresses:
            raise KeyError(f"unknown contract {name!r}")
        return addresses[name]

    def to_json(self) -> str:
        """The deployment as a JSON document."""
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Read a deployment document."""
        data = json.loads(text)
        return cls(
            chain_id=int(data["chain_id"]),
            issuer_registry=str(data["issuer_registry"]),
            credential_anchor=str(data["credential_anchor"]),
            rule_registry=str(data["rule_registry"]),
            block=int(data["block"]),
        )

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a deployment file."""
        return cls.from_json(Path(path).read_text("utf-8"))

    def save(self, path: Path) -> None:
        """Write the deployment file (owner-only, like everything in the data directory)."""
        write_private(Path(path), self.to_json())


def deploy_contracts(ledger: Ledger, operator: LocalAccount) -> Deployment:
    """Deploy the registry, the anchor (bound to the registry, which keeps its copy of anchoring
    rights) and the rule registry, operated by `operator`."""
    first_block = ledger.block_number() + 1
    registry = ledger.deploy("IssuerRegistry", operator)
    anchor = ledger.deploy("CredentialAnchor", operator, registry)
    ledger.transact(operator, "IssuerRegistry", "bindAnchor", anchor, at=registry)
    rules = ledger.deploy("RuleRegistry", operator, registry)
    deployment = Deployment(
        chain_id=ledger.chain_id,
        issuer_registry=registry,
        credential_anchor=anchor,
        rule_registry=rules,
        block=first_block,
    )
    ledger.deployment = deployment
    return deployment
