"""Personal data never reaches the logs: capture every log record (all levels) and everything
written to stderr while the portal serves a journey, then look in each line for the personal
values the bank holds at that moment (every learner's id, DID, display name, identity hash and
notice e-mail, and the national ids the tests and the demo seed use)."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from typing import IO, Any

from sqlalchemy import Engine, select

from bank.seed import LEARNERS
from bank.tables import learners, notice_preferences
from tests.support.paths import TESTS

NATIONAL_ID = re.compile(r"\b\d{17}[\dX]\b")
SHORTEST = 4
"""Values shorter than this (a one-character display name) would match ordinary text."""


def known_national_ids() -> set[str]:
    """Every national id written in tests/support and in the demo seed's learners."""
    found = {learner.national_id for learner in LEARNERS}
    for path in (TESTS / "support").glob("*.py"):
        found.update(NATIONAL_ID.findall(path.read_text("utf-8")))
    return found


def personal_values(engine: Engine, national_ids: Iterable[str] = ()) -> dict[str, str]:
    """The personal values to look for, each with what it is."""
    values = {national_id: "a national id" for national_id in (*known_national_ids(),
                                                                 *national_ids)}
    with engine.connect() as connection:
        for row in connection.execute(select(learners.c.id, learners.c.did,
                                             learners.c.display_name, learners.c.identity_hash)):
            values |= {row.id: "a learner id", row.did: "a learner's DID",
                       row.identity_hash: "an identity hash"}
            if row.display_name:
                values[row.display_name] = "a learner's name"
        for email in connection.execute(select(notice_preferences.c.email)).scalars():
            if email:
                values[email] = "a notice e-mail address"
    return {value: what for value, what in values.items() if len(value) >= SHORTEST}


def leaks(lines: Iterable[str], values: dict[str, str]) -> list[str]:
    """Each line holding a personal value, with what it holds."""
    return [f"{values[value]} ({value!r}) in: {line}" for line in lines
            for value in values if value in line]


class _Records(logging.Handler):
    """Keeps every record it is given, formatted with its stack trace."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.NOTSET)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message (and its exception, if any)."""
        text = f"{record.name} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.lines.append(text)


class _Tee:
    """A stderr that also keeps what is written to it."""

    def __init__(self, stream: IO[str], lines: list[str]) -> None:
        self.stream = stream
        self.lines = lines

    def write(self, text: str) -> int:
        """Write through, and keep the text."""
        self.lines.append(text)
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class LogCapture:
    """Every log record of every logger, at every level, and all stderr output, while started."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._handler = _Records(self.lines)
        self._level = logging.WARNING
        self._others: dict[logging.Handler, int] = {}
        self._stderr: IO[str] | None = None

    def start(self) -> None:
        """Attach to the root logger (at DEBUG) and to stderr; the root's other handlers (pytest's
        among them) keep seeing only what they saw before."""
        root = logging.getLogger()
        self._level = root.level
        self._others = {handler: handler.level for handler in root.handlers}
        for handler in self._others:
            handler.setLevel(max(handler.level, root.getEffectiveLevel()))
        root.addHandler(self._handler)
        root.setLevel(logging.DEBUG)
        self._stderr = sys.stderr
        sys.stderr = _Tee(sys.stderr, self.lines)  # type: ignore[assignment]

    def stop(self) -> None:
        """Detach; the lines stay."""
        root = logging.getLogger()
        root.removeHandler(self._handler)
        root.setLevel(self._level)
        for handler, level in self._others.items():
            handler.setLevel(level)
        self._others = {}
        if self._stderr is not None:
            sys.stderr = self._stderr
            self._stderr = None

    def check(self, engine: Engine, national_ids: Iterable[str] = ()) -> None:
        """Fail when any line captured so far holds a personal value the bank now holds."""
        found = leaks(list(self.lines), personal_values(engine, national_ids))
        if found:
            raise AssertionError("personal data reached the logs:\n" + "\n".join(found[:20]))
