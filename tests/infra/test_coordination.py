"""Coordination between processes and hosts: one leader per name, which another process
replaces within a bounded time after kill -9; one sender per chain account."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.coordination import AccountBusy, Leadership, account_sender, leader
from infra.database import open_engine
from tests.support.contender import RETRY
from tests.support.nodes import eventually
from tests.support.paths import ROOT

CONTENDER = [sys.executable, "-m", "tests.support.contender"]
ACCOUNT = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
TAKE_OVER_ALLOWANCE = 5.0
"""Seconds beyond the retry period a take-over may take on two cores shared with other jobs."""


def leaders(notes: Path) -> list[tuple[int, float]]:
    """Each pass a leader noted: (pid, time)."""
    if not notes.exists():
        return []
    return [(int(pid), float(moment)) for pid, moment in
            (line.split() for line in notes.read_text().splitlines() if line.strip())]


def test_one_of_two_processes_leads_and_the_other_takes_over_after_kill_9(
    tmp_path: Path, database_url: str
) -> None:
    open_engine(database_url).dispose()
    notes = tmp_path / "leaders.txt"
    command = [*CONTENDER, database_url, "revocation-watch", str(notes)]
    first = subprocess.Popen(command, cwd=ROOT)
    second = None
    try:
        eventually(lambda: leaders(notes), "a leader")
        second = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        assert second.stderr is not None
        assert second.stderr.readline().strip() == "contending"
        time.sleep(5 * RETRY)
        assert {pid for pid, _ in leaders(notes)} == {first.pid}
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.time()
        taken = eventually(lambda: [moment for pid, moment in leaders(notes)
                                  if pid == second.pid], "the take-over")
        assert taken[0] - killed_at < RETRY + TAKE_OVER_ALLOWANCE
        time.sleep(0.5)
        assert {pid for pid, moment in leaders(notes) if moment > killed_at} == {second.pid}
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def test_a_second_contender_in_the_same_process_does_not_lead(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        with leader(engine, "status-list-publisher") as first:
            with leader(engine, "status-list-publisher") as second:
                assert (first, second) == (True, False)
            with leader(engine, "revocation-watch") as other_name:
                assert other_name
        with leader(engine, "status-list-publisher") as again:
            assert again
    finally:
        engine.dispose()


def test_a_leadership_is_kept_between_calls_until_released(database_url: str) -> None:
    engine = open_engine(database_url)
    held, other = Leadership(engine, "publisher"), Leadership(engine, "publisher")
    try:
        assert [held.held(), other.held(), held.held()] == [True, False, True]
        held.release()
        assert [other.held(), held.held()] == [True, False]
    finally:
        held.release()
        other.release()
        engine.dispose()


def test_one_sender_at_a_time_per_account(database_url: str) -> None:
    engine = open_engine(database_url)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with account_sender(engine, ACCOUNT):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert entered.wait(10)
        started = time.monotonic()
        with pytest.raises(AccountBusy), account_sender(engine, ACCOUNT.lower(), wait=0.3):
            pass
        assert time.monotonic() - started >= 0.3
        with account_sender(engine, "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2", wait=0.3):
            pass
        release.set()
        holder.join(10)
        with account_sender(engine, ACCOUNT, wait=0.3):
            pass
    finally:
        release.set()
        holder.join(10)
        engine.dispose()
