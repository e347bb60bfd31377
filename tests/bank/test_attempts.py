"""Failed sign-ins back off per account and per address on the shared table, with a clock of the
test's own: waits double to a cap and end by themselves, known browsers are counted apart."""

from __future__ import annotations

import pytest

from bank.attempts import (
    ADDRESS_FREE_FAILURES,
    ADDRESS_MAX_WAIT,
    FREE_FAILURES,
    MAX_WAIT,
    Attempt,
    Attempts,
    learner_account,
    staff_account,
)
from bank.errors import TooManyAttempts
from infra.database import open_database
from infra.errors import Unauthenticated


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A test clock."""
    return Clock()


@pytest.fixture
def attempts(database_url: str, clock: Clock) -> Attempts:
    """The back-off over an empty database, on the test clock."""
    return Attempts(open_database(database_url, master_key=bytes(32)), clock)


def wrong() -> dict:
    """A password check that fails."""
    raise Unauthenticated("the national id or the password is wrong")


def answer(attempts: Attempts, attempt: Attempt, check=wrong) -> int | str:
    """What an attempt gets: 'ok', 401, or the seconds it must wait (429)."""
    try:
        attempts.guarded(attempt, check)
    except TooManyAttempts as refusal:
        return refusal.retry_after
    except Unauthenticated:
        return 401
    return "ok"


def test_an_account_waits_twice_as_long_after_each_failure_up_to_a_cap(
        attempts: Attempts, clock: Clock) -> None:
    guess = Attempt(learner_account("did:web:bank:learners:wang"), "203.0.113.7")
    answers = [answer(attempts, guess) for _ in range(FREE_FAILURES)]
    waits = []
    for _ in range(7):
        waits.append(attempts.wait(guess))
        assert answer(attempts, guess, check=lambda: {"id": "wang"}) == waits[-1]
        clock.now += waits[-1]
        assert answer(attempts, guess) == 401
    assert answers == [401] * FREE_FAILURES
    assert waits == [30.0, 60.0, 120.0, 240.0, 480.0, MAX_WAIT, MAX_WAIT]


def test_a_success_clears_the_account_and_a_quiet_day_forgets_it(
        attempts: Attempts, clock: Clock) -> None:
    staff = Attempt(staff_account("BJOU-Admin "), "203.0.113.7")
    assert [answer(attempts, staff) for _ in range(FREE_FAILURES - 1)] == [401] * 4
    assert answer(attempts, staff, check=lambda: {"username": "bjou-admin"}) == "ok"
    assert [answer(attempts, staff) for _ in range(FREE_FAILURES)] == [401] * FREE_FAILURES
    assert attempts.wait(Attempt(staff_account("bjou-admin"), "198.51.100.1")) == 30.0
    clock.now += 24 * 3600 + 1
    assert [answer(attempts, staff) for _ in range(FREE_FAILURES - 1)] == [401] * 4
    assert attempts.wait(staff) == 0.0


def test_an_address_full_of_failures_waits_a_minute_at_most_but_not_for_known_browsers(
        attempts: Attempts, clock: Clock) -> None:
    nat = "198.51.100.20"
    sprayed = [answer(attempts, Attempt(learner_account(f"did:web:bank:learners:{n}"), nat))
               for n in range(ADDRESS_FREE_FAILURES)]
    newcomer = Attempt(learner_account("did:web:bank:learners:li"), nat)
    known = Attempt(learner_account("did:web:bank:learners:zhang"), nat, device="zhang-laptop")
    elsewhere = Attempt(learner_account("did:web:bank:learners:li"), "192.0.2.9")
    assert sprayed == [401] * ADDRESS_FREE_FAILURES
    assert (answer(attempts, newcomer, check=lambda: {"id": "li"}),
            answer(attempts, known, check=lambda: {"id": "zhang"}),
            answer(attempts, elsewhere, check=lambda: {"id": "li"})) == (1, "ok", "ok")
    waits = []
    for n in range(8):
        waits.append(attempts.wait(newcomer))
        clock.now += waits[-1]
        assert answer(attempts, Attempt(learner_account(f"did:web:bank:learners:x{n}"),
                                        nat)) == 401
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, ADDRESS_MAX_WAIT, ADDRESS_MAX_WAIT]


def test_a_known_browser_is_not_held_by_failures_elsewhere_and_its_own_count_apart(
        attempts: Attempts) -> None:
    account = learner_account("did:web:bank:learners:wang")
    attacker = Attempt(account, "203.0.113.66")
    owner = Attempt(account, "192.0.2.10", device="wang-phone")
    stolen = Attempt(account, "203.0.113.66", device="wang-phone")
    assert [answer(attempts, attacker) for _ in range(FREE_FAILURES + 1)] == [401] * 5 + [30]
    assert answer(attempts, owner, check=lambda: {"id": "wang"}) == "ok"
    assert [answer(attempts, stolen) for _ in range(FREE_FAILURES + 1)] == [401] * 5 + [30]
    assert (attempts.wait(owner), attempts.wait(attacker)) == (30.0, 30.0)
