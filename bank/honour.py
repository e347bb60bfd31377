"""Honouring a learning agreement in a decision: the agreed lines count for the planned units the
learner completed in time, whatever the audit of the day says; any condition not met is named,
and that line falls back to the ordinary audit."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, or_, select

from bank.tables import agreements
from infra.errors import Conflict, NotFound
from issuers.tables import credentials, revocations
from rules.codes import Code

UNMET = "agreement-condition-unmet"
PLANNED_PREFIX = "planned:"
UNFINISHED = (Code.FAILED, Code.NOT_COMPLETED)


class Condition(StrEnum):
    """A condition of the agreement that a decision found unmet."""

    MISSING = "unit-missing"
    NOT_COMPLETED = "not-completed"
    LATE = "completed-late"
    REVOKED = "outcome-revoked"
    EXCLUDED = "excluded-by-reviewer"
    AGREEMENT_REVOKED = "agreement-revoked"
    NOT_APPROVED = "agreement-not-approved"


@dataclass(frozen=True)
class Honoured:
    """What an agreement does to a decision: its lines, the outcomes they use, and the record."""

    lines: list[dict]
    used: set[str]
    reasons: list[dict]
    document: dict


def approved_agreement(engine: Engine, agreement_id: str, learner_id: str) -> dict:
    """The learner's approved agreement to apply under; `NotFound` or `Conflict` otherwise."""
    with engine.connect() as connection:
        row = connection.execute(select(agreements).where(
            agreements.c.id == agreement_id, agreements.c.learner_id == learner_id)
        ).mappings().first()
    if row is None:
        raise NotFound(f"no agreement {agreement_id}", {"agreement_id": ["no such agreement"]})
    if row["status"] != "approved":
        raise Conflict(f"the agreement is {row['status']}, not approved",
                       {"agreement_id": [f"is {row['status']}"]})
    return dict(row)


def honour(connection: Connection, agreement_id: str, report: dict,
           excluded: Collection[str]) -> Honoured:
    """The agreed lines met by the audited outcomes (`report`, the application's audit), and a
    reason naming the unit and the condition for every agreed unit that was not met."""
    row = connection.execute(select(agreements).where(agreements.c.id == agreement_id)
                             ).mappings().one()
    units = {unit["ref"]: unit for unit in json.loads(row["units"])}
    agreed = json.loads(row["lines"])
    problem = _agreement_problem(connection, dict(row))
    found: dict[str, tuple[str, str] | Condition] = {
        ref: problem or _unit_condition(unit, row["complete_by"], report, excluded)
        for ref, unit in units.items()}
    lines, used, unmet = [], set(), []
    for line in agreed:
        refs = [outcome.removeprefix(PLANNED_PREFIX) for outcome in line["outcome_ids"]]
        met = [value for ref in refs if isinstance(value := found[ref], tuple)]
        if len(met) == len(refs):
            ids = [outcome for outcome, _end in met]
            used.update(ids)
            lines.append({**line, "outcome_ids": ids, "planned": False, "agreement": row["id"],
                          "end_date": max(end for _outcome, end in met)})
        else:
            unmet += [{"unit": ref, "condition": str(found[ref])} for ref in refs
                      if not isinstance(found[ref], tuple)]
    reasons = [{"code": UNMET, "credentials": [], "params": item,
                "message": f"the learning agreement does not cover {item['unit']}: "
                           f"{item['condition']}"} for item in unmet]
    document = {"id": row["id"], "credential": row["credential_id"],
                "honoured": [{"units": line["units"], "credentials": line["outcome_ids"],
                              "category": line.get("category"), "credits": line["credits"]}
                             for line in lines],
                "unmet": unmet}
    return Honoured(lines=lines, used=used, reasons=reasons, document=document)


def _agreement_problem(connection: Connection, row: dict) -> Condition | None:
    """Why the agreement itself no longer holds: not approved, or its credential revoked."""
    if row["status"] != "approved" or row["credential_id"] is None:
        return Condition.NOT_APPROVED
    batch = select(credentials.c.batch_id).where(credentials.c.id == row["credential_id"])
    revoked = connection.execute(select(revocations.c.id).where(
        revocations.c.batch_id == batch.scalar_subquery(), revocations.c.status != "failed",
        or_(revocations.c.credential_id.is_(None),
            revocations.c.credential_id == row["credential_id"]))).first()
    return Condition.AGREEMENT_REVOKED if revoked is not None else None


def _unit_condition(unit: dict, complete_by: str, report: dict,
                    excluded: Collection[str]) -> tuple[str, str] | Condition:
    """(credential id, end date) of an outcome meeting the agreement for one planned unit, or
    the condition the closest attempt fails (a late pass rather than an earlier failure)."""
    problems: list[Condition] = []
    for entry, is_line in _entries(report):
        for outcome, code in zip(entry["outcome_ids"], entry["units"], strict=False):
            if entry["provider"] != unit["issuer_did"] or code != unit["code"]:
                continue
            condition = _condition(entry, is_line, outcome, complete_by, excluded)
            if condition is None:
                return outcome, entry["end_date"]
            problems.append(condition)
    return max(problems, key=list(Condition).index) if problems else Condition.MISSING


def _entries(report: dict) -> Sequence[tuple[dict, bool]]:
    return [*((line, True) for line in report["lines"]),
            *((refusal, False) for refusal in report["refusals"])]


def _condition(entry: dict, is_line: bool, outcome: str, complete_by: str,
               excluded: Collection[str]) -> Condition | None:
    if not is_line and entry["code"] == Code.REVOKED:
        return Condition.REVOKED
    if not is_line and entry["code"] in UNFINISHED:
        return Condition.NOT_COMPLETED
    if entry["end_date"] > complete_by:
        return Condition.LATE
    if outcome in excluded:
        return Condition.EXCLUDED
    return None
