"""What checking an outcome needs, and nothing that opens a database or a chain: the outcome's
schema, the learner its national id names (a peppered DID and a hashed identifier) and the
achievement of the unit it is on. Signing processes import it (through `issuers.signing`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from marshmallow import Schema, fields, validate

from credentials.dids import did_web
from credentials.model import (
    RESULT_STATUSES,
    RESULT_TYPES,
    Achievement,
    LearnerRef,
    Level,
    hashed_identifier,
)
from infra.errors import InvalidInput
from infra.secrets import derive_secret

PEPPER_PURPOSE = b"creditbank learner pepper"
_NATIONAL_ID = re.compile(r"^[0-9A-Z-]{4,64}$")
CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="1–64 letters, digits, '.', '_' or '-'"
)


class OutcomeSchema(Schema):
    """One learner's outcome on one unit, as a JSON object or a CSV row."""

    national_id = fields.String(required=True, validate=validate.Length(1, 64))
    unit = fields.String(required=True, validate=CODE)
    unit_version = fields.Integer(load_default=None, validate=validate.Range(1))
    session = fields.String(required=True, validate=validate.Length(1, 64))
    grade = fields.String(required=True, validate=validate.Length(1, 32))
    scale = fields.String(load_default="letter", validate=validate.OneOf(tuple(RESULT_TYPES)))
    result_status = fields.String(
        load_default="Completed", validate=validate.OneOf(RESULT_STATUSES)
    )
    credits = fields.Float(load_default=None)
    started_on = fields.Date(load_default=None)
    completed_on = fields.Date(required=True)
    valid_until = fields.Date(load_default=None)


def learner_pepper(master_key: bytes) -> bytes:
    """The bank's pepper for learner identifiers, derived from the master key."""
    return derive_secret(master_key, PEPPER_PURPOSE)


def normalise_national_id(value: str) -> str:
    """A national id without spaces, in upper case; refuses anything but digits, letters and '-'."""
    text = "".join(str(value).split()).upper()
    if not _NATIONAL_ID.match(text):
        raise InvalidInput(
            "national_id must be 4–64 letters, digits or '-'",
            {"national_id": ["must be 4–64 letters, digits or '-'"]},
        )
    return text


def learner_ref(national_id: str, pepper: bytes, did_host: str) -> LearnerRef:
    """The learner's DID under the bank and their hashed identifier, from a national id."""
    normalised = normalise_national_id(national_id)
    tag = hmac.new(pepper, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return LearnerRef(
        did=did_web(did_host, "learners", tag),
        identifiers=(hashed_identifier(normalised, salt=pepper.hex()),),
    )


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
