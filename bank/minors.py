"""Minors (未成年人): the date of birth a mainland national id carries, who needs a guardian (under
14), who is a minor (under 18), and the guardians who manage an account until its learner turns 14.

A guardian signs in through the city's sign-on, which vouches for their national id (so they are
known by its DID and proven an adult); they consent to a child's account, which opens (or, opened
by an institution or the centre, unlocks) only then. Their access ends, checked on every request,
on the learner's fourteenth birthday; between 14 and 18 sensitive data (grades, documents,
evidence) is shown to the learner and their reviewers only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select

from bank.tables import ADULT_AGE, GUARDIANS_UNTIL_AGE, guardians, learners
from infra.errors import Forbidden, NotFound

_MAINLAND_ID = re.compile(r"^[0-9]{17}[0-9X]$")
EARLIEST_BIRTH = date(1900, 1, 1)


def birth_date_of(national_id: str) -> date | None:
    """The date of birth in an 18-character mainland national id (digits 7–14, YYYYMMDD); None
    when it is not one or carries no real date (e.g. "000000000000000000").

    The check digit is not required to match: a mistyped one must not make a child an adult."""
    text = "".join(str(national_id).split()).upper()
    if not _MAINLAND_ID.match(text):
        return None
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None
    return born if EARLIEST_BIRTH <= born <= today() else None


def age_on(birth: date, day: date) -> int:
    """Whole years from `birth` to `day` (a 29 February birthday falls on 1 March)."""
    years = day.year - birth.year
    return years - 1 if (day.month, day.day) < (birth.month, birth.day) else years


def birthday(birth: date, age: int) -> date:
    """The day the person born on `birth` turns `age` (1 March for 29 February in common years)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return date(birth.year + age, 3, 1)


def birth_of(learner: dict) -> date | None:
    """The learner's stored date of birth; None when their national id carries none."""
    stored = learner.get("birth_date")
    return date.fromisoformat(stored) if stored else None


def guardian_needed(learner: dict, today: date) -> bool:
    """Whether the learner is under 14 today: their account needs a guardian's consent."""
    return needs_guardian(birth_of(learner), today)


def minor(learner: dict, today: date) -> bool:
    """Whether the learner is under 18 today: their sensitive data is shown to them and their
    reviewers only."""
    birth = birth_of(learner)
    return birth is not None and age_on(birth, today) < ADULT_AGE


def needs_guardian(birth: date | None, day: date) -> bool:
    """Whether someone born on `birth` (None: unknown, treated as an adult) is under 14 on `day`."""
    return birth is not None and age_on(birth, day) < GUARDIANS_UNTIL_AGE


def adult(birth: date | None, day: date) -> bool:
    """Whether someone born on `birth` is 18 or over on `day` (unknown: not shown to be)."""
    return birth is not None and age_on(birth, day) >= ADULT_AGE


def today() -> date:
    """Today's date (UTC), against which ages are counted."""
    return datetime.now(UTC).date()


def guardian_of(connection: Connection, learner_id: str) -> dict | None:
    """The guardian row of a learner's account (whether or not it has ended), or None."""
    row = connection.execute(select(guardians).where(
        guardians.c.learner_id == learner_id)).mappings().first()
    return dict(row) if row is not None else None


def guardianship(target: Engine | Connection, learner: dict, day: date) -> dict | None:
    """What the learner's own pages show of a guardian: since when, until when, and whether it
    has ended (the learner turned 14); None when no guardian consented to the account."""
    if isinstance(target, Connection):
        row = guardian_of(target, learner["id"])
    else:
        with target.connect() as connection:
            row = guardian_of(connection, learner["id"])
    birth = birth_of(learner)
    if row is None or birth is None:
        return None
    until = birthday(birth, GUARDIANS_UNTIL_AGE)
    return {"since": row["since"], "until": until, "ended": day >= until}


def wards_of(engine: Engine, guardian_did: str, day: date) -> list[dict]:
    """The accounts a guardian manages today (learners under 14), each with the learner's name,
    age and the day the guardian's access ends, youngest last."""
    query = (select(learners, guardians.c.since).join(
        guardians, guardians.c.learner_id == learners.c.id)
        .where(guardians.c.guardian_did == guardian_did))
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
    managed = []
    for row in rows:
        birth = birth_of(row)
        if birth is None or not needs_guardian(birth, day):
            continue
        managed.append({"learner": row, "age": age_on(birth, day),
                        "until": birthday(birth, GUARDIANS_UNTIL_AGE), "since": row["since"]})
    return sorted(managed, key=lambda item: (-item["age"], item["learner"]["id"]))


def ward(engine: Engine, guardian_did: str, learner_id: str, day: date) -> dict:
    """The account of a learner this guardian manages today; `NotFound` for anyone else's,
    `Forbidden` once the learner has turned 14 (the guardian's access has ended)."""
    with engine.connect() as connection:
        row = connection.execute(select(learners).join(
            guardians, guardians.c.learner_id == learners.c.id).where(
            learners.c.id == learner_id,
            guardians.c.guardian_did == guardian_did)).mappings().first()
    if row is None:
        raise NotFound("no account you manage has this id")
    learner = dict(row)
    if not guardian_needed(learner, day):
        raise Forbidden("the learner has turned 14: your access as their guardian has ended")
    return learner


def minor_account(engine: Engine, day: date, *, did: str | None = None,
                  learner_id: str | None = None) -> bool:
    """Whether the learner with this DID (or account id) has an account that shows them under 18
    on `day`."""
    key = learners.c.did == did if learner_id is None else learners.c.id == learner_id
    with engine.connect() as connection:
        stored = connection.execute(select(learners.c.birth_date).where(key)).scalar_one_or_none()
    return minor({"birth_date": stored}, day)
