"""kill -9 the anchoring worker mid-way: after a restart every acknowledged credential is
anchored, each batch root exactly once, and every credential verifies."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import pytest
from hexbytes import HexBytes
from sqlalchemy import select

from bench.loadkit import Child
from infra.database import open_engine
from infra.secrets import master_key
from infra.settings import Settings
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.registry import issuer_account, issuer_record
from issuers.tables import batches, credentials
from ledger.client import Ledger
from ledger.genesis import initialise
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.databases import PostgresServer
from tests.support.issuer import accredited, outcome
from tests.support.nodes import eventually, free_port, rpc
from tests.support.paths import ROOT
from tests.support.runtimes import opened_runtime
from verify import Context, Status, verify_many

CREDITBANK = [sys.executable, "-m", "portal.cli"]
WORKER = [*CREDITBANK, "worker", "--data"]
PAUSED_WORKER = [sys.executable, "-m", "tests.support.paused_worker"]
LEARNERS = ("110101199003074514", "320102198811123456", "44010619950505321X")


def settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'creditbank.sqlite'}",
        block_period=0.05,
    )


def issue_two_batches(data_dir: Path) -> set[str]:
    """Accredit an issuer and issue 5 credentials in batches of 3; returns the acknowledged ids."""
    initialise(data_dir)
    with Runtime(settings(data_dir)) as runtime:
        accredited(runtime)
        issuer = issuer_record(runtime.engine, "demo-university")
        issuance = Issuance.of(
            runtime.engine, settings=runtime.settings, policy=BatchPolicy(size=3, max_age=0.1)
        )
        outcomes = outcomes_from_json(
            [
                outcome(learner, session=f"2025 term {term}")
                for learner in LEARNERS
                for term in (1, 2)
            ][:5]
        )
        with runtime.engine.begin() as connection:
            issued = issuance.issue(connection, issuer, outcomes, cryptosuite="eddsa-jcs-2022")
    return {credential_id for credential_id, _, _ in issued.credentials}


def start_worker(data_dir: Path, pause_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "CREDITBANK_BLOCK_PERIOD": "0.05", "CREDITBANK_BATCH_SECONDS": "0.1"}
    env.pop("CREDITBANK_MASTER_KEY", None)
    if pause_at is None:
        command = [*WORKER, str(data_dir)]
    else:
        command = [*PAUSED_WORKER, str(data_dir), pause_at]
    return subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, text: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return
    raise AssertionError(f"the worker exited before printing {text!r}")


def wait_until_anchored(data_dir: Path, timeout: float = 30.0) -> None:
    engine = open_engine(settings(data_dir).database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                states = connection.execute(select(batches.c.status)).scalars().all()
            if states and all(state == "anchored" for state in states):
                return
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"batches not anchored: {states}")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("pause_at", ["before-send", "after-send"])
def test_a_killed_worker_resumes_and_anchors_each_root_once(tmp_path: Path, pause_at: str) -> None:
    data_dir = tmp_path / "data"
    acknowledged = issue_two_batches(data_dir)
    crashed = start_worker(data_dir, pause_at)
    wait_for_line(crashed, f"paused at {pause_at}")
    time.sleep(0.5)
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()

    resumed = start_worker(data_dir)
    try:
        wait_until_anchored(data_dir)
    finally:
        resumed.send_signal(signal.SIGTERM)
        resumed.wait(timeout=30)

    with Runtime(settings(data_dir)) as runtime:
        with runtime.engine.connect() as connection:
            rows = connection.execute(select(credentials.c.id, credentials.c.anchored)).all()
            roots = connection.execute(select(batches.c.root)).scalars().all()
        view = ChainView(runtime.ledger)
        anchored_roots = view.anchored_between(runtime.deployment.block, view.head())
        reports = verify_many([row.anchored for row in rows], Context(view))
    assert {row.id for row in rows} == acknowledged
    assert sorted(anchored_roots) == sorted(bytes(root) for root in roots)
    assert len(roots) == 2
    assert [report.verdict for report in reports] == [Status.VALID] * len(acknowledged)


ISSUERS = ("north-university", "east-college", "west-academy")
SESSIONS_A_ROUND = 3


def log_says(log: Path, text: str) -> bool:
    """Whether a child's log holds `text` yet."""
    return log.exists() and text in log.read_text("utf-8", errors="replace")


