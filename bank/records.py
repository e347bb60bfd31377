"""A learner's record: the credentials issuers delivered (as far as the learner proved who they
are, `bank.identity`) and the deposits the bank accepted, verified and read into the engine's
outcomes."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Engine, select, tuple_

from bank.identity import disclosure
from bank.tables import deposits
from credentials.anchoring import anchor_proof_of
from credentials.errors import CredentialError
from credentials.merkle import credential_digest
from credentials.model import AGREEMENT_TYPE
from infra.errors import InvalidInput
from issuers.learners import credentials_of_learner, delivered_summaries
from rules.errors import InvalidOutcome
from rules.outcomes import Outcome, outcome_from_credential
from verify import Context, Status, verify_many
from verify.codes import Code as VerifyCode
from verify.fragments import Report

ISSUED = "issued"
DEPOSIT = "deposit"
REVOKED_CODES = (VerifyCode.REVOKED_BATCH, VerifyCode.REVOKED_CREDENTIAL)
NOT_OUTCOMES = ("ClrCredential", AGREEMENT_TYPE)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Held:
    """One credential of a learner's record, where it came from, and whether a reviewer (not
    the verifier) accepted it."""

    source: str
    credential: dict
    reviewed: bool = False

    @property
    def id(self) -> str:
        """The credential's id."""
        return str(self.credential.get("id", ""))

    def anchor(self) -> tuple[bytes | None, bytes | None]:
        """The batch root and the leaf digest the credential is anchored under (None if not)."""
        try:
            proof = anchor_proof_of(self.credential)
            return (proof.root, credential_digest(self.credential)) if proof else (None, None)
        except CredentialError:
            return None, None


@dataclass(frozen=True)
class Verified:
    """The learner's outcomes, and the credentials left out of them with the reason."""

    outcomes: tuple[Outcome, ...]
    set_aside: tuple[dict, ...]


def held_credentials(engine: Engine, learner: dict) -> list[Held]:
    """Every credential in the learner's record: delivered ones they may see, then accepted
    deposits of credentials not among those (one deposited before a proof showed it)."""
    issuer_ids = disclosure(engine, learner["id"]).issuers()
    delivered = (credentials_of_learner(engine, learner["did"], issuer_ids=issuer_ids)
                 if issuer_ids is None or issuer_ids else [])
    held = [Held(ISSUED, credential) for credential in delivered if is_outcome(credential)]
    query = (select(deposits.c.credential, deposits.c.reviewer)
             .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted")
             .order_by(deposits.c.deposited_at, deposits.c.id))
    delivered_ids = {item.id for item in held}
    with engine.connect() as connection:
        deposited = [Held(DEPOSIT, json.loads(row.credential), reviewed=row.reviewer is not None)
                     for row in connection.execute(query)]
    return held + [item for item in deposited
                   if item.id not in delivered_ids and is_outcome(item.credential)]


def is_outcome(credential: dict) -> bool:
    """Whether a credential records learning: not a transcript (CLR) nor a learning agreement,
    which the record holds apart and never audits."""
    types = credential.get("type", ())
    return not any(name in types for name in NOT_OUTCOMES)


def held_agreements(engine: Engine, learner: dict) -> list[dict]:
    """The learning agreements delivered to the learner (anchored), held beside the record and
    listed apart from it: an agreement is no learning outcome."""
    return [credential for credential in credentials_of_learner(engine, learner["did"])
            if AGREEMENT_TYPE in credential.get("type", ())]


def verified_outcomes(context: Context, learner: dict, held: Sequence[Held]) -> Verified:
    """Verify every held credential in `context` and read it into an outcome of this learner.

    A revoked credential stays in (the audit refuses it with its reason); one that no longer
    verifies is set aside, unless a reviewer accepted it on its evidence (such a deposit may
    name the learner otherwise: it counts for this account).
    """
    reports = verify_held(context, held)
    outcomes, set_aside = [], []
    for item, report in zip(held, reports, strict=True):
        revoked = report.fragment("status").code in REVOKED_CODES
        if report.verdict is not Status.VALID and not revoked and not item.reviewed:
            failed = next(f for f in report.fragments if f.status is report.verdict)
            set_aside.append({"credential": item.id, "verdict": str(report.verdict),
                              "code": str(failed.code), "message": failed.message})
            continue
        try:
            outcome = outcome_from_credential(item.credential, revoked=revoked)
        except InvalidOutcome as error:
            set_aside.append({"credential": item.id, "verdict": str(report.verdict),
                              "code": "unreadable", "message": error.message})
            continue
        outcomes.append(replace(outcome, learner=learner["did"]))
    return Verified(outcomes=tuple(outcomes), set_aside=tuple(set_aside))


@dataclass(frozen=True)
class RecordPage:
    """A page of a learner's record and the cursor of the next one (None on the last page)."""

    credentials: list[dict]
    next: str | None


