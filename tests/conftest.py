"""Shared fixtures for the creditbank test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from portal.app import create_app
from portal.runtime import Runtime
from tests.support.browser import ServedPortal, require_browser
from tests.support.chains import TestChain, anvil_chain, embedded_chain
from tests.support.databases import PostgresServer, postgres_bin
from tests.support.nodes import AnvilNode, anvil_installed
from tests.support.runtimes import new_database, opened_runtime


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
    return new_database(request, tmp_path, request.param)


@pytest.fixture
def runtime(tmp_path, monkeypatch, database_url: str) -> Iterator[Runtime]:
    """A real data dir (`creditbank init`) opened as the portal opens it, on each database."""
    with opened_runtime(tmp_path / "data", database_url, monkeypatch) as opened:
        yield opened


@pytest.fixture
def browser_page(runtime: Runtime) -> Iterator[ServedPortal]:
    """The portal over `runtime`, served on 127.0.0.1 for browser journeys (Chromium in CI)."""
    require_browser()
    with ServedPortal(create_app(runtime)) as portal:
        yield portal
