"""The catalogue: each issuer's units (courses, modules, certificates, MOOCs…), versioned."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date

from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select

from credentials.model import Achievement, Level
from infra.errors import InvalidInput, NotFound
from issuers.schemas import UnitSchema
from issuers.tables import units

_UNIT = UnitSchema()
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
        connection.execute(insert(units).values(**row, created_at=time.time()))
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


def achievement_of(unit: dict) -> Achievement:
    """The OB3 achievement a unit row describes."""
    level = None
    if unit["framework"] is not None:
        level = Level(framework=unit["framework"], level=unit["level"], eqf_level=unit["eqf_level"])
    return Achievement(
        unit_code=unit["code"],
        title=unit["title"],
        description=unit["description"],
        kind=unit["kind"],
        credit_value=unit["credit_value"],
        credit_scheme=unit["credit_scheme"],
        level=level,
        hours=unit["hours"],
        field_of_study=unit["category"],
        learning_outcomes=tuple(json.loads(unit["learning_outcomes"])),
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
    }


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
