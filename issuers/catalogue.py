"""The catalogue: each issuer's units (courses, modules, certificates, MOOCs…), versioned."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select, tuple_, update

from credentials.model import KINDS
from infra.errors import FieldErrors, InvalidInput, NotFound
from issuers.schemas import UnitSchema
from issuers.tables import issuers, units
from rules.frameworks import eqf_level
from rules.outcomes import Outcome

_UNIT = UnitSchema()
SEARCH_PAGE = 20
MAX_SEARCH_PAGE = 100
MAX_SEARCH_TEXT = 100
MAX_SEARCH_CREDITS = 10_000
_CONTENT = (
    "kind",
    "title",
    "description",
    "framework",
    "level",
    "eqf_level",
    "credit_value",
    "credit_scheme",
    "hours",
    "category",
    "learning_outcomes",
    "valid_from",
    "valid_until",
)


def add_units(connection: Connection, issuer: dict, documents: Sequence[object]) -> list[dict]:
    """Add units (a changed unit gets the next version; an unchanged one is left as is)."""
    errors: dict[str, object] = {}
    loaded = []
    for index, document in enumerate(documents):
        try:
            unit = _UNIT.load(document if isinstance(document, dict) else {})
        except ValidationError as error:
            errors[str(index)] = error.messages
            continue
        scope_errors = _out_of_scope(issuer, unit)
        if scope_errors:
            errors[str(index)] = scope_errors
        loaded.append(unit)
    codes = [unit["code"] for unit in loaded]
    if len(set(codes)) != len(codes):
        errors["units"] = ["each unit code may appear once per request"]
    if errors:
        raise InvalidInput("some units are invalid; none was added", {"units": errors})
    stored = []
    for unit in loaded:
        row = _row(issuer["id"], unit)
        latest = _latest(connection, issuer["id"], unit["code"])
        if latest is not None and all(latest[name] == row[name] for name in _CONTENT):
            stored.append(latest)
            continue
        row["version"] = 1 if latest is None else latest["version"] + 1
        if latest is not None:
            connection.execute(update(units).where(
                units.c.issuer_id == issuer["id"], units.c.code == unit["code"],
                units.c.latest.is_(True)).values(latest=False))
        connection.execute(insert(units).values(**row, created_at=time.time(), latest=True))
        stored.append(row)
    return [unit_json(row) for row in stored]


def list_units(engine: Engine, issuer_id: str) -> list[dict]:
    """The latest version of each of the issuer's units, by code."""
    latest = (
        select(units.c.code, func.max(units.c.version).label("version"))
        .where(units.c.issuer_id == issuer_id)
        .group_by(units.c.code)
        .subquery()
    )
    query = (
        select(units)
        .join(latest, (units.c.code == latest.c.code) & (units.c.version == latest.c.version))
        .where(units.c.issuer_id == issuer_id)
        .order_by(units.c.code)
    )
    with engine.connect() as connection:
        return [unit_json(dict(row)) for row in connection.execute(query).mappings()]


def unit_versions(engine: Engine, issuer_id: str, code: str) -> list[dict]:
    """Every version of one unit, oldest first; `NotFound` if the issuer has no such unit."""
    query = (
        select(units)
        .where(units.c.issuer_id == issuer_id, units.c.code == code)
        .order_by(units.c.version)
    )
    with engine.connect() as connection:
        rows = [unit_json(dict(row)) for row in connection.execute(query).mappings()]
    if not rows:
        raise NotFound(f"no unit {code!r}")
    return rows


def catalogue_of(connection: Connection, issuer_id: str) -> dict[str, dict[int, dict]]:
    """Every version of every unit of an issuer: code → version → row."""
    result: dict[str, dict[int, dict]] = {}
    for row in connection.execute(select(units).where(units.c.issuer_id == issuer_id)).mappings():
        result.setdefault(row["code"], {})[row["version"]] = dict(row)
    return result


