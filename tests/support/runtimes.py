"""A real data directory (`creditbank init`) opened as the portal opens it, on SQLite or
PostgreSQL, for fixtures of any scope; and the demo bank or a city seeded into one, once for a
module (a chain and a seed are slow to make)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bank.city import CityPlan, seed_city
from bank.seed import DEMO_ACCOUNTS, seed_demo
from infra.settings import Settings
from ledger.genesis import initialise
from portal.runtime import Runtime

TEST_CALL_SECONDS = 10.0
"""The runtime's time limit for one eth_call or gas estimate: tests run the portal, its workers
and PostgreSQL on two shared cores, where the production default of one second (then of wall
time) was sometimes reached by an ordinary estimate; tests/ledger/test_execution.py tests the
limit itself with limits of its own."""


def new_database(request: pytest.FixtureRequest, folder: Path, database: str) -> str:
    """The URL of an empty database: "sqlite" in `folder`, or "postgresql" on the session's
    server."""
    if database == "sqlite":
        return f"sqlite:///{folder / 'creditbank.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@contextmanager
def opened_runtime(
    data_dir: Path, database_url: str, patch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """`creditbank init` in `data_dir`, opened as the portal opens it, with no master key in the
    environment (`patch` removes it for as long as the runtime is open)."""
    patch.delenv("CREDITBANK_MASTER_KEY", raising=False)
    initialise(data_dir)
    settings = Settings(data_dir=data_dir, database_url=database_url, block_period=0.05,
                        call_seconds=TEST_CALL_SECONDS)
    with Runtime(settings) as runtime:
        yield runtime


@contextmanager
def module_runtime(
    request: pytest.FixtureRequest, name: str, database: str = "sqlite"
) -> Iterator[Runtime]:
    """An empty bank in a new folder named after `name`, for a module-scoped fixture."""
    folder = request.getfixturevalue("tmp_path_factory").mktemp(name)
    url = new_database(request, folder, database)
    with pytest.MonkeyPatch.context() as patch, opened_runtime(folder / "data", url,
                                                               patch) as runtime:
        yield runtime


@contextmanager
def seeded_bank(
    request: pytest.FixtureRequest,
    name: str,
    database: str = "sqlite",
    *,
    plan: CityPlan | None = None,
) -> Iterator[Runtime]:
    """The demo bank (`seed_demo`), or the city of `plan` seeded in one run, for a module-scoped
    fixture."""
    with module_runtime(request, name, database) as runtime:
        if plan is None:
            assert seed_demo(runtime.engine, runtime.chain, settings=runtime.settings) == (
                DEMO_ACCOUNTS)
        else:
            seed_city(runtime.engine, runtime.chain, settings=runtime.settings, plan=plan)
        yield runtime