def record_page(engine: Engine, learner: dict, *, limit: int = PAGE_SIZE,
                after: str | None = None) -> RecordPage:
    """One page of the record, in the order of `held_credentials` (delivered credentials, then
    accepted deposits), listed from stored columns rather than by parsing each document."""
    phase, position = _read_cursor(after)
    entries: list[tuple[str, float, str, dict]] = []
    if phase == ISSUED:
        issuer_ids = disclosure(engine, learner["id"]).issuers()
        if issuer_ids is None or issuer_ids:
            entries += [(ISSUED, row["issued_at"], row["id"], _delivered_summary(row))
                        for row in delivered_summaries(engine, learner["did"], after=position,
                                                       limit=limit + 1, issuer_ids=issuer_ids)]
        position = None
    if len(entries) <= limit:
        query = (select(deposits.c.id, deposits.c.deposited_at, deposits.c.credential,
                        deposits.c.reviewer)
                 .where(deposits.c.learner_id == learner["id"], deposits.c.status == "accepted")
                 .order_by(deposits.c.deposited_at, deposits.c.id)
                 .limit(limit + 1 - len(entries)))
        if position is not None:
            query = query.where(tuple_(deposits.c.deposited_at, deposits.c.id) > position)
        with engine.connect() as connection:
            for row in connection.execute(query):
                held = Held(DEPOSIT, json.loads(row.credential), reviewed=row.reviewer is not None)
                entries.append((DEPOSIT, row.deposited_at, row.id, credential_summary(held)))
    if len(entries) <= limit:
        return RecordPage([entry[3] for entry in entries], None)
    phase, at, key, _ = entries[limit - 1]
    return RecordPage([entry[3] for entry in entries[:limit]], _write_cursor(phase, at, key))


def _delivered_summary(row: dict) -> dict:
    credits = row["credits"]
    return {
        "id": row["id"], "source": ISSUED, "issuer": row["issuer"], "unit": row["unit"],
        "title": row["title"], "kind": row["kind"],
        "credits": int(credits) if credits is not None and credits.is_integer() else credits,
        "completed_on": row["completed_on"],
        "level": f"{row['framework']} {row['level']}" if row["framework"] else None,
    }


def _write_cursor(phase: str, at: float, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([phase, at, key]).encode()).decode().rstrip("=")


def _read_cursor(cursor: str | None) -> tuple[str, tuple[float, str] | None]:
    """(phase, (time, id) to list after) of a cursor; the start of the record for None."""
    if cursor is None:
        return ISSUED, None
    try:
        phase, at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if phase in (ISSUED, DEPOSIT) and isinstance(at, int | float) and isinstance(key, str):
            return phase, (float(at), key)
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InvalidInput("after is not a cursor this record gave out",
                       {"after": ["not a cursor of this record"]})


def credential_summary(item: Held) -> dict:
    """What the learner's record lists for one credential."""
    credential = item.credential
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    issuer = credential.get("issuer")
    level = achievement.get("qualificationLevel")
    level = level if isinstance(level, dict) else {}
    return {
        "id": item.id,
        "source": item.source,
        "issuer": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "unit": achievement.get("humanCode"),
        "title": achievement.get("name"),
        "kind": achievement.get("kind"),
        "credits": subject.get("creditsEarned"),
        "completed_on": subject.get("activityEndDate"),
        "level": " ".join(str(level[key]) for key in ("levelFramework", "levelNumber")
                          if key in level) or None,
    }


@dataclass(frozen=True)
class Tally:
    """The credentials counted under one heading (an institution, kind, level or year)."""

    key: str
    count: int
    credits: Decimal


@dataclass(frozen=True)
class Overview:
    """A learner's record summed up by institution, kind of learning, level and year."""

    count: int
    credits: Decimal
    by_institution: tuple[Tally, ...]
    by_kind: tuple[Tally, ...]
    by_level: tuple[Tally, ...]
    by_year: tuple[Tally, ...]


def verify_held(context: Context, held: Sequence[Held]) -> list[Report]:
    """Verify every held credential in one context (one chain look-up per batch root)."""
    return verify_many([item.credential for item in held], context)


def record_overview(held: Sequence[Held]) -> Overview:
    """Count and sum the credits of credentials by issuer DID, kind, level and year."""
    groups: dict[str, dict[str, list[Decimal]]] = {
        name: defaultdict(list) for name in ("institution", "kind", "level", "year")}
    for item in held:
        summary = credential_summary(item)
        credits = summary["credits"]
        amount = Decimal(str(credits)) if isinstance(credits, int | float) else Decimal(0)
        keys = {"institution": summary["issuer"] or "",
                "kind": summary["kind"] or "",
                "level": summary["level"] or "",
                "year": str(summary["completed_on"] or item.credential.get("validFrom", ""))[:4]}
        for name, key in keys.items():
            groups[name][key].append(amount)

    def tallies(name: str, *, by_key: bool = False) -> tuple[Tally, ...]:
        found = [Tally(key, len(amounts), sum(amounts, Decimal(0)))
                 for key, amounts in groups[name].items()]
        order = (lambda t: t.key) if by_key else (lambda t: (-t.credits, t.key))
        return tuple(sorted(found, key=order))

    return Overview(
        count=len(held),
        credits=sum((t.credits for t in tallies("kind")), Decimal(0)),
        by_institution=tallies("institution"),
        by_kind=tallies("kind"),
        by_level=tallies("level", by_key=True),
        by_year=tallies("year", by_key=True),
    )
