"""Learning agreements (pre-approvals) in the JSON API: a learner asks and follows its requests;
the receiving institution lists its requests and approves or refuses them."""

from __future__ import annotations

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from bank.access import Reader, agreement_queue, read_agreement, record_read, staff_reader
from bank.agreements import (
    MAX_UNITS,
    agreement_json,
    agreement_row,
    agreements_of,
    approve,
    refuse,
    request_agreement,
    withdraw,
)
from bank.tables import AGREEMENT_STATUSES
from portal.api import Blueprint
from portal.api.auth import BEARER, INSTITUTION, LEARNER, Principal, requires
from portal.api.bank_schemas import REASONS, ListPageArgsSchema
from portal.runtime import runtime

blp = Blueprint("agreements_api", __name__, url_prefix="/api/v1",
                description="Learning agreements: pre-approvals of planned units")


class AgreementRequestSchema(Schema):
    """Planned units to pre-approve in a programme ("RULE_SET_ID@VERSION") by a date."""

    programme = fields.String(required=True, validate=validate.Length(1, 220))
    units = fields.List(fields.String(validate=validate.Length(1, 200)), required=True,
                        validate=validate.Length(1, MAX_UNITS))
    complete_by = fields.String(required=True, validate=validate.Length(1, 10))


class AgreementDecisionSchema(Schema):
    """The institution approves (signs) or refuses with reasons."""

    verdict = fields.String(required=True, validate=validate.OneOf(("approve", "refuse")))
    reasons = REASONS


class AgreementSchema(Schema):
    """An agreement: programme, units, agreed lines, state and the signed credential."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(AGREEMENT_STATUSES)})
    rule_set = fields.Dict(required=True)
    units = fields.List(fields.Dict(), required=True)
    complete_by = fields.String(required=True)
    lines = fields.List(fields.Dict(), required=True)
    agreed_credits = fields.Raw(required=True)
    reviewer = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), required=True)
    requested_at = fields.String(required=True)
    decided_at = fields.String(allow_none=True)
    credential = fields.Dict(allow_none=True)


class AgreementItemSchema(Schema):
    """An agreement in a list: a learner's own whole; in an institution's queue only its id,
    programme, status and dates."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(AGREEMENT_STATUSES)})
    rule_set = fields.Dict(required=True)
    complete_by = fields.String(required=True)
    requested_at = fields.String(required=True)
    decided_at = fields.String(allow_none=True)
    units = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})
    lines = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})
    agreed_credits = fields.Raw(metadata={"description": "The learner's own only."})
    reviewer = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), metadata={"description": "The learner's own only."})
    credential = fields.Dict(allow_none=True, metadata={"description": "The learner's own only."})


class AgreementListSchema(Schema):
    """A page of agreements, newest first."""

    agreements = fields.List(fields.Nested(AgreementItemSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})


def register(api: Api, app: Flask) -> None:
    """Register the agreements API."""
    api.register_blueprint(blp)


@blp.route("/agreements")
class Agreements(MethodView):
    """Learning agreements."""

    @requires(LEARNER, INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.arguments(ListPageArgsSchema, location="query")
    @blp.response(200, AgreementListSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """A page of a learner's own agreements, whole; or of the requests an institution
        received, as a queue (id, programme, status and dates: read one to see its planned
        units)."""
        engine = runtime().engine
        if principal.role == LEARNER:
            listed, later = agreements_of(engine, learner_id=principal.id, **query)
        else:
            listed, later = agreement_queue(engine, principal.id, **query)
        return {"agreements": listed, "next": later}

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(AgreementRequestSchema)
    @blp.response(201, AgreementSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Ask the programme's institution to pre-approve planned units ("ISSUER:CODE"), to be
        completed by a date; the same request again answers the same agreement."""
        opened = runtime()
        return request_agreement(opened.engine, opened.view, principal.record, **body)


@blp.route("/agreements/<agreement_id>")
class Agreement(MethodView):
    """One learning agreement."""

    @requires(LEARNER, INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.response(200, AgreementSchema)
    def get(self, agreement_id: str, principal: Principal) -> dict:
        """The agreement, with its signed credential once approved. The receiving institution
        reads it to decide (another gets 403), and the learner sees the read in their access
        log."""
        engine = runtime().engine
        if principal.role == LEARNER:
            return agreement_json(engine, agreement_row(engine, agreement_id,
                                                        learner_id=principal.id))
        return read_agreement(engine, _reader(principal), agreement_id)


@blp.route("/agreements/<agreement_id>/decision")
class Decision(MethodView):
    """The receiving institution's decision."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER])
    @blp.arguments(AgreementDecisionSchema)
    @blp.response(200, AgreementSchema)
    def post(self, body: dict, agreement_id: str, principal: Principal) -> dict:
        """Approve (the agreement is signed with your key and anchored with your next batch) or
        refuse with reasons; the same decision again answers the agreement as decided."""
        opened = runtime()
        if body["verdict"] == "approve":
            decided = approve(opened.engine, opened.view, agreement_id, principal.id,
                              reviewer=f"institution:{principal.id}", settings=opened.settings)
        else:
            decided = refuse(opened.engine, agreement_id, principal.id,
                             reviewer=f"institution:{principal.id}", reasons=body["reasons"])
        learner_id = agreement_row(opened.engine, agreement_id)["learner_id"]
        record_read(opened.engine, _reader(principal), learner_id=learner_id, what="agreement",
                    object_id=agreement_id, purpose="agreement-review")
        return decided


@blp.route("/agreements/<agreement_id>/withdrawal")
class Withdrawal(MethodView):
    """The learner withdraws a request."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, AgreementSchema)
    def post(self, agreement_id: str, principal: Principal) -> dict:
        """Withdraw a request the institution has not decided yet."""
        return withdraw(runtime().engine, agreement_id, principal.record)


def _reader(principal: Principal) -> Reader:
    """The institution's token, as a reader of learners' data."""
    return staff_reader(principal.role, principal.id, principal.id)
