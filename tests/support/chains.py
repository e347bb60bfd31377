"""Chains with our contracts deployed, on the embedded node or on anvil, for tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from credentials.model import kind_bit
from ledger.client import Ledger
from ledger.deployment import Deployment, deploy_contracts
from ledger.node import EmbeddedNode
from ledger.provider import EmbeddedProvider
from ledger.server import serve

ALL_KINDS = (1 << 7) - 1
LEVELS_1_TO_8 = sum(1 << level for level in range(1, 9))
FUNDING_WEI = 10**20


@dataclass
class TestChain:
    """A chain with our contracts, its operator, and helpers to make issuers."""

    __test__ = False

    ledger: Ledger
    operator: LocalAccount
    deployment: Deployment
    node: EmbeddedNode | None = None
    allow: Callable[[list[str]], None] | None = None

    def account(self) -> LocalAccount:
        """A new funded account allowed to transact."""
        account: LocalAccount = Account.create()
        if self.allow is not None:
            self.allow([account.address])
        self.ledger.transfer(self.operator, account.address, FUNDING_WEI)
        return account

    def accredit(
        self,
        did: str,
        *,
        accounts: int = 1,
        kinds: int = ALL_KINDS,
        levels: int = LEVELS_1_TO_8,
        valid_from: int = 0,
        valid_until: int = 0,
    ) -> tuple[bytes, list[LocalAccount]]:
        """Accredit an issuer with fresh accounts; returns its id and accounts."""
        members = [self.account() for _ in range(accounts)]
        self.ledger.transact(
            self.operator,
            "IssuerRegistry",
            "accredit",
            did,
            [member.address for member in members],
            kinds,
            levels,
            valid_from,
            valid_until,
        )
        return bytes(Web3.keccak(text=did)), members


def embedded_chain(data_dir: Path, *, block_period: float = 0.02) -> TestChain:
    """A fresh embedded node (started) with our contracts deployed."""
    operator: LocalAccount = Account.create()
    node, _ = EmbeddedNode.create(
        data_dir, operator_address=operator.address, block_period=block_period
    )
    node.start()
    ledger = Ledger(EmbeddedProvider(node))
    deployment = deploy_contracts(ledger, operator)
    return TestChain(
        ledger=ledger, operator=operator, deployment=deployment, node=node, allow=node.allow
    )


@contextmanager
def served_chain(data_dir: Path) -> Iterator[tuple[TestChain, str]]:
    """Our contracts deployed over HTTP on a fresh embedded node (default call limits): the chain,
    whose client speaks JSON-RPC over HTTP, and the node's URL; stopped and closed on exit."""
    operator: LocalAccount = Account.create()
    node, _ = EmbeddedNode.create(data_dir, operator_address=operator.address, block_period=0.02)
    node.start()
    server = serve(node, port=0)
    server.start()
    try:
        ledger = Ledger.connect([server.url])
        deployment = deploy_contracts(ledger, operator)
        yield (
            TestChain(
                ledger=ledger, operator=operator, deployment=deployment, node=node, allow=node.allow
            ),
            server.url,
        )
    finally:
        server.stop()
        node.close()


def anvil_chain(url: str, funded_private_key: str) -> TestChain:
    """Our contracts freshly deployed on a running anvil node by its funded account."""
    operator: LocalAccount = Account.from_key(funded_private_key)
    ledger = Ledger.connect([url])
    deployment = deploy_contracts(ledger, operator)
    return TestChain(ledger=ledger, operator=operator, deployment=deployment)


def scope_mask(*kinds: str) -> int:
    """An on-chain kind mask for these credential kinds."""
    return sum(1 << kind_bit(kind) for kind in kinds)