def mined_statuses(ledger: Ledger, first: int, last: int) -> list[int]:
    """The receipt status of every transaction mined in blocks `first` to `last`."""
    statuses = []
    for number in range(first, last + 1):
        for tx_hash in ledger.w3.eth.get_block(number)["transactions"]:
            receipt = ledger.receipt(HexBytes(cast(bytes, tx_hash)).to_0x_hex())
            assert receipt is not None
            statuses.append(receipt["status"])
    return statuses


@pytest.mark.timeout(300)
def test_three_workers_racing_on_postgresql_anchor_each_batch_once_after_a_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer
) -> None:
    data_dir, database_url = tmp_path / "data", postgres.new_database()
    with opened_runtime(data_dir, database_url, monkeypatch) as runtime:
        for slug in ISSUERS:
            accredited(runtime, slug)
        deployment, local = runtime.deployment, runtime.settings
    node_url = f"http://127.0.0.1:{free_port()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREDITBANK_")}
    env.update(CREDITBANK_DATA=str(data_dir), CREDITBANK_DATABASE_URL=database_url,
               CREDITBANK_LEDGER_URLS=node_url, CREDITBANK_BATCH_SECONDS="0.2")
    node = Child([*CREDITBANK, "node", "--data", str(data_dir), "--port",
                  node_url.rsplit(":", 1)[1], "--block-period", "0.1"], env, tmp_path / "node.log")
    victim_log = tmp_path / "victim.log"
    victim = Child([*PAUSED_WORKER, "-", "after-send"], env, victim_log)
    others = [Child([*CREDITBANK, "worker"], env, tmp_path / f"worker{n}.log") for n in range(2)]
    engine = open_engine(database_url, master_key=master_key(data_dir))
    issuance = Issuance.of(engine, settings=local, policy=BatchPolicy(size=3, max_age=0.2))
    killed_in_round = None
    try:
        node.start()
        eventually(lambda: rpc(node_url, "eth_chainId"), "the node")
        for worker in (victim, *others):
            worker.start()
        eventually(lambda: all(log_says(worker.log, "anchoring worker running")
                               for worker in (victim, *others)), "the workers")
        deadline = time.monotonic() + 90
        for round_number in itertools.count():
            for slug in ISSUERS:
                outcomes = outcomes_from_json([
                    outcome(learner, session=f"2025 round {round_number} part {part}")
                    for learner in LEARNERS for part in range(SESSIONS_A_ROUND)])
                with engine.begin() as connection:
                    issuance.issue(connection, issuer_record(engine, slug), outcomes,
                                   cryptosuite="eddsa-jcs-2022")
            time.sleep(0.3)
            if killed_in_round is None and log_says(victim_log, "paused at after-send"):
                victim.kill()
                killed_in_round = round_number
            elif killed_in_round is not None and round_number >= killed_in_round + 2:
                break
            assert time.monotonic() < deadline, "the victim never sent a transaction"
        assert killed_in_round is not None

        def everything_anchored() -> Sequence[str]:
            with engine.connect() as connection:
                states = connection.execute(select(batches.c.status)).scalars().all()
            if set(states) != {"anchored"}:
                raise OSError(f"batches: {sorted(states)}")
            return states

        states = eventually(everything_anchored, "every batch anchored", 120.0)
    finally:
        for worker in (victim, *others):
            worker.stop()
    try:
        ledger = Ledger.connect([node_url], deployment)
        view = ChainView(ledger)
        head = view.head()
        with engine.connect() as connection:
            roots = connection.execute(select(batches.c.root)).scalars().all()
            rows = connection.execute(select(credentials.c.anchored)).scalars().all()
        assert len(states) == len(roots) >= 3 * SESSIONS_A_ROUND * (killed_in_round + 1)
        assert sorted(view.anchored_between(deployment.block, head)) == sorted(map(bytes, roots))
        statuses = mined_statuses(ledger, deployment.block + 1, head)
        assert statuses and set(statuses) == {1}
        for slug in ISSUERS:
            latest, pending = ledger.nonces(issuer_account(engine, master_key(data_dir),
                                                           slug).address)
            assert latest == pending > 0
        reports = verify_many([json.loads(row) for row in rows], Context(view))
        assert {report.verdict for report in reports} == {Status.VALID}
    finally:
        engine.dispose()
        node.stop()
