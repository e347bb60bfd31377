"""The browser harness's log scan is not vacuous: a log line or stderr output holding a learner's
DID, name or national id fails it, naming what leaked; ordinary lines pass."""

from __future__ import annotations

import logging
import sys

import pytest

from portal.runtime import Runtime
from tests.support.bank import LEARNER_ID
from tests.support.log_scan import LogCapture, known_national_ids, personal_values

NAME = "王芳测试 Wang Test"


@pytest.fixture
def learner(runtime: Runtime) -> dict:
    """A learner with an account (and a display name)."""
    return runtime.accounts.open(LEARNER_ID, "correct horse battery", display_name=NAME)


def captured(*, log: str = "", stderr: str = "") -> LogCapture:
    """A capture that saw one log line (at DEBUG, from a library's logger) and some stderr."""
    logs = LogCapture()
    logs.start()
    try:
        if log:
            logging.getLogger("some.library").debug("%s", log)
        if stderr:
            sys.stderr.write(stderr)
    finally:
        logs.stop()
    return logs


def test_a_line_with_a_learners_did_fails_the_scan(runtime: Runtime, learner: dict) -> None:
    logs = captured(log=f"looked up {learner['did']} in 3 ms")

    with pytest.raises(AssertionError, match="a learner's DID"):
        logs.check(runtime.engine)


def test_stderr_with_a_name_or_a_national_id_fails_the_scan(runtime: Runtime,
                                                             learner: dict) -> None:
    with pytest.raises(AssertionError, match="a learner's name"):
        captured(stderr=f"hello {NAME}\n").check(runtime.engine)
    with pytest.raises(AssertionError, match="a national id"):
        captured(stderr="id 110108199503120024 refused\n").check(runtime.engine)


def test_lines_without_personal_values_pass(runtime: Runtime, learner: dict) -> None:
    values = personal_values(runtime.engine)

    captured(log="GET /me/credentials/<ref> 200 3.1ms", stderr="ok\n").check(runtime.engine)

    assert {values[learner["did"]], values[learner["id"]], values[NAME]} == {
        "a learner's DID", "a learner id", "a learner's name"}
    assert {LEARNER_ID, "110108199503120024"} <= known_national_ids()