def search_units(connection: Connection, *, text: str | None = None, kind: str | None = None,
                 level: int | None = None, field: str | None = None,
                 min_credits: float | None = None, max_credits: float | None = None,
                 issuer_id: str | None = None, after: str | None = None,
                 limit: int = SEARCH_PAGE) -> list[dict]:
    """The latest version of the units that match, by issuer then code, `limit` of them after
    the unit `after` ("ISSUER:CODE"): `text` in the code or title (any case), `level` the unit's
    level in its framework, `field` its category; `InvalidInput` names a bad filter."""
    errors: FieldErrors = {}
    query = (select(units, issuers.c.name.label("issuer_name"),
                    issuers.c.name_zh.label("issuer_name_zh"))
             .join(issuers, issuers.c.id == units.c.issuer_id)
             .where(units.c.latest.is_(True)))
    if text is not None:
        if (not isinstance(text, str) or not 0 < len(text.strip()) <= MAX_SEARCH_TEXT
                or "\x00" in text):
            errors["text"] = [f"must be 1 to {MAX_SEARCH_TEXT} characters"]
        else:
            query = query.where(units.c.search_text.contains(text.strip().lower(),
                                                             autoescape=True))
    if kind is not None:
        if kind not in KINDS:
            errors["kind"] = [f"must be one of {', '.join(KINDS)}"]
        query = query.where(units.c.kind == kind)
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 99:
            errors["level"] = ["must be a whole number from 0 to 99"]
        query = query.where(units.c.level == level)
    if field is not None:
        if not isinstance(field, str) or not 0 < len(field) <= 200 or "\x00" in field:
            errors["field"] = ["must be 1 to 200 characters"]
        query = query.where(units.c.category == field)
    for name, value in (("min_credits", min_credits), ("max_credits", max_credits)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value <= MAX_SEARCH_CREDITS):
            errors[name] = [f"must be a number from 0 to {MAX_SEARCH_CREDITS}"]
    if (min_credits is not None and max_credits is not None and not errors.keys() & {
            "min_credits", "max_credits"} and min_credits > max_credits):
        errors["max_credits"] = ["must not be below min_credits"]
    if min_credits is not None and "min_credits" not in errors:
        query = query.where(units.c.credit_value >= min_credits)
    if max_credits is not None and "max_credits" not in errors:
        query = query.where(units.c.credit_value <= max_credits)
    if issuer_id is not None:
        query = query.where(units.c.issuer_id == issuer_id)
    if after is not None:
        position = parse_unit_ref(after) if isinstance(after, str) else None
        if position is None:
            errors["after"] = ["must be ISSUER:CODE, as the previous page's cursor"]
        else:
            query = query.where(tuple_(units.c.issuer_id, units.c.code) > position)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_PAGE:
        errors["limit"] = [f"must be a whole number from 1 to {MAX_SEARCH_PAGE}"]
    if errors:
        raise InvalidInput("the catalogue search is invalid", errors)
    rows = connection.execute(query.order_by(units.c.issuer_id, units.c.code).limit(limit))
    return [{**unit_json(dict(row)), "issuer": row["issuer_id"], "issuer_name": row["issuer_name"],
             "issuer_name_zh": row["issuer_name_zh"], "ref": f"{row['issuer_id']}:{row['code']}"}
            for row in rows.mappings()]


def parse_unit_ref(ref: str) -> tuple[str, str] | None:
    """(issuer id, unit code) of a reference "ISSUER:CODE"; None if it is not one."""
    issuer_id, colon, code = ref.partition(":")
    if (not colon or not issuer_id or not code or len(issuer_id) > 64 or len(code) > 64
            or "\x00" in ref):
        return None
    return issuer_id, code


