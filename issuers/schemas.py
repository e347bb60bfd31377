"""Marshmallow schemas of the issuer API: units, issue requests and results, batches,
revocations (an outcome's own schema is in `issuers.outcomes`, light for signing processes)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from credentials.model import KINDS
from credentials.proofs import CRYPTOSUITES
from issuers.outcomes import CODE
from ledger.records import RevocationReason

UNIT_KINDS = tuple(kind for kind in KINDS if kind != "transcript")
REASONS = tuple(reason.name.lower().replace("_", "-") for reason in RevocationReason)


class LevelSchema(Schema):
    """A level in a qualifications framework, with its EQF equivalent."""

    framework = fields.String(required=True, validate=validate.Length(1, 64))
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 64))
    eqf_level = fields.Integer(strict=True, validate=validate.Range(1, 8), load_default=None)


class UnitSchema(Schema):
    """A unit of the catalogue (course, module, certificate, MOOC, training) in one version."""

    code = fields.String(required=True, validate=CODE)
    version = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(1, 300))
    description = fields.String(load_default=None, validate=validate.Length(1, 5000))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    level = fields.Nested(LevelSchema, load_default=None)
    credit_value = fields.Float(
        required=True, validate=validate.Range(0, 1000, min_inclusive=False)
    )
    credit_scheme = fields.String(required=True, validate=validate.Length(1, 64))
    hours = fields.Float(load_default=None, validate=validate.Range(0, 100_000))
    learning_outcomes = fields.List(
        fields.String(validate=validate.Length(1, 1000)), load_default=list
    )
    category = fields.String(load_default=None, validate=validate.Length(1, 200))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(load_default=None)

    @validates_schema
    def _window(self, data: dict, **_: Any) -> None:
        if data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            raise ValidationError("must be after valid_from", "valid_until")


class UnitsSchema(Schema):
    """Units to add to the catalogue (new codes, or new versions of existing ones)."""

    units = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 10_000))


class UnitListSchema(Schema):
    """The issuer's catalogue."""

    units = fields.List(fields.Nested(UnitSchema), required=True)


class IssueSchema(Schema):
    """An issue request as JSON: outcomes, and the cryptosuite to sign with."""

    outcomes = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))
    cryptosuite = fields.String(load_default=CRYPTOSUITES[0], validate=validate.OneOf(CRYPTOSUITES))


class IssuedCredentialSchema(Schema):
    """One issued credential: its id, the learner's DID and its batch."""

    id = fields.String(required=True)
    learner = fields.String(required=True)
    batch = fields.String(required=True)


class IssuedSchema(Schema):
    """The result of an issue request."""

    credentials = fields.List(fields.Nested(IssuedCredentialSchema), required=True)
    batches = fields.List(fields.String(), required=True)


class BatchSchema(Schema):
    """A batch and its anchoring: root, transaction and block once anchored."""

    id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": ["open", "closed", "anchoring", "anchored", "failed"]},
    )
    size = fields.Integer(required=True)
    root = fields.String(allow_none=True)
    transaction_hash = fields.String(allow_none=True)
    block = fields.Integer(allow_none=True)
    chain_id = fields.Integer(required=True)
    contract = fields.String(required=True)
    error = fields.String(allow_none=True)
    opened_at = fields.String(required=True)
    closed_at = fields.String(allow_none=True)
    anchored_at = fields.String(allow_none=True)
    revocation = fields.Dict(allow_none=True)


class CredentialRecordSchema(Schema):
    """A credential as the issuer sees it: status, batch and the credential itself."""

    id = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["signed", "anchored", "revoking", "revoked"]}
    )
    learner = fields.String(required=True)
    unit = fields.String(required=True)
    unit_version = fields.Integer(required=True)
    session = fields.String(required=True)
    batch = fields.String(required=True)
    revocation = fields.Dict(allow_none=True)
    credential = fields.Dict(required=True, allow_none=True)


class RevokeSchema(Schema):
    """Why a credential or a batch is revoked."""

    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    note = fields.String(load_default=None, validate=validate.Length(1, 1000))


class RevocationSchema(Schema):
    """A revocation request and how far it got on chain."""

    id = fields.Integer(required=True)
    batch = fields.String(required=True)
    credential = fields.String(allow_none=True)
    reason = fields.String(required=True)
    note = fields.String(allow_none=True)
    status = fields.String(
        required=True, metadata={"enum": ["pending", "sent", "done", "failed"]}
    )
    transaction_hash = fields.String(allow_none=True)
    block = fields.Integer(allow_none=True)


class RuleSetPublishedSchema(Schema):
    """A published version of a conversion-rule set, awaiting or holding approval."""

    rule_set_id = fields.String(required=True)
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)
    transaction_hash = fields.String(required=True)
    block = fields.Integer(required=True)
    approved = fields.Boolean(required=True)
    impact = fields.Dict(metadata={"description": "whom the version affects, kept with it"})


def reason_code(name: str) -> int:
    """The on-chain reason code of a reason name such as `issued-in-error`."""
    return int(RevocationReason[name.upper().replace("-", "_")])


def reason_name(code: int) -> str:
    """The reason name of an on-chain reason code."""
    return RevocationReason(code).name.lower().replace("_", "-")
