"""Settings from the environment, and the runtime they open: database, ledger, deployment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from sqlalchemy import Engine

from ledger.client import Ledger
from ledger.deployment import Deployment
from ledger.genesis import ChainHome
from ledger.node import EmbeddedNode
from ledger.provider import EmbeddedProvider
from ledger.schema import upgrade
from ledger.sql import open_engine
from ledger.vault import master_key

DEFAULT_DATA_DIR = "creditbank-data"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Settings:
    """Where the data lives and how to reach the ledger; every secret comes from the environment."""

    data_dir: Path
    database_url: str
    ledger_urls: tuple[str, ...] = ()
    deployment_path: Path | None = None
    public_url: str = DEFAULT_PUBLIC_URL
    block_period: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `CREDITBANK_*` variables, with keyword overrides."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CREDITBANK_DATA", DEFAULT_DATA_DIR)).resolve()
        urls = tuple(
            url.strip() for url in env.get("CREDITBANK_LEDGER_URLS", "").split(",") if url.strip()
        )
        deployment = env.get("CREDITBANK_DEPLOYMENT")
        settings = cls(
            data_dir=data_dir,
            database_url=env.get(
                "CREDITBANK_DATABASE_URL", f"sqlite:///{data_dir / 'creditbank.sqlite'}"
            ),
            ledger_urls=urls,
            deployment_path=Path(deployment) if deployment else None,
            public_url=env.get("CREDITBANK_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            block_period=float(env.get("CREDITBANK_BLOCK_PERIOD", "1.0")),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def did_host(self) -> str:
        """The host part of the bank's did:web identifiers (the public URL's host and port)."""
        return urlsplit(self.public_url).netloc

    @property
    def embedded(self) -> bool:
        """Whether the ledger is the embedded node in this process (no ledger URLs given)."""
        return not self.ledger_urls

    @property
    def chain_home(self) -> ChainHome:
        """The embedded chain's files."""
        return ChainHome(self.data_dir)

    def deployment(self) -> Deployment:
        """The trusted deployment: the given file, else the embedded chain's."""
        if self.deployment_path is not None:
            return Deployment.load(self.deployment_path)
        return self.chain_home.deployment()

    def master_key(self) -> bytes:
        """The master key that seals keys at rest."""
        return master_key(self.data_dir)


class Runtime:
    """An open database engine and ledger client (and the embedded node when there is one)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = open_engine(settings.database_url)
        upgrade(self.engine)
        self.deployment = settings.deployment()
        self.node: EmbeddedNode | None = None
        if settings.embedded:
            self.node = EmbeddedNode.open(settings.data_dir, block_period=settings.block_period)
            self.node.start()
            self.ledger = Ledger(EmbeddedProvider(self.node), self.deployment)
        else:
            self.ledger = Ledger.connect(settings.ledger_urls, self.deployment)

    def close(self) -> None:
        """Seal what is pending, stop the embedded node and release the database."""
        if self.node is not None:
            self.node.close()
            self.node = None
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
