"""The runtime the portal is built around: settings, the database and the chain, opened once at
the edge (the app factory, `creditbank demo`, a test), and the services a process keeps for its
lifetime. `runtime()` is the one way a view reaches it."""

from __future__ import annotations

from functools import cached_property
from typing import cast

from flask import current_app
from sqlalchemy import Engine

from bank.accounts import Accounts
from infra.closing import Closing
from infra.database import open_database
from infra.settings import Settings
from issuers.issuance import Issuance
from issuers.status import PublishedStatusLists, StatusLists
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.deployment import Deployment
from ledger.node import EmbeddedNode
from ledger.views import ChainView
from verify.cache import CachedLedgerView, VerifiedSignatures, VerifiedStatusLists
from verify.context import Context


class Runtime(Closing):
    """An open database engine and chain (with the embedded node when there is one)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = open_database(settings.database_url,
                                            master_key=settings.master_key())
        self.chain = Chain(settings)

    @property
    def ledger(self) -> Ledger:
        """The chain's client."""
        return self.chain.ledger

    @property
    def deployment(self) -> Deployment:
        """The trusted deployment."""
        return self.chain.deployment

    @property
    def node(self) -> EmbeddedNode | None:
        """The embedded node, when this process runs it."""
        return self.chain.node

    @property
    def view(self) -> ChainView:
        """The chain's contract state, read directly."""
        return ChainView(self.ledger)

    @cached_property
    def chain_facts(self) -> CachedLedgerView:
        """The process's cached view of the chain: revocations, suspensions and key retirements
        are seen within the settings' `verify_cache_seconds`."""
        return CachedLedgerView(self.view, ttl=self.settings.verify_cache_seconds)

    def public_context(self, max_bytes: int) -> Context:
        """The context public verification runs in: the cached chain facts and the status lists
        this bank published."""
        return Context(self.chain_facts, max_bytes=max_bytes,
                       status_lists=self.published_status_lists,
                       verified_lists=self.verified_status_lists)

    @cached_property
    def verified_status_lists(self) -> VerifiedStatusLists:
        """The status lists the process has already read and checked, kept as long as chain
        facts are."""
        return VerifiedStatusLists(ttl=self.settings.verify_cache_seconds)

    @cached_property
    def verified_signatures(self) -> VerifiedSignatures:
        """The signatures this process has already checked."""
        return VerifiedSignatures()

    @cached_property
    def accounts(self) -> Accounts:
        """Learner accounts, with the bank's identity pepper."""
        return Accounts.of(self.engine, self.settings)

    @cached_property
    def issuance(self) -> Issuance:
        """The issuance service the issuer API signs and stores through."""
        return Issuance.of(self.engine, settings=self.settings)

    @cached_property
    def status_lists(self) -> StatusLists:
        """The issuers' status lists as published (built on first request if need be)."""
        return StatusLists(self.engine, self.ledger, master_key=self.settings.master_key(),
                           public_url=self.settings.public_url)

    @cached_property
    def published_status_lists(self) -> PublishedStatusLists:
        """The verifier's source of status lists: those this bank published."""
        return PublishedStatusLists(self.engine, self.settings.public_url)

    def close(self) -> None:
        """Seal what is pending, stop the embedded node and release the database."""
        self.chain.close()
        self.engine.dispose()



def runtime() -> Runtime:
    """The runtime of the app serving this request."""
    return cast(Runtime, current_app.extensions["creditbank"])
