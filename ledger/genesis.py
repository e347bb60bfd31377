"""A fresh chain in a data directory: operator key, genesis, contracts deployed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from infra.secrets import master_key, private_dir, write_private
from ledger.accounts import load_account, save_account
from ledger.client import Ledger
from ledger.deployment import Deployment, deploy_contracts
from ledger.errors import LedgerError
from ledger.node import DEFAULT_CHAIN_ID, EmbeddedNode
from ledger.provider import EmbeddedProvider

DEPLOYMENT_FILE = "deployment.json"
OPERATOR_KEY_FILE = "keys/operator.key"
ADMIN_TOKEN_FILE = "admin.token"


@dataclass(frozen=True)
class ChainHome:
    """The files of one embedded chain's data directory."""

    data_dir: Path

    @property
    def deployment_path(self) -> Path:
        """Where the deployment (chain id and contract addresses) is written."""
        return self.data_dir / DEPLOYMENT_FILE

    @property
    def operator_key_path(self) -> Path:
        """Where the operator's sealed chain key is written."""
        return self.data_dir / OPERATOR_KEY_FILE

    @property
    def admin_token_path(self) -> Path:
        """Where the node's admin token is written."""
        return self.data_dir / ADMIN_TOKEN_FILE

    def deployment(self) -> Deployment:
        """The deployment of this chain."""
        if not self.deployment_path.exists():
            raise LedgerError(f"{self.data_dir} holds no chain: run `creditbank init --data DIR`")
        return Deployment.load(self.deployment_path)

    def operator(self) -> LocalAccount:
        """The operator's chain account, opened with the master key."""
        return load_account(self.operator_key_path, master_key(self.data_dir))

    def admin_token(self) -> str:
        """The node's admin token."""
        return self.admin_token_path.read_text("utf-8").strip()


def initialise(data_dir: Path, *, chain_id: int = DEFAULT_CHAIN_ID) -> Deployment:
    """Create the operator key and the chain, and deploy our contracts; refuses a used directory."""
    home = ChainHome(Path(data_dir))
    if home.deployment_path.exists():
        raise LedgerError(f"{data_dir} already holds a chain")
    private_dir(home.data_dir)
    operator: LocalAccount = Account.create()
    save_account(home.operator_key_path, operator, master_key(home.data_dir, create=True))
    create_chain(home.data_dir, operator.address, chain_id)
    with EmbeddedNode.open(home.data_dir, block_period=0.05) as node:
        node.start()
        deployment = deploy_contracts(Ledger(EmbeddedProvider(node)), operator)
    deployment.save(home.deployment_path)
    return deployment


def create_chain(data_dir: Path, operator_address: str, chain_id: int = DEFAULT_CHAIN_ID) -> str:
    """Create the chain in `data_dir`, write `admin.token` (mode 0600) and return the token."""
    node, token = EmbeddedNode.create(
        Path(data_dir), operator_address=operator_address, chain_id=chain_id
    )
    node.close()
    write_private(Path(data_dir) / ADMIN_TOKEN_FILE, token + "\n")
    return token
