"""The learner's planner: catalogue units they plan to study, audited as planned outcomes beside
the verified record (a what-if), compared across up to three programmes, and the catalogue units
that would fill each gap of the chosen programme, found by auditing them with the same engine.

A planned unit is referred to as "ISSUER_ID:CODE" (e.g. "bjou:CS101").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from bank.applications import approved_rule_set, audit_json, target_of
from bank.records import held_credentials, verified_outcomes
from bank.tables import MAX_PLANNED_UNITS, planned_units
from infra.errors import Conflict, InvalidInput, NotFound, ServiceError
from issuers.catalogue import latest_units, parse_unit_ref, planned_outcome
from issuers.tables import issuers, units
from ledger.views import ChainView
from rules.fields import json_value
from rules.outcomes import Outcome
from rules.planner import Pattern, gap_fillers, patterns
from rules.rulesets import RuleSet
from verify import Context

MAX_COMPARED = 3
MAX_CANDIDATES = 200


@dataclass(frozen=True)
class Plan:
    """The learner's planned units (catalogue rows, oldest first) and their planned outcomes."""

    units: tuple[dict, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def refs(self) -> list[str]:
        """The planned units' references."""
        return [unit_ref(row["issuer_id"], row["code"]) for row in self.units]


def unit_ref(issuer_id: str, code: str) -> str:
    """A unit's reference, "ISSUER_ID:CODE"."""
    return f"{issuer_id}:{code}"


def parse_ref(ref: object, field: str = "unit") -> tuple[str, str]:
    """(issuer id, unit code) from "ISSUER_ID:CODE"; `InvalidInput` naming `field` otherwise."""
    parsed = parse_unit_ref(ref) if isinstance(ref, str) else None
    if parsed is None:
        raise InvalidInput(f"{field} must be ISSUER:CODE", {field: ["must be ISSUER:CODE"]})
    return parsed


def parse_programme(value: object, field: str = "compare") -> tuple[str, int]:
    """(rule set id, version) from "RULE_SET_ID@VERSION"; `InvalidInput` naming `field`."""
    rule_set_id, _sep, version = value.rpartition("@") if isinstance(value, str) else ("", "", "")
    if not rule_set_id or not version.isdigit() or len(version) > 10:
        raise InvalidInput(f"{field} must be RULE_SET_ID@VERSION",
                           {field: ["must be RULE_SET_ID@VERSION"]})
    return rule_set_id, int(version)


# -- the plan ------------------------------------------------------------------------------------


def plan_of(engine: Engine, learner: dict, *, today: date | None = None) -> Plan:
    """The learner's planned units, each at its latest catalogue version, as planned outcomes
    completed `today` (default: today)."""
    with engine.connect() as connection:
        return _plan(connection, learner, today or _today(None))


def add_to_plan(engine: Engine, learner: dict, ref: object, *, now: float | None = None) -> Plan:
    """Plan a catalogue unit (planning it again changes nothing); at most `MAX_PLANNED_UNITS`.
    A unit already in the record may be planned: the audit's repeat rule answers for it."""
    issuer_id, code = parse_ref(ref)
    moment = now or time.time()
    with engine.begin() as connection:
        if not latest_units(connection, [(issuer_id, code)]):
            raise NotFound(f"no unit {ref!r} in the catalogue", {"unit": ["no such unit"]})
        planned = _planned_keys(connection, learner)
        if (issuer_id, code) not in planned:
            if len(planned) >= MAX_PLANNED_UNITS:
                raise Conflict(f"a plan holds at most {MAX_PLANNED_UNITS} units",
                               {"unit": [f"a plan holds at most {MAX_PLANNED_UNITS} units"]})
            try:
                with connection.begin_nested():
                    connection.execute(insert(planned_units).values(
                        learner_id=learner["id"], issuer_id=issuer_id, code=code,
                        added_at=moment))
            except IntegrityError:
                pass
        return _plan(connection, learner, _today(now))


def remove_from_plan(engine: Engine, learner: dict, ref: object, *,
                     now: float | None = None) -> Plan:
    """Take a unit out of the plan; `NotFound` when it is not in it."""
    issuer_id, code = parse_ref(ref)
    with engine.begin() as connection:
        removed = connection.execute(delete(planned_units).where(
            planned_units.c.learner_id == learner["id"], planned_units.c.issuer_id == issuer_id,
            planned_units.c.code == code))
        if removed.rowcount == 0:
            raise NotFound(f"{ref!r} is not in your plan", {"unit": ["is not in your plan"]})
        return _plan(connection, learner, _today(now))


def plan_json(plan: Plan) -> dict:
    """The plan for the API: each unit's reference, title, kind, credits and institution."""
    return {"units": [{"ref": unit_ref(row["issuer_id"], row["code"]), "issuer": row["issuer_id"],
                       "code": row["code"], "title": row["title"], "kind": row["kind"],
                       "credits": row["credit_value"], "credit_scheme": row["credit_scheme"],
                       "version": row["version"]} for row in plan.units],
            "limit": MAX_PLANNED_UNITS}


def _planned_keys(connection: Connection, learner: dict) -> list[tuple[str, str]]:
    rows = connection.execute(
        select(planned_units.c.issuer_id, planned_units.c.code)
        .where(planned_units.c.learner_id == learner["id"])
        .order_by(planned_units.c.added_at, planned_units.c.issuer_id, planned_units.c.code))
    return [(row.issuer_id, row.code) for row in rows]


def _plan(connection: Connection, learner: dict, today: date) -> Plan:
    keys = _planned_keys(connection, learner)
    found = latest_units(connection, keys)
    rows = tuple(_with_names(connection, [found[key] for key in keys if key in found]))
    return Plan(units=rows, outcomes=tuple(
        planned_outcome(row, learner=learner["did"], end_date=today) for row in rows))


def _with_names(connection: Connection, rows: list[dict]) -> list[dict]:
    """Catalogue rows with their institution's names (`issuer_name`, `issuer_name_zh`)."""
    ids = {row["issuer_id"] for row in rows}
    names = {row.id: row for row in connection.execute(
        select(issuers.c.id, issuers.c.name, issuers.c.name_zh).where(issuers.c.id.in_(ids)))}
    return [{**row, "ref": unit_ref(row["issuer_id"], row["code"]),
             "issuer_name": names[row["issuer_id"]].name,
             "issuer_name_zh": names[row["issuer_id"]].name_zh} for row in rows]


def _today(now: float | None) -> date:
    return datetime.fromtimestamp(now or time.time(), UTC).date()


# -- the what-if, the comparison and the gaps ----------------------------------------------------


def planner(engine: Engine, view: ChainView, learner: dict, context: Context, *,
            compare: Sequence[str] = (), now: float | None = None) -> dict:
    """The learner's chosen programme audited now and with the plan, the programmes compared
    (`compare`: up to three "RULE_SET_ID@VERSION", the chosen one first), and, for each
    requirement the plan leaves unmet, the catalogue units that would help it.

    `NotFound` when no programme is chosen; `Conflict` when its rules are not in force today;
    `InvalidInput` (field "compare") for more than three programmes or one not approved."""
    chosen = target_of(engine, learner)
    programmes = _compared(chosen, compare)
    rule_set, _row = approved_rule_set(engine, view, chosen["rule_set_id"], chosen["version"])
    verified = verified_outcomes(context, learner, held_credentials(engine, learner))
    plan = plan_of(engine, learner, today=_today(now))
    earned = audit_json(verified.outcomes, rule_set, now=now)
    with_plan = audit_json(verified.outcomes, rule_set, now=now, planned=plan.outcomes)
    compared = []
    for rule_set_id, version in programmes:
        if (rule_set_id, version) == (chosen["rule_set_id"], chosen["version"]):
            compared.append(_comparison(rule_set_id, version, earned, with_plan))
            continue
        try:
            other, _row = approved_rule_set(engine, view, rule_set_id, version)
        except ServiceError:
            raise InvalidInput(f"{rule_set_id}@{version} is not an approved programme", {
                "compare": [f"{rule_set_id}@{version} is not an approved programme"]}) from None
        try:
            compared.append(_comparison(
                rule_set_id, version, audit_json(verified.outcomes, other, now=now),
                audit_json(verified.outcomes, other, now=now, planned=plan.outcomes)))
        except Conflict:
            compared.append({"rule_set_id": rule_set_id, "version": version, "in_force": False})
    return {"audit": with_plan, "earned": earned, "set_aside": list(verified.set_aside),
            "plan": plan, "compared": compared,
            "gaps": gaps(engine, rule_set, learner, verified.outcomes, plan, today=_today(now))}


def gaps(engine: Engine, rule_set: RuleSet, learner: dict, earned: Sequence[Outcome],
         plan: Plan, *, today: date, limit: int = MAX_CANDIDATES) -> list[dict]:
    """Each requirement the plan leaves unmet, with up to five catalogue units that would help
    it (each audited with the plan plus itself), as plain JSON with the units' catalogue rows."""
    with engine.connect() as connection:
        rows = candidate_units(connection, rule_set, exclude=set(plan.refs), limit=limit)
        rows = {row["ref"]: row for row in _with_names(connection, list(rows.values()))}
    candidates = {ref: planned_outcome(row, learner=learner["did"], end_date=today)
                  for ref, row in rows.items()}
    found = gap_fillers(rule_set, earned, plan.outcomes, candidates, as_of=today)
    return [{"requirement": gap.requirement.id, "code": gap.requirement.code.value,
             "shortfall": json_value(gap.requirement.shortfall),
             "missing_units": list(gap.requirement.missing_units),
             "fillers": [{"ref": filler.ref, "gain": json_value(filler.gain),
                          "units": list(filler.units), "fills": filler.fills,
                          "unit": rows[filler.ref]}
                         for filler in gap.fillers]}
            for gap in found]


def candidate_units(connection: Connection, rule_set: RuleSet, *, exclude: set[str],
                    limit: int = MAX_CANDIDATES) -> dict[str, dict]:
    """Up to `limit` catalogue units (latest versions, by reference) that the programme's
    curriculum or grant rules name, the most specifically named first (see
    `rules.planner.patterns`); units in `exclude` (references) are left out."""
    wanted = patterns(rule_set)
    dids = {row.did: row.id for row in connection.execute(select(issuers.c.did, issuers.c.id))}
    refs: dict[str, tuple[str, str]] = {}

    def take(query_rows: Sequence[tuple[str, str, str, str]], group: Sequence[Pattern]) -> None:
        for pattern in group:
            for issuer_id, did, code, kind in query_rows:
                ref = unit_ref(issuer_id, code)
                if len(refs) >= limit:
                    return
                if ref not in exclude and ref not in refs and pattern.admits(did, code, kind):
                    refs[ref] = (issuer_id, code)

    base = (select(units.c.issuer_id, issuers.c.did, units.c.code, units.c.kind)
            .join(issuers, issuers.c.id == units.c.issuer_id)
            .where(units.c.latest.is_(True), issuers.c.suspended.is_(False))
            .order_by(units.c.issuer_id, units.c.code))
    named = [pattern for pattern in wanted if pattern.code is not None]
    codes = {pattern.code for pattern in named}
    if codes:
        take([tuple(row) for row in connection.execute(base.where(units.c.code.in_(codes)))],
             named)
    broad = [pattern for pattern in wanted if pattern.code is None]
    room = limit + len(exclude)
    for pattern in broad:
        if len(refs) >= limit:
            break
        query = base
        if pattern.provider is not None:
            if pattern.provider not in dids:
                continue
            query = query.where(units.c.issuer_id == dids[pattern.provider])
        if pattern.kind is not None:
            query = query.where(units.c.kind == pattern.kind)
        take([tuple(row) for row in connection.execute(query.limit(room))], [pattern])
    found = latest_units(connection, list(refs.values()))
    return {ref: found[key] for ref, key in refs.items() if key in found}


def _compared(chosen: dict, compare: Sequence[str]) -> list[tuple[str, int]]:
    """The programmes to compare, without repeats, the chosen one first when it is among them."""
    programmes = list(dict.fromkeys(parse_programme(value) for value in compare))
    if len(programmes) > MAX_COMPARED:
        raise InvalidInput(f"compare at most {MAX_COMPARED} programmes",
                           {"compare": [f"at most {MAX_COMPARED} programmes"]})
    mine = (chosen["rule_set_id"], chosen["version"])
    return sorted(programmes, key=lambda item: item != mine)


def _comparison(rule_set_id: str, version: int, earned: dict, with_plan: dict) -> dict:
    total = next(item for item in with_plan["requirements"] if item["id"] == "total")
    return {"rule_set_id": rule_set_id, "version": version, "in_force": True,
            "programme": with_plan["programme"], "credits_now": earned["credits"],
            "credits_planned": with_plan["credits"],
            "missing": max(total["required"] - total["counted"], 0) if not total["met"] else 0,
            "missing_requirements": sum(1 for item in with_plan["requirements"]
                                        if not item["met"]),
            "complete": with_plan["complete"]}
