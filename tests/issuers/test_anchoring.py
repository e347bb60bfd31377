"""kill -9 the anchoring worker mid-way: after a restart every acknowledged credential is
anchored, each batch root exactly once, and every credential verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from infra.database import open_engine
from infra.settings import Settings
from issuers.issuance import BatchPolicy, Issuance, outcomes_from_json
from issuers.registry import issuer_record
from issuers.tables import batches, credentials
from ledger.genesis import initialise
from ledger.views import ChainView
from portal.runtime import Runtime
from tests.support.issuer import accredited, outcome
from tests.support.paths import ROOT
from verify import Context, Status, verify_many

WORKER = [sys.executable, "-m", "portal.cli", "worker", "--data"]
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
