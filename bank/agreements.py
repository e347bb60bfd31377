"""Learning agreements (pre-approvals, as Erasmus learning agreements are): a learner asks the
receiving institution to agree what planned units, completed by a date, will count for in a
programme under one approved rule-set version. The institution approves (the agreement is then
signed as a W3C VC 2.0 credential, anchored with its batch) or refuses with reasons; a later
application under the agreement is decided with its lines honoured (`bank.honour`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select, update

from bank.applications import approved_rule_set
from bank.notices import notify
from bank.tables import agreements, learners
from credentials.model import (
    AgreedLine,
    AgreementTerms,
    IssuerProfile,
    PlannedUnit,
    agreement_credential,
)
from credentials.proofs import CRYPTOSUITES
from infra.audit import record
from infra.errors import Conflict, InvalidInput, NotFound, ServiceError
from infra.paging import keyset_page
from infra.settings import Settings
from infra.times import iso_utc
from issuers.catalogue import latest_units, planned_outcome
from issuers.issuance import Draft, Issuance, check_may_issue
from issuers.registry import issuer_record
from issuers.tables import credentials
from ledger.views import ChainView
from rules.audit import audit
from rules.fields import json_value
from rules.rulesets import RuleSet

REQUESTED = "requested"
APPROVED = "approved"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
MAX_UNITS = 20
LIST_PAGE = 50
AGREEMENT_UNIT = "AGREEMENT"


def request_agreement(engine: Engine, view: ChainView, learner: dict, *, programme: str,
                      units: Sequence[str], complete_by: str, now: float | None = None) -> dict:
    """Ask the programme's institution to pre-approve planned units; the same request again
    answers the agreement it made."""
    moment = now or time.time()
    rule_set, row = _programme(engine, view, programme, _today(moment))
    refs = _refs(units)
    deadline = _deadline(complete_by, rule_set, _today(moment))
    with engine.connect() as connection:
        found = latest_units(connection, [_split(ref) for ref in refs])
    missing = [ref for ref in refs if _split(ref) not in found]
    if missing:
        raise InvalidInput("no such unit in any catalogue: " + ", ".join(missing),
                           {"units": [f"{ref} is in no catalogue" for ref in missing]})
    planned = [found[_split(ref)] for ref in refs]
    lines = _agreed_lines(rule_set, learner["did"], planned, deadline)
    if not lines:
        raise InvalidInput("none of these units counts in this programme",
                           {"units": ["none of these units counts under these rules"]})
    unit_json = [_unit_json(unit) for unit in planned]
    with engine.begin() as connection:
        existing = connection.execute(select(agreements.c.id, agreements.c.units).where(
            agreements.c.learner_id == learner["id"],
            agreements.c.rule_set_id == rule_set.rule_set_id,
            agreements.c.version == rule_set.version,
            agreements.c.complete_by == deadline.isoformat(),
            agreements.c.status.in_((REQUESTED, APPROVED)))).all()
        same = next((item.id for item in existing
                     if sorted(unit["ref"] for unit in json.loads(item.units)) == sorted(refs)),
                    None)
        if same is not None:
            return _json(connection, _row(connection, same))
        agreement_id = str(uuid.uuid4())
        connection.execute(insert(agreements).values(
            id=agreement_id, learner_id=learner["id"], rule_set_id=rule_set.rule_set_id,
            version=rule_set.version, institution_id=row["issuer_id"],
            units=json.dumps(unit_json), complete_by=deadline.isoformat(), status=REQUESTED,
            lines=json.dumps(lines), requested_at=moment))
        return _json(connection, _row(connection, agreement_id))


def approve(engine: Engine, view: ChainView, agreement_id: str, institution_id: str, *,
            reviewer: str, settings: Settings, cryptosuite: str = CRYPTOSUITES[0],
            now: float | None = None) -> dict:
    """The institution approves: the lines are audited again and signed as the agreement's
    credential, which its anchoring worker anchors with the next batch."""
    moment = now or time.time()
    current = agreement_row(engine, agreement_id, institution_id=institution_id)
    if current["status"] == APPROVED:
        return agreement_json(engine, current)
    _expect_requested(current)
    rule_set, row = approved_rule_set(engine, view, current["rule_set_id"], current["version"])
    deadline = date.fromisoformat(current["complete_by"])
    if deadline <= _today(moment):
        raise Conflict("the date to complete the units by has passed",
                       {"complete_by": ["has passed"]})
    with engine.connect() as connection:
        learner = dict(connection.execute(select(learners).where(
            learners.c.id == current["learner_id"])).mappings().one())
        refs = [unit["ref"] for unit in json.loads(current["units"])]
        found = latest_units(connection, [_split(ref) for ref in refs])
    if len(found) != len(refs):
        raise Conflict("a planned unit left its catalogue", {"units": ["a unit is gone"]})
    planned = [found[_split(ref)] for ref in refs]
    lines = _agreed_lines(rule_set, learner["did"], planned, deadline)
    if not lines:
        raise Conflict("none of the planned units counts under this version any more",
                       {"units": ["none counts"]})
    issuer = issuer_record(engine, institution_id)
    check_may_issue(issuer)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    terms = AgreementTerms(
        programme_code=rule_set.programme.code, programme_title=rule_set.programme.title,
        rule_set_id=rule_set.rule_set_id, version=rule_set.version,
        content_hash="0x" + bytes(row["content_hash"]).hex(),
        units=tuple(PlannedUnit(unit["issuer_did"], unit["code"], unit["title"],
                                _number(unit["credit_value"]), unit["version"])
                    for unit in planned),
        lines=tuple(AgreedLine(tuple(line["units"]), line["provider"], line["decision"],
                               line.get("rule_id"), line.get("category"),
                               _number(line["credits"]), tuple(line.get("target_units", ())))
                    for line in lines),
        complete_by=current["complete_by"])
    unsigned = agreement_credential(
        credential_id=credential_id,
        issuer=IssuerProfile(did=issuer["did"], name=issuer["name"], name_zh=issuer["name_zh"],
                             url=issuer["url"]),
        learner_did=learner["did"], terms=terms, valid_from=iso_utc(moment))
    draft = Draft(credential_id=credential_id, learner_did=learner["did"],
                  learner_hash=learner["identity_hash"], unit_code=AGREEMENT_UNIT,
                  unit_version=1, session=agreement_id, unsigned=unsigned)
    issuance = Issuance.of(engine, settings=settings)
    try:
        with engine.begin() as connection:
            drafts = issuance.with_status(connection, institution_id, [draft])
            key_id, signed = issuance.sign(issuer, drafts, cryptosuite=cryptosuite)
            issuance.store(connection, institution_id, key_id, drafts, signed)
            _decide(connection, current, APPROVED, reviewer, [], moment,
                    lines=json.dumps(lines), units=json.dumps([_unit_json(u) for u in planned]),
                    credential_id=credential_id)
            return _json(connection, _row(connection, agreement_id))
    except Conflict as error:
        return _settled(engine, agreement_id, APPROVED, error)


def refuse(engine: Engine, agreement_id: str, institution_id: str, *, reviewer: str,
           reasons: Sequence[str], now: float | None = None) -> dict:
    """The institution refuses, stating its reasons."""
    reasons = [text.strip() for text in reasons if text.strip()]
    if not reasons:
        raise InvalidInput("a refusal states its reasons", {"reasons": ["must not be empty"]})
    current = agreement_row(engine, agreement_id, institution_id=institution_id)
    if current["status"] == REFUSED:
        return agreement_json(engine, current)
    _expect_requested(current)
    try:
        with engine.begin() as connection:
            _decide(connection, current, REFUSED, reviewer, reasons, now or time.time())
            return _json(connection, _row(connection, agreement_id))
    except Conflict as error:
        return _settled(engine, agreement_id, REFUSED, error)


def withdraw(engine: Engine, agreement_id: str, learner: dict, *,
             now: float | None = None) -> dict:
    """The learner withdraws a request not yet decided."""
    current = agreement_row(engine, agreement_id, learner_id=learner["id"])
    if current["status"] == WITHDRAWN:
        return agreement_json(engine, current)
    _expect_requested(current)
    with engine.begin() as connection:
        changed = connection.execute(update(agreements).where(
            agreements.c.id == agreement_id, agreements.c.status == REQUESTED).values(
            status=WITHDRAWN, decided_at=now or time.time()))
        if changed.rowcount == 0:
            raise Conflict("the request was decided meanwhile")
        return _json(connection, _row(connection, agreement_id))


def agreement_row(engine: Engine, agreement_id: str, *, learner_id: str | None = None,
                  institution_id: str | None = None) -> dict:
    """An agreement's row, if the learner or institution given may see it; else `NotFound`."""
    query = select(agreements).where(agreements.c.id == agreement_id)
    if learner_id is not None:
        query = query.where(agreements.c.learner_id == learner_id)
    if institution_id is not None:
        query = query.where(agreements.c.institution_id == institution_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no agreement {agreement_id}")
    return dict(row)


def agreements_of(engine: Engine, *, learner_id: str, after: str | None = None,
                  limit: int = LIST_PAGE) -> tuple[list[dict], str | None]:
    """A page of the learner's agreements, newest first, after the cursor `after`; and the next
    page's cursor. The index on (learner, requested, id) serves it."""
    query = select(agreements).where(agreements.c.learner_id == learner_id)
    with engine.connect() as connection:
        page = keyset_page(connection, query, (agreements.c.requested_at, agreements.c.id),
                           after=after, limit=limit, descending=True)
        return [_json(connection, dict(row)) for row in page.rows], page.after


def agreement_json(engine: Engine, row: dict) -> dict:
    """An agreement with its programme, units, agreed lines and, once approved, its credential."""
    with engine.connect() as connection:
        return _json(connection, row)


# -- internals ----------------------------------------------------------------------------------


def _programme(engine: Engine, view: ChainView, programme: str,
               today: date) -> tuple[RuleSet, dict]:
    """The approved rule-set version "ID@VERSION" in force today, or `InvalidInput`."""
    rule_set_id, _sep, version = str(programme).rpartition("@")
    if not rule_set_id or not version.isdigit():
        raise InvalidInput("programme is RULE_SET_ID@VERSION",
                           {"programme": ["must be RULE_SET_ID@VERSION"]})
    try:
        rule_set, row = approved_rule_set(engine, view, rule_set_id, int(version))
    except ServiceError as error:
        raise InvalidInput(error.message, {"programme": [error.message]}) from None
    if not rule_set.in_force(today):
        raise InvalidInput(f"version {version} of {rule_set_id!r} is not in force today",
                           {"programme": ["is not in force today"]})
    return rule_set, row


def _refs(units: Sequence[str]) -> list[str]:
    """The planned units' references "ISSUER:CODE", each once, at most MAX_UNITS."""
    if isinstance(units, str) or not isinstance(units, Sequence) or not units:
        raise InvalidInput("plan at least one unit", {"units": ["plan at least one unit"]})
    refs = list(dict.fromkeys(str(ref).strip() for ref in units))
    if len(refs) > MAX_UNITS:
        raise InvalidInput(f"at most {MAX_UNITS} units",
                           {"units": [f"at most {MAX_UNITS} units"]})
    wrong = [ref for ref in refs if not all(_split(ref))]
    if wrong:
        raise InvalidInput("a unit is ISSUER:CODE",
                           {"units": [f"{ref[:80]!r} is not ISSUER:CODE" for ref in wrong]})
    return refs


def _split(ref: str) -> tuple[str, str]:
    issuer, _sep, code = ref.partition(":")
    return issuer, code


def _deadline(value: str, rule_set: RuleSet, today: date) -> date:
    """The date the units are to be completed by: after today, while the rules are in force."""
    try:
        deadline = date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("complete_by is a date YYYY-MM-DD",
                           {"complete_by": ["must be a date YYYY-MM-DD"]}) from None
    if deadline <= today:
        raise InvalidInput("complete_by must be in the future",
                           {"complete_by": ["must be after today"]})
    if not rule_set.in_force(deadline):
        until = rule_set.valid_until.isoformat() if rule_set.valid_until else ""
        raise InvalidInput(f"the rules are in force until {until}",
                           {"complete_by": [f"must be on or before {until}"]})
    return deadline


def _agreed_lines(rule_set: RuleSet, learner_did: str, planned: Sequence[dict],
                  deadline: date) -> list[dict]:
    """The audit's lines for the planned units alone, completed on the deadline."""
    outcomes = [planned_outcome(unit, learner=learner_did, end_date=deadline) for unit in planned]
    report = audit([], rule_set, as_of=deadline, planned=outcomes).to_json()
    return list(report.get("lines", []))


def _unit_json(unit: dict) -> dict:
    return {"ref": f"{unit['issuer_id']}:{unit['code']}", "issuer": unit["issuer_id"],
            "issuer_did": unit["issuer_did"], "code": unit["code"], "title": unit["title"],
            "credits": _number(unit["credit_value"]), "version": unit["version"]}


def _number(value: object) -> float:
    number = json_value(Decimal(str(value)))
    return number if isinstance(number, int | float) else float(str(value))


def _today(moment: float) -> date:
    return datetime.fromtimestamp(moment, UTC).date()


def _expect_requested(row: dict) -> None:
    if row["status"] != REQUESTED:
        raise Conflict(f"the agreement is already {row['status']}",
                       {"status": [row["status"]]})


def _decide(connection: Connection, current: dict, status: str, reviewer: str,
            reasons: Sequence[str], moment: float, **values: object) -> None:
    """Record the institution's decision and tell the learner, or `Conflict` if it was decided
    meanwhile."""
    changed = connection.execute(update(agreements).where(
        agreements.c.id == current["id"], agreements.c.status == REQUESTED).values(
        status=status, reviewer=reviewer, reasons=json.dumps(list(reasons)), decided_at=moment,
        **values))
    if changed.rowcount == 0:
        raise Conflict("the agreement was decided meanwhile")
    record(connection, actor=f"institution:{current['institution_id']}",
           action=f"agreement.{'approve' if status == APPROVED else 'refuse'}",
           subject=current["id"], details={"reviewer": reviewer})
    notify(connection, recipient_kind="learner", recipient_id=current["learner_id"],
           kind="agreement_decided",
           params={"agreement": current["id"], "rule_set_id": current["rule_set_id"],
                   "version": current["version"], "status": status},
           link=f"/me/agreements/{current['id']}", once_key=f"agreement-decided:{current['id']}")


def _settled(engine: Engine, agreement_id: str, wanted: str, error: Conflict) -> dict:
    """After a conflict: the agreement as decided, if another request decided it as wanted;
    else the conflict."""
    row = agreement_row(engine, agreement_id)
    if row["status"] == REQUESTED:
        raise error
    if row["status"] != wanted:
        raise Conflict(f"the agreement is already {row['status']}", {"status": [row["status"]]})
    return agreement_json(engine, row)


def _row(connection: Connection, agreement_id: str) -> dict:
    return dict(connection.execute(select(agreements).where(agreements.c.id == agreement_id))
                .mappings().one())


def _json(connection: Connection, row: dict) -> dict:
    credential = None
    if row["credential_id"] is not None:
        stored = connection.execute(select(credentials.c.signed, credentials.c.anchored).where(
            credentials.c.id == row["credential_id"])).one()
        credential = {"id": row["credential_id"],
                      "status": "anchored" if stored.anchored else "signed",
                      "document": json.loads(stored.anchored or stored.signed)}
    lines = json.loads(row["lines"])
    return {
        "id": row["id"],
        "status": row["status"],
        "rule_set": {"id": row["rule_set_id"], "version": row["version"],
                     "institution": row["institution_id"]},
        "units": json.loads(row["units"]),
        "complete_by": row["complete_by"],
        "lines": lines,
        "agreed_credits": json_value(sum((Decimal(str(line["credits"])) for line in lines),
                                         Decimal(0))),
        "reviewer": row["reviewer"],
        "reasons": json.loads(row["reasons"]) if row["reasons"] else [],
        "requested_at": iso_utc(row["requested_at"]),
        "decided_at": iso_utc(row["decided_at"]),
        "credential": credential,
    }
