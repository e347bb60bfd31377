"""The chain a process opens from its settings: the client, the trusted deployment, and the
embedded node when no ledger URL is given (then this process is the node)."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from infra.closing import Closing
from infra.settings import Settings
from ledger.client import Ledger
from ledger.deployment import Deployment
from ledger.execution import CallLimits
from ledger.genesis import ChainHome
from ledger.node import EmbeddedNode
from ledger.provider import EmbeddedProvider


def chain_home(settings: Settings) -> ChainHome:
    """The chain files of the settings' data directory (operator key, admin token, deployment)."""
    return ChainHome(settings.data_dir)


def trusted_deployment(settings: Settings) -> Deployment:
    """The trusted deployment: the file the settings name, else the embedded chain's."""
    if settings.deployment_path is not None:
        return Deployment.load(settings.deployment_path)
    return chain_home(settings).deployment()


class Chain(Closing):
    """An open chain: `ledger` (the one client), `deployment`, and `node` when embedded."""

    def __init__(self, settings: Settings) -> None:
        self.home = chain_home(settings)
        self.deployment = trusted_deployment(settings)
        self.node: EmbeddedNode | None = None
        if settings.embedded:
            self.node = EmbeddedNode.open(
                settings.data_dir,
                block_period=settings.block_period,
                call_limits=CallLimits.of(settings),
            )
            self.node.start()
            self.ledger = Ledger(EmbeddedProvider(self.node), self.deployment)
        else:
            self.ledger = Ledger.connect(settings.ledger_urls, self.deployment)

    def operator(self) -> LocalAccount:
        """The operator's chain account, where this host keeps it (sealed in the data dir)."""
        return self.home.operator()

    def close(self) -> None:
        """Seal what is pending and stop the embedded node."""
        if self.node is not None:
            self.node.close()
            self.node = None

