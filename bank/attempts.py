"""Failed sign-ins, counted once for every way of signing in (the learner's form, the learner
API's token, the staff form), with exponential back-off instead of a lock.

Three kinds of counter share the `sign_in_failures` table:

- an account's (a learner's DID, a staff user name): `FREE_FAILURES` in a row cost nothing; from
  then on the account waits `FIRST_WAIT`, and each further failure doubles the wait up to
  `MAX_WAIT`. While it waits, every attempt on it is refused before its password is checked.
- a known browser's: one that signed in to the account before (the portal's device cookie) is
  counted on its own instead of the account, so whoever keeps an account waiting does not keep its
  owner out of the browser they always use.
- a client address's: only failures count, of every account; `ADDRESS_FREE_FAILURES` cost
  nothing, then the address waits from a second doubling to `ADDRESS_MAX_WAIT`. Known browsers
  are not held by it: many learners behind one address (a campus NAT) who signed in there before
  keep signing in while one of them guesses, and a newcomer waits a minute at most.

A success clears the account's (or the browser's) count, never the address's. Counts are
forgotten after a quiet spell. Unknown accounts are counted like known ones, so the answers do
not tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bank.errors import TooManyAttempts
from bank.tables import sign_in_failures
from infra.errors import Unauthenticated

T = TypeVar("T")

FREE_FAILURES = 5
FIRST_WAIT = 30.0
MAX_WAIT = 15 * 60.0
FORGET_SECONDS = 24 * 3600.0
ADDRESS_FREE_FAILURES = 20
ADDRESS_FIRST_WAIT = 1.0
ADDRESS_MAX_WAIT = 60.0
ADDRESS_FORGET_SECONDS = 3600.0


@dataclass(frozen=True)
class Rule:
    """How a kind of counter backs off: free failures, the first wait, its cap, and when a quiet
    counter is forgotten."""

    free: int
    first: float
    cap: float
    forget: float

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after this many failures in a row."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** min(failures - self.free, 32))


ACCOUNT_RULE = Rule(FREE_FAILURES, FIRST_WAIT, MAX_WAIT, FORGET_SECONDS)
ADDRESS_RULE = Rule(ADDRESS_FREE_FAILURES, ADDRESS_FIRST_WAIT, ADDRESS_MAX_WAIT,
                    ADDRESS_FORGET_SECONDS)


def learner_account(did: str) -> str:
    """The counter name of a learner account (by DID, whether or not it exists)."""
    return f"learner:{did}"


def staff_account(username: str) -> str:
    """The counter name of a staff account (by user name, whether or not it exists)."""
    return f"staff:{username.strip().lower()}"


@dataclass(frozen=True)
class Attempt:
    """One try at signing in: the account's counter name, the client address, and the device id
    of the browser when it signed in to this account before."""

    account: str
    address: str
    device: str | None = None

    def own_key(self) -> str:
        """The counter this attempt's failures count on: the known browser's, else the account's."""
        return _key("device", self.device) if self.device else _key("account", self.account)

    def address_key(self) -> str:
        """The counter of the client address."""
        return _key("address", self.address)


class Attempts:
    """The back-off of sign-ins over the database, shared by every process and way of signing in."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def wait(self, attempt: Attempt) -> float:
        """Seconds this attempt must wait before its password may be checked (0: go ahead)."""
        now = self.clock()
        keys = {attempt.own_key(): ACCOUNT_RULE}
        if attempt.device is None:
            keys[attempt.address_key()] = ADDRESS_RULE
        with self.engine.connect() as connection:
            rows = connection.execute(select(sign_in_failures).where(
                sign_in_failures.c.key_sha256.in_(list(keys)))).mappings().all()
        return max((row["wait_until"] - now for row in rows
                    if now - row["last_failure"] <= keys[row["key_sha256"]].forget), default=0.0)

    def guarded(self, attempt: Attempt, check: Callable[[], T]) -> T:
        """`check()` (which raises `Unauthenticated` for a wrong password) unless the attempt must
        wait (`TooManyAttempts`, with the seconds to wait); its failure or success is counted."""
        wait = self.wait(attempt)
        if wait > 0:
            raise TooManyAttempts(math.ceil(wait))
        try:
            result = check()
        except Unauthenticated:
            self.failed(attempt)
            raise
        self.succeeded(attempt)
        return result

    def failed(self, attempt: Attempt) -> None:
        """Count a failure on the account (or the known browser) and on the address."""
        now = self.clock()
        with self.engine.begin() as connection:
            _count(connection, attempt.own_key(), ACCOUNT_RULE, now)
            _count(connection, attempt.address_key(), ADDRESS_RULE, now)

    def succeeded(self, attempt: Attempt) -> None:
        """Forget the failures of the account (or the known browser) after a success."""
        with self.engine.begin() as connection:
            connection.execute(delete(sign_in_failures).where(
                sign_in_failures.c.key_sha256 == attempt.own_key()))


def _count(connection: Connection, key: str, rule: Rule, now: float) -> None:
    """Add a failure to a counter in one statement (starting over after a quiet spell), then set
    its wait."""
    table = sign_in_failures
    upsert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    failures = connection.execute(
        upsert(table)
        .values(key_sha256=key, failures=1, wait_until=now, last_failure=now)
        .on_conflict_do_update(index_elements=[table.c.key_sha256], set_={
            "failures": case((table.c.last_failure < now - rule.forget, 1),
                             else_=table.c.failures + 1),
            "last_failure": now})
        .returning(table.c.failures)).scalar_one()
    connection.execute(update(table).where(table.c.key_sha256 == key)
                       .values(wait_until=now + rule.wait_after(failures)))


def _key(kind: str, name: str) -> str:
    return hashlib.sha256(f"{kind}\n{name}".encode()).hexdigest()
