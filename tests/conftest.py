"""Shared fixtures for the creditbank test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra.settings import Settings
from ledger.genesis import initialise
from portal.app import create_app
from portal.runtime import Runtime
from tests.support.browser import ServedPortal, in_ci, missing_browser
from tests.support.chains import TestChain, anvil_chain, embedded_chain
from tests.support.databases import PostgresServer, postgres_bin
from tests.support.nodes import AnvilNode, anvil_installed

TEST_CALL_SECONDS = 10.0
"""The runtime's time limit for one eth_call or gas estimate: tests run the portal, its workers
and PostgreSQL on two shared cores, where a one-second wall-clock limit (the production default)
is sometimes reached by an ordinary estimate; tests/ledger/test_execution.py tests the limit
itself with limits of its own."""


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """An anvil node for the whole session, with one funded account; stopped at the end."""
    if not anvil_installed():
        pytest.skip("anvil is not installed: run `npm ci --prefix tests/js`")
    node = AnvilNode(tmp_path_factory.mktemp("anvil") / "state.json")
    node.start()
    yield node
    node.stop()


@pytest.fixture(params=["embedded", "anvil"])
def chain(request: pytest.FixtureRequest, tmp_path) -> Iterator[TestChain]:
    """Our contracts on a fresh embedded node, and again on anvil."""
    if request.param == "embedded":
        test_chain = embedded_chain(tmp_path / "chain")
        yield test_chain
        assert test_chain.node is not None
        test_chain.node.close()
    else:
        node = request.getfixturevalue("anvil_node")
        yield anvil_chain(node.url, node.funded_private_key)


@pytest.fixture
def embedded(tmp_path) -> Iterator[TestChain]:
    """Our contracts on a fresh embedded node only (for permissioning and node-specific tests)."""
    test_chain = embedded_chain(tmp_path / "chain")
    yield test_chain
    assert test_chain.node is not None
    test_chain.node.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session."""
    if postgres_bin() is None and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not installed: run `bash tests/install.sh`")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database: SQLite in the test's folder, and again on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'creditbank.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def runtime(tmp_path, monkeypatch, database_url: str) -> Iterator[Runtime]:
    """A real data dir (`creditbank init`) opened as the portal opens it, on each database."""
    monkeypatch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    data_dir = tmp_path / "data"
    initialise(data_dir)
    settings = Settings(data_dir=data_dir, database_url=database_url, block_period=0.05,
                        call_seconds=TEST_CALL_SECONDS)
    with Runtime(settings) as opened:
        yield opened


@pytest.fixture
def browser_page(runtime: Runtime) -> Iterator[ServedPortal]:
    """The portal over `runtime`, served on 127.0.0.1 for browser journeys (Chromium in CI)."""
    reason = missing_browser()
    if reason is not None:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    with ServedPortal(create_app(runtime)) as portal:
        yield portal
