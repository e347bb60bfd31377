"""What proves who a learner is, and how much of what was issued to their national id their
record shows for it.

A national id is no secret: anyone who knows one can sign up with it. So an account shows the
credentials issued to its identity only as far as its holder proved who they are:

- real name (the city's single sign-on vouching for the national id, or an operator's check in
  person at the centre): everything issued to that identity;
- an institution's activation code: what that institution issued;
- nothing (self sign-up): none of it; only what the learner deposited themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, insert, select

from bank.tables import PROOF_METHODS, identity_proofs
from infra.times import iso_utc

ACTIVATION, CITY, IN_PERSON = PROOF_METHODS
REAL_NAME = frozenset({CITY, IN_PERSON})


@dataclass(frozen=True)
class Disclosure:
    """What a learner proved: their real name, or the institutions whose codes they used."""

    real_name: bool
    institutions: frozenset[str]

    def issuers(self) -> frozenset[str] | None:
        """The institutions whose credentials the record shows; None for every institution."""
        return None if self.real_name else self.institutions


def disclosure(target: Engine | Connection, learner_id: str) -> Disclosure:
    """What the learner's proofs let their record show."""
    query = select(identity_proofs.c.method, identity_proofs.c.institution_id).where(
        identity_proofs.c.learner_id == learner_id)
    if isinstance(target, Connection):
        return _disclosure_of(target.execute(query).all())
    with target.connect() as connection:
        return _disclosure_of(connection.execute(query).all())


def add_proof(connection: Connection, learner_id: str, method: str, *, vouched_by: str,
              institution_id: str | None = None) -> None:
    """Record what proved who the learner is, in the caller's transaction."""
    connection.execute(insert(identity_proofs).values(
        learner_id=learner_id, method=method, institution_id=institution_id,
        vouched_by=vouched_by, proved_at=time.time()))


def identity_json(target: Engine | Connection, learner_id: str) -> dict:
    """The learner's proofs as they see them, and what their record shows for them."""
    query = (select(identity_proofs.c.method, identity_proofs.c.institution_id,
                    identity_proofs.c.proved_at)
             .where(identity_proofs.c.learner_id == learner_id)
             .order_by(identity_proofs.c.proved_at, identity_proofs.c.id))
    if isinstance(target, Connection):
        rows = target.execute(query).all()
    else:
        with target.connect() as connection:
            rows = connection.execute(query).all()
    shown = _disclosure_of(rows)
    return {
        "real_name": shown.real_name,
        "institutions": sorted(shown.institutions),
        "proofs": [{"method": row.method, "institution": row.institution_id,
                    "proved_at": iso_utc(row.proved_at)} for row in rows],
    }


def _disclosure_of(rows: Sequence[Row]) -> Disclosure:
    return Disclosure(
        real_name=any(row.method in REAL_NAME for row in rows),
        institutions=frozenset(row.institution_id for row in rows
                               if row.method == ACTIVATION and row.institution_id),
    )