def latest_units(connection: Connection,
                 refs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The latest version of each (issuer id, unit code) that exists, with its issuer's DID as
    `issuer_did`; unknown references are left out."""
    wanted = set(refs)
    if not wanted:
        return {}
    found: dict[tuple[str, str], dict] = {}
    query = (select(units, issuers.c.did.label("issuer_did"))
             .join(issuers, issuers.c.id == units.c.issuer_id)
             .where(units.c.issuer_id.in_({issuer for issuer, _code in wanted}),
                    units.c.code.in_({code for _issuer, code in wanted}))
             .order_by(units.c.version))
    for row in connection.execute(query).mappings():
        key = (row["issuer_id"], row["code"])
        if key in wanted:
            found[key] = dict(row)
    return found


def planned_outcome(unit: dict, *, learner: str, end_date: date) -> Outcome:
    """A catalogue unit (a row of `latest_units`) as an outcome the learner plans to complete:
    the unit's credits, no grade, completed on `end_date`."""
    framework, level = unit["framework"], unit["level"]
    return Outcome(
        id=f"planned:{unit['issuer_id']}:{unit['code']}",
        learner=learner,
        provider=unit["issuer_did"],
        unit_code=unit["code"],
        title=unit["title"],
        kind=unit["kind"],
        credits=Decimal(str(unit["credit_value"])),
        credit_scheme=unit["credit_scheme"],
        end_date=end_date,
        framework=framework,
        level=level,
        eqf_level=unit["eqf_level"] if unit["eqf_level"] is not None
        else (eqf_level(framework, level) if framework and level else None),
        hours=Decimal(str(unit["hours"])) if unit["hours"] is not None else None,
        planned=True,
    )


def unit_json(row: dict) -> dict:
    """A unit row as the API shows it."""
    level = None
    if row["framework"] is not None:
        level = {"framework": row["framework"], "level": row["level"]}
        if row["eqf_level"] is not None:
            level["eqf_level"] = row["eqf_level"]
    return {
        "code": row["code"],
        "version": row["version"],
        "title": row["title"],
        "description": row["description"],
        "kind": row["kind"],
        "level": level,
        "credit_value": row["credit_value"],
        "credit_scheme": row["credit_scheme"],
        "hours": row["hours"],
        "learning_outcomes": json.loads(row["learning_outcomes"]),
        "category": row["category"],
        "valid_from": date.fromisoformat(row["valid_from"]),
        "valid_until": date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
    }


def _row(issuer_id: str, unit: dict) -> dict:
    level = unit["level"] or {}
    return {
        "issuer_id": issuer_id,
        "code": unit["code"],
        "kind": unit["kind"],
        "title": unit["title"],
        "description": unit["description"] or unit["title"],
        "framework": level.get("framework"),
        "level": level.get("level"),
        "eqf_level": level.get("eqf_level"),
        "credit_value": unit["credit_value"],
        "credit_scheme": unit["credit_scheme"],
        "hours": unit["hours"],
        "category": unit["category"],
        "learning_outcomes": json.dumps(unit["learning_outcomes"], ensure_ascii=False),
        "valid_from": _iso(unit["valid_from"]),
        "valid_until": _iso(unit["valid_until"]),
        "search_text": search_text(unit["code"], unit["title"]),
    }


def search_text(code: str, title: str) -> str:
    """What a catalogue text search reads: the code and title in lower case."""
    return f"{code} {title}".lower()


def _latest(connection: Connection, issuer_id: str, code: str) -> dict | None:
    row = (
        connection.execute(
            select(units)
            .where(units.c.issuer_id == issuer_id, units.c.code == code)
            .order_by(units.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _out_of_scope(issuer: dict, unit: dict) -> dict[str, object]:
    """Field errors for a unit the issuer is not accredited to award."""
    errors: dict[str, object] = {}
    if unit["kind"] not in issuer["kinds"].split(","):
        errors["kind"] = [f"the issuer is accredited for {issuer['kinds']}, not {unit['kind']}"]
    level = unit["level"]
    if level is not None and level["level"] not in json.loads(issuer["levels"]):
        errors["level"] = {"level": [f"the issuer is not accredited for level {level['level']}"]}
    return errors


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
